import { describe, expect, it } from 'vitest';
import { ChunkCache } from './chunk-cache.js';
import { chunkCount, chunkRange, chunksForSamples, gatherBatch, sampleSource } from './chunks.js';
import type { SampleSource } from './chunks.js';
import { generateSynthetic } from './synthetic-reader.js';
import { createRng } from './rng.js';
import { expectDataError, freshSeed } from './test-support.testkit.js';

/** A source whose feature values encode (sample, position), so misplaced rows show. */
function numbered(numSamples: number, featureSize: number, labelSize: number): SampleSource {
  return {
    features: Float32Array.from({ length: numSamples * featureSize }, (_, i) => Math.floor(i / featureSize) * 1000 + (i % featureSize)),
    labels: Float32Array.from({ length: numSamples * labelSize }, (_, i) => -(Math.floor(i / labelSize) * 1000 + (i % labelSize))),
    featureSize,
    labelSize,
  };
}

describe('chunk arithmetic', () => {
  it('splits any sample count into chunks that tile it', () => {
    const rng = createRng(freshSeed());
    for (let round = 0; round < 50; round++) {
      const numSamples = rng.nextInt(1000);
      const chunkSize = 1 + rng.nextInt(100);
      const chunks = chunkCount(numSamples, chunkSize);
      let next = 0;
      for (let c = 0; c < chunks; c++) {
        const { start, count } = chunkRange(c, chunkSize, numSamples);
        expect(start).toBe(next);
        expect(count).toBeGreaterThan(0);
        expect(count).toBeLessThanOrEqual(chunkSize);
        next += count;
      }
      expect(next).toBe(numSamples);
    }
  });

  it('finds the sorted unique chunks of a batch', () => {
    expect(chunksForSamples(Uint32Array.from([25, 3, 99, 20, 4, 100]), 10)).toEqual([0, 2, 9, 10]);
    expect(chunksForSamples([], 10)).toEqual([]);
  });

  it('rejects a chunk past the end and a bad chunk size', async () => {
    await expectDataError(() => chunkRange(3, 10, 30), 'DTRAIN_DATA_RANGE', 'chunk 3 does not exist; expected 0..2 (30 samples in chunks of 10)');
    await expectDataError(() => chunkCount(10, 0), 'DTRAIN_DATA_OPTIONS', 'chunkSize: expected a positive integer, got 0');
  });
});

describe('gatherBatch', () => {
  it('copies the rows of any sample ids, in order', () => {
    const rng = createRng(freshSeed());
    const source = numbered(50, 1 + rng.nextInt(40), 1 + rng.nextInt(3));
    const ids = Array.from({ length: 1 + rng.nextInt(30) }, () => rng.nextInt(50));
    const { x, y } = gatherBatch(source, ids);
    ids.forEach((id, i) => {
      for (let f = 0; f < source.featureSize; f++) expect(x[i * source.featureSize + f]).toBe(id * 1000 + f);
      for (let l = 0; l < source.labelSize; l++) expect(y[i * source.labelSize + l]).toBe(-(id * 1000 + l));
    });
  });

  it('fills preallocated buffers, returning views of the used part', () => {
    const source = numbered(10, 3, 1);
    const outX = new Float32Array(30).fill(7);
    const outY = new Float32Array(10).fill(7);
    const { x, y } = gatherBatch(source, [4, 2], outX, outY);
    expect(x.buffer).toBe(outX.buffer);
    expect(Array.from(x)).toEqual([4000, 4001, 4002, 2000, 2001, 2002]);
    expect(Array.from(y)).toEqual([-4000, -2000]);
    expect(outX[6]).toBe(7);
  });

  it('works on a dataset through sampleSource', () => {
    const ds = generateSynthetic({ numSamples: 5, featureShape: [2, 2], numClasses: 3, labelEncoding: 'onehot', seed: 3 });
    const { x, y } = gatherBatch(sampleSource(ds), [3]);
    expect(Array.from(x)).toEqual(Array.from(ds.features.subarray(12, 16)));
    expect(Array.from(y)).toEqual(Array.from(ds.labels.subarray(9, 12)));
  });

  it('rejects sample ids outside the source and buffers too small', async () => {
    const source = numbered(10, 3, 1);
    await expectDataError(() => gatherBatch(source, [1, 10]), 'DTRAIN_DATA_RANGE', 'sample 10 (batch position 1) is outside the data; expected 0..9');
    await expectDataError(() => gatherBatch(source, [1, 2], new Float32Array(5)), 'DTRAIN_DATA_OPTIONS', 'outX: preallocated buffer holds 5 floats; the batch needs 6');
  });
});

describe('ChunkCache', () => {
  it('assembles any batch from received chunks exactly as from the whole set', () => {
    const rng = createRng(freshSeed());
    const numSamples = 1 + rng.nextInt(500);
    const chunkSize = 1 + rng.nextInt(64);
    const source = numbered(numSamples, 1 + rng.nextInt(20), 1 + rng.nextInt(4));
    const cache = new ChunkCache({ featureSize: source.featureSize, labelSize: source.labelSize, chunkSize, numSamples });
    const ids = Array.from({ length: 1 + rng.nextInt(100) }, () => rng.nextInt(numSamples));
    expect(cache.missingChunks(ids)).toEqual(chunksForSamples(ids, chunkSize));
    for (const chunkId of chunksForSamples(ids, chunkSize)) {
      const { start, count } = chunkRange(chunkId, chunkSize, numSamples);
      cache.add(
        chunkId,
        start,
        count,
        source.features.slice(start * source.featureSize, (start + count) * source.featureSize),
        source.labels.slice(start * source.labelSize, (start + count) * source.labelSize),
      );
    }
    expect(cache.missingChunks(ids)).toEqual([]);
    const fromCache = cache.gather(ids);
    const direct = gatherBatch(source, ids);
    expect(Array.from(fromCache.x)).toEqual(Array.from(direct.x));
    expect(Array.from(fromCache.y)).toEqual(Array.from(direct.y));
  });

  it('names the missing chunk', async () => {
    const cache = new ChunkCache({ featureSize: 2, labelSize: 1, chunkSize: 4 });
    cache.add(0, 0, 4, new Float32Array(8), new Float32Array(4));
    expect(cache.has(0)).toBe(true);
    expect(cache.has(1)).toBe(false);
    await expectDataError(() => cache.gather([1, 5]), 'DTRAIN_DATA_CHUNK', 'sample 5 (batch position 1) needs chunk 1, which this cache does not hold (it holds 1 chunks)');
  });

  it('rejects chunks that do not fit the layout', async () => {
    const cache = new ChunkCache({ featureSize: 2, labelSize: 1, chunkSize: 4, numSamples: 10 });
    await expectDataError(() => cache.add(1, 0, 4, new Float32Array(8), new Float32Array(4)), 'DTRAIN_DATA_CHUNK', 'chunk 1: starts at sample 0; expected 4 (chunk size 4)');
    await expectDataError(() => cache.add(2, 8, 4, new Float32Array(8), new Float32Array(4)), 'DTRAIN_DATA_CHUNK', 'chunk 2: holds 4 samples; expected 2');
    await expectDataError(() => cache.add(0, 0, 4, new Float32Array(7), new Float32Array(4)), 'DTRAIN_DATA_CHUNK', 'chunk 0: has 7 feature floats; expected 4 × 2');
    await expectDataError(() => cache.add(3, 12, 1, new Float32Array(2), new Float32Array(1)), 'DTRAIN_DATA_CHUNK', 'chunk 3: starts past the last sample 9');
    expect(cache.size).toBe(0);
  });
});
