/**
 * Paths named in a config. Relative ones resolve against the config file's
 * folder, not the working directory, so a job runs the same from anywhere.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isHttpUrl, isShardPattern, matchShardPatternSync } from '@dtrain/data';
import { invalidField } from './config-error.js';
import { arrayOf, checkString, expectedGot, fieldPath, get, type Fields } from './validators.js';

/** An absolute path: `path` itself if absolute, else resolved against `configDir`. */
export function resolveConfigPath(configDir: string, path: string): string {
  return resolve(configDir, path);
}

/** The absolute path at `key`, or undefined when absent. Need not exist (it may be an output). */
export function optionalPath(fields: Fields, key: string, configDir: string): string | undefined {
  const value = get(fields, key);
  return value === undefined ? undefined : resolveConfigPath(configDir, checkString(value, fieldPath(fields, key)));
}

/**
 * The absolute path of an existing file at `key` (required). Checked now, while
 * the user is looking at the config, rather than minutes later when the data
 * is first read.
 */
export function requireFile(fields: Fields, key: string, configDir: string): string {
  const field = fieldPath(fields, key);
  const value = get(fields, key);
  if (value === undefined) throw invalidField(field, 'required');
  return existingFile(resolveConfigPath(configDir, checkString(value, field)), field);
}

/** What `stat` says of a path: a file, a folder, nothing there, or an error code. */
function pathKind(path: string): 'file' | 'folder' | 'other' | 'missing' | { readonly error: string } {
  try {
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats === undefined) return 'missing';
    return stats.isFile() ? 'file' : stats.isDirectory() ? 'folder' : 'other';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a parent of the path is a file, so the path cannot exist.
    return code === 'ENOTDIR' ? 'missing' : { error: code ?? String(error) };
  }
}

function existingFile(path: string, field: string): string {
  const kind = pathKind(path);
  if (typeof kind === 'object') throw invalidField(field, `cannot read ${path} (${kind.error})`);
  if (kind === 'missing') throw invalidField(field, `file not found: ${path}`);
  if (kind !== 'file') throw invalidField(field, `not a file: ${path}`);
  return path;
}

/** One path or glob of a sharded source, absolute; a glob must match at least one file now. */
function shardEntry(value: unknown, field: string, configDir: string): string {
  const text = checkString(value, field);
  // An http(s) URL is read by range when the data is read; a server has no folder to glob.
  if (isHttpUrl(text)) {
    if (isShardPattern(new URL(text).pathname)) throw invalidField(field, `${text}: a URL cannot be a glob; list one URL per shard`);
    return text;
  }
  const path = resolveConfigPath(configDir, text);
  // A file whose name merely looks like a glob (`scan[1].csv`) is that file, as the readers take it.
  if (!isShardPattern(path) || pathKind(path) === 'file') return existingFile(path, field);
  if (matchShardPatternSync(path).length === 0) throw invalidField(field, `no files match ${path}`);
  return path;
}

/**
 * The files of a sharded source at `key` (required): one path, a glob
 * (`data/train-*.csv`) or a list of them, made absolute. Plain paths must be
 * existing files and globs must match at least one; the reader expands globs
 * again when it reads, in sorted order. http(s) URLs are kept as written
 * (one per shard), for workers that read the data themselves.
 */
export function requireShardPaths(fields: Fields, key: string, configDir: string): string | string[] {
  const field = fieldPath(fields, key);
  const value = get(fields, key);
  if (value === undefined) throw invalidField(field, 'required');
  if (Array.isArray(value)) {
    return arrayOf(value, field, { of: 'paths or globs', nonEmpty: true }, (item, at) => shardEntry(item, at, configDir));
  }
  if (typeof value !== 'string' || value === '') throw expectedGot(field, 'a path, a glob or a non-empty list of paths', value);
  return shardEntry(value, field, configDir);
}

/** The absolute path of an existing folder at `key` (required). */
export function requireFolder(fields: Fields, key: string, configDir: string): string {
  const field = fieldPath(fields, key);
  const value = get(fields, key);
  if (value === undefined) throw invalidField(field, 'required');
  const path = resolveConfigPath(configDir, checkString(value, field));
  const kind = pathKind(path);
  if (typeof kind === 'object') throw invalidField(field, `cannot read ${path} (${kind.error})`);
  if (kind === 'missing') throw invalidField(field, `folder not found: ${path}`);
  if (kind !== 'folder') throw invalidField(field, `not a folder: ${path}`);
  return path;
}
