/**
 * Reading a job config file: the `dtrain` CLI's way in.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import { parseConfigText } from './config-text.js';
import { parseJobConfig, type JobConfig } from './job-config.js';

/**
 * Loads, parses (YAML or JSON, told apart by name and content) and validates
 * a job config file. Relative paths inside resolve against the file's folder.
 * @param path the config file, absolute or relative to the working directory.
 * @throws ConfigError: DTRAIN_CONFIG_NOT_FOUND when the file cannot be read,
 *   DTRAIN_CONFIG_PARSE for a syntax error (`file:line:col: …`),
 *   DTRAIN_CONFIG_INVALID for a bad field.
 */
export async function loadJobConfig(path: string): Promise<JobConfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError('DTRAIN_CONFIG_NOT_FOUND', describeReadError(file, error), { source: file, cause: error });
  }
  return parseJobConfig(parseConfigText(text, file), dirname(file), file);
}

function describeReadError(file: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return `config file not found: ${file}`;
  if (code === 'EISDIR') return `config file is a directory, expected a file: ${file}`;
  return `config file cannot be read: ${file} (${code ?? String(error)})`;
}
