import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx } from '@dtrain/data';
import { afterAll, describe, expect, it } from 'vitest';
import { readIdx } from './read-idx.js';

const dir = mkdtempSync(join(tmpdir(), 'dtrain-read-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readIdx', () => {
  it('reads an IDX file, plain or gzip-compressed, as shape and float32 data', async () => {
    const values = Array.from({ length: 2 * 3 * 4 }, () => Math.floor(Math.random() * 256));
    const bytes = encodeIdx(0x08, [2, 3, 4], values);
    writeFileSync(join(dir, 'plain.idx'), bytes);
    writeFileSync(join(dir, 'packed.idx.gz'), gzipSync(bytes));
    for (const file of ['plain.idx', 'packed.idx.gz']) {
      const idx = await readIdx(join(dir, file));
      expect(idx.shape).toEqual([2, 3, 4]);
      expect(idx.data).toBeInstanceOf(Float32Array);
      expect(Array.from(idx.data)).toEqual(values);
    }
  });

  it('the shipped MNIST labels start 7 2 1 0 4', async () => {
    const labels = await readIdx(new URL('../../../../examples/data/mnist/t10k-labels-idx1-ubyte.gz', import.meta.url).pathname);
    expect(labels.shape).toEqual([10000]);
    expect(Array.from(labels.data.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
  });

  it('a missing file is a DataError naming it', async () => {
    await expect(readIdx(join(dir, 'nope.idx'))).rejects.toMatchObject({ name: 'DataError', code: 'DTRAIN_DATA_NOT_FOUND', message: `${join(dir, 'nope.idx')}: file not found` });
  });
});
