import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkShardPaths, describeShards, expandShardPaths, isShardPattern, matchShardPatternSync } from './shard-paths.js';
import { expectDataError, useTempDir } from './test-support.testkit.js';

const temp = useTempDir();

async function files(dir: string, names: readonly string[]): Promise<string> {
  await temp.write('.keep', '');
  const root = temp.path(dir);
  await mkdir(root, { recursive: true });
  for (const name of names) {
    await mkdir(join(root, name, '..'), { recursive: true });
    await writeFile(join(root, name), name);
  }
  return root;
}

describe('shard paths', () => {
  it('tells globs from plain paths', () => {
    expect(isShardPattern('data/train-*.csv')).toBe(true);
    expect(isShardPattern('shards/images-{0,1}.idx.gz')).toBe(true);
    expect(isShardPattern('data/train.csv')).toBe(false);
  });

  it('expands a glob in code-point order, files only, across folders', async () => {
    const root = await files('sorted', ['b-10.csv', 'b-2.csv', 'B-3.csv', 'a/b-1.csv', 'b-dir.csv/x', '.b-hidden.csv']);
    expect(await expandShardPaths(join(root, 'b-*.csv'))).toEqual([join(root, 'b-10.csv'), join(root, 'b-2.csv')]);
    expect(await expandShardPaths(join(root, '**/[bB]-*.csv'))).toEqual(['B-3.csv', 'a/b-1.csv', 'b-10.csv', 'b-2.csv'].map((f) => join(root, f)));
    expect(matchShardPatternSync(join(root, 'b-*.csv'))).toEqual([join(root, 'b-10.csv'), join(root, 'b-2.csv')]);
  });

  it('keeps a list in its order, expanding the globs in it, and keeps relative patterns relative', async () => {
    const root = await files('listed', ['x-1', 'x-0', 'y']);
    expect(await expandShardPaths([join(root, 'y'), join(root, 'x-*')])).toEqual([join(root, 'y'), join(root, 'x-0'), join(root, 'x-1')]);
    const rel = relative(process.cwd(), join(root, 'x-*'));
    expect(await expandShardPaths(rel)).toEqual([relative(process.cwd(), join(root, 'x-0')), relative(process.cwd(), join(root, 'x-1'))]);
  });

  it('takes glob characters in the fixed folder part literally', async () => {
    const root = await files('runs (old)', ['s-0.npy', 's-1.npy']);
    expect(await expandShardPaths(join(root, 's-*.npy'))).toEqual([join(root, 's-0.npy'), join(root, 's-1.npy')]);
  });

  it('reads a file whose name looks like a pattern as that file', async () => {
    const root = await files('literal', ['scan[1].csv', 'scan1.csv']);
    expect(await expandShardPaths(join(root, 'scan[1].csv'))).toEqual([join(root, 'scan[1].csv')]);
    expect(await expandShardPaths(join(root, 'scan[0-9].csv'))).toEqual([join(root, 'scan1.csv')]);
  });

  it('passes a plain path through, and names a pattern that matches nothing', async () => {
    expect(await expandShardPaths('/no/such/file.csv')).toEqual(['/no/such/file.csv']);
    const pattern = join(await files('none', []), 'part-*.csv');
    await expectDataError(() => expandShardPaths(pattern), 'DTRAIN_DATA_NOT_FOUND', `${pattern}: no files match this pattern`);
  });

  it('checks the option and describes the files', async () => {
    expect(checkShardPaths(['a', 'b'], 'r', 'path')).toEqual(['a', 'b']);
    await expectDataError(() => checkShardPaths(['a', 3], 'csv reader', 'path'), 'DTRAIN_DATA_OPTIONS', 'csv reader: path: expected a path, a glob or a non-empty list of paths, got ["a",3]');
    expect(describeShards(['a.csv'])).toBe('a.csv');
    expect(describeShards(['a.csv', 'b.csv', 'c.csv'])).toBe('a.csv (+2 more shards)');
  });
});
