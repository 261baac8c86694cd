import { statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { glob, globSync, isDynamicPattern } from 'tinyglobby';
import { DataError, dataErrorAt } from './data-error.js';

/**
 * Where a sharded source's files are: one path, a glob (`data/train-*.csv`)
 * or a list of paths and globs. A glob's matches are read in sorted order, a
 * list in its own order, as one dataset.
 */
export type ShardPaths = string | readonly string[];

/**
 * Whether `path` has glob characters. {@link expandShardPaths} still reads a
 * file of that very name when one exists (`scan[1].csv`).
 */
export function isShardPattern(path: string): boolean {
  return isDynamicPattern(path);
}

/**
 * A pattern split into the folder it can only match inside and the rest.
 * Globbing from that folder keeps the walk from starting at the file system
 * root, and a leading folder that exists under its literal name stays literal
 * even if it looks like a pattern (`runs (old)/…`, `data[1]/…`): people name
 * folders that way far more often than they mean a glob there.
 */
function splitPattern(pattern: string): { readonly base: string; readonly rest: string } {
  const parts = resolve(pattern).split(sep);
  let cut = 1;
  while (cut < parts.length - 1) {
    const part = parts[cut] as string;
    if (isDynamicPattern(part) && !isFolder(parts.slice(0, cut + 1).join(sep))) break;
    cut++;
  }
  const base = parts.slice(0, cut).join(sep) || sep;
  return { base, rest: parts.slice(cut).join('/') };
}

function isFolder(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

const GLOB_OPTIONS = { onlyFiles: true, expandDirectories: false, dot: false } as const;

/** Sorts by code point, not locale, so every machine reads shards in the same order. */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Files matching `pattern`, absolute and sorted; empty when none match. */
export async function matchShardPattern(pattern: string): Promise<string[]> {
  const { base, rest } = splitPattern(pattern);
  const found = await glob(rest, { ...GLOB_OPTIONS, cwd: base });
  return found.map((file) => join(base, file)).sort(byCodePoint);
}

/** As {@link matchShardPattern}, synchronously: for config checks that run before anything is read. */
export function matchShardPatternSync(pattern: string): string[] {
  const { base, rest } = splitPattern(pattern);
  return globSync(rest, { ...GLOB_OPTIONS, cwd: base }).map((file) => join(base, file)).sort(byCodePoint);
}

/**
 * The files of a sharded source, in reading order. A plain path is returned
 * as is (reading it reports a missing file); a glob that matches nothing is
 * DTRAIN_DATA_NOT_FOUND naming the pattern, since there is no file to name.
 */
export async function expandShardPaths(paths: ShardPaths): Promise<string[]> {
  const entries = typeof paths === 'string' ? [paths] : paths;
  const files: string[] = [];
  for (const entry of entries) {
    // A file whose name merely looks like a pattern (`scan[1].csv`) is that file.
    if (!isShardPattern(entry) || statSync(entry, { throwIfNoEntry: false })?.isFile() === true) {
      files.push(entry);
      continue;
    }
    const matches = await matchShardPattern(entry);
    if (matches.length === 0) {
      throw new DataError('DTRAIN_DATA_NOT_FOUND', `${entry}: no files match this pattern`, { file: entry });
    }
    // Keep a relative pattern's matches relative, as the user wrote them.
    files.push(...(isAbsolute(entry) ? matches : matches.map((file) => relative(process.cwd(), file))));
  }
  return files;
}

/**
 * Checks a reader option that names shard files: a non-empty string or a
 * non-empty array of them (DTRAIN_DATA_OPTIONS otherwise, naming the field).
 */
export function checkShardPaths(value: unknown, where: string, field: string): ShardPaths {
  if (typeof value === 'string' && value !== '') return value;
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v !== '')) {
    return value as string[];
  }
  const shown = value === undefined ? 'nothing' : JSON.stringify(value);
  throw new DataError('DTRAIN_DATA_OPTIONS', `${where}: ${field}: expected a path, a glob or a non-empty list of paths, got ${shown}`);
}

/** How a sharded source names itself in `Dataset.source`: the path, or the first file and how many more. */
export function describeShards(files: readonly string[]): string {
  const first = files[0] ?? '(no files)';
  return files.length <= 1 ? first : `${first} (+${files.length - 1} more shards)`;
}

/**
 * Features and labels shards are paired in order: as many labels files as
 * features files, else DTRAIN_DATA_SHAPE naming the labels option.
 * `what` names the features option in the message ('images', 'features').
 */
export function checkPairedShards(what: string, featuresSpec: ShardPaths, featureFiles: readonly string[], labelsSpec: ShardPaths, labelFiles: readonly string[]): void {
  if (featureFiles.length === labelFiles.length) return;
  const name = (spec: ShardPaths): string => (typeof spec === 'string' ? spec : JSON.stringify(spec));
  throw dataErrorAt(
    'DTRAIN_DATA_SHAPE',
    name(labelsSpec),
    undefined,
    `names ${labelFiles.length} labels files but ${what} ${name(featuresSpec)} names ${featureFiles.length}; expected one labels file per ${what} file`,
  );
}
