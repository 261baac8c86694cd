import { randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, expect, onTestFailed } from 'vitest';
import { DataError } from './data-error.js';
import type { DataErrorCode } from './data-error.js';

/*
 * Helpers shared by the tests (not part of the build: *.testkit.ts is excluded
 * from tsconfig.lib.json and is not a test file itself).
 */

/**
 * A fresh random seed for a property that must hold for any input; printed if
 * the current test fails, so the failure can be replayed.
 */
export function freshSeed(label = 'seed'): number {
  const seed = randomInt(0, 2 ** 47);
  onTestFailed(() => {
    console.error(`${label} = ${seed} (replay by fixing this seed)`);
  });
  return seed;
}

/**
 * A temporary directory, removed after the calling test file. Call it at the
 * top level of a test file or in a describe block.
 */
export function useTempDir(): { path(name: string): string; write(name: string, data: Uint8Array | string, gzip?: boolean): Promise<string> } {
  let dir: string | undefined;
  const ready = mkdtemp(join(tmpdir(), 'dtrain-data-')).then((d) => {
    dir = d;
    return d;
  });
  afterAll(async () => {
    await rm(await ready, { recursive: true, force: true });
  });
  const path = (name: string): string => {
    if (dir === undefined) throw new Error('useTempDir: the directory is not ready yet; await a write first');
    return join(dir, name);
  };
  return {
    path,
    async write(name, data, gzip = false) {
      const file = join(await ready, name);
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      await writeFile(file, gzip ? gzipSync(bytes) : bytes);
      return file;
    },
  };
}

/** Asserts that `action` throws (or rejects with) a DataError of `code` whose message matches `message`. */
export async function expectDataError(
  action: () => unknown,
  code: DataErrorCode,
  message: RegExp | string,
): Promise<DataError> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a DataError ${code}`).toBeInstanceOf(DataError);
  const error = caught as DataError;
  expect(error.code).toBe(code);
  if (typeof message === 'string') expect(error.message).toBe(message);
  else expect(error.message).toMatch(message);
  expect(error.message, 'error messages are one line').not.toContain('\n');
  return error;
}
