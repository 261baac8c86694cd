/**
 * Paths named in a config. Relative ones resolve against the config file's
 * folder, not the working directory, so a job runs the same from anywhere.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { invalidField } from './config-error.js';
import { checkString, fieldPath, get, type Fields } from './validators.js';

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
  const path = resolveConfigPath(configDir, checkString(value, field));
  let stats;
  try {
    stats = statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a parent of the path is a file, so the path cannot exist.
    if (code !== 'ENOTDIR') throw invalidField(field, `cannot read ${path} (${code ?? String(error)})`);
  }
  if (stats === undefined) throw invalidField(field, `file not found: ${path}`);
  if (!stats.isFile()) throw invalidField(field, `not a file: ${path}`);
  return path;
}
