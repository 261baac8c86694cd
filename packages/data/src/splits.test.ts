import { describe, expect, it } from 'vitest';
import type { Dataset } from './dataset.js';
import { sliceSamples, splitIds, splitValidation, subsetDataset } from './splits.js';
import { createRng } from './rng.js';
import { expectDataError, freshSeed } from './test-support.testkit.js';

/** Sample i has features [i, i + 0.5] and label i % 3, so rows can be traced. */
function traced(numSamples: number): Dataset {
  return {
    numSamples,
    featureShape: [2],
    labelShape: [1],
    labelEncoding: 'index',
    numClasses: 3,
    features: Float32Array.from({ length: numSamples * 2 }, (_, i) => Math.floor(i / 2) + (i % 2) * 0.5),
    labels: Float32Array.from({ length: numSamples }, (_, i) => i % 3),
    source: 'traced',
  };
}

const ids = (ds: Dataset): number[] => Array.from({ length: ds.numSamples }, (_, i) => ds.features[2 * i] as number);

describe('splitValidation', () => {
  it('partitions any dataset into train and validation of the requested size', () => {
    const rng = createRng(freshSeed());
    for (let round = 0; round < 20; round++) {
      const n = rng.nextInt(300);
      const fraction = rng.next() * 0.9;
      const { train, validation } = splitValidation(traced(n), fraction, rng.nextUint32());
      expect(validation.numSamples).toBe(Math.round(fraction * n));
      expect(train.numSamples + validation.numSamples).toBe(n);
      const all = [...ids(train), ...ids(validation)].sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
      // Labels travel with their rows, and each part keeps the original order.
      for (const part of [train, validation]) {
        ids(part).forEach((id, i) => expect(part.labels[i]).toBe(id % 3));
        expect(ids(part)).toEqual([...ids(part)].sort((a, b) => a - b));
      }
    }
  });

  it('is reproducible from the seed and differs across seeds', () => {
    const seed = freshSeed();
    const ds = traced(200);
    expect(ids(splitValidation(ds, 0.2, seed).validation)).toEqual(ids(splitValidation(ds, 0.2, seed).validation));
    expect(ids(splitValidation(ds, 0.2, seed + 1).validation)).not.toEqual(ids(splitValidation(ds, 0.2, seed).validation));
  });

  it('gives an empty validation set for fraction 0', () => {
    const { train, validation } = splitValidation(traced(10), 0, 1);
    expect(validation.numSamples).toBe(0);
    expect(validation.features.length).toBe(0);
    expect(ids(train)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('holds out the samples splitIds names, for any size, fraction and seed', () => {
    const rng = createRng(freshSeed());
    for (let round = 0; round < 20; round++) {
      const n = rng.nextInt(50);
      const fraction = rng.next() * 0.9;
      const seed = rng.nextUint32();
      const split = splitValidation(traced(n), fraction, seed);
      const { train, validation } = splitIds(n, fraction, seed);
      expect(Array.from(train)).toEqual(ids(split.train));
      expect(Array.from(validation)).toEqual(ids(split.validation));
    }
  });

  it('splitIds gives the ids splitValidation gave before it existed (fixed seed)', () => {
    // Recorded from splitValidation(traced(20), 0.25, 42) before splitIds was factored out of it.
    const { train, validation } = splitIds(20, 0.25, 42);
    expect(Array.from(validation)).toEqual([1, 2, 10, 11, 18]);
    expect(Array.from(train)).toEqual([0, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17, 19]);
    expect(ids(splitValidation(traced(20), 0.25, 42).validation)).toEqual([1, 2, 10, 11, 18]);
  });

  it('splitIds rejects a bad fraction or sample count', async () => {
    await expectDataError(() => splitIds(10, 1, 1), 'DTRAIN_DATA_OPTIONS', 'validation fraction: expected a number in [0, 1), got 1');
    await expectDataError(() => splitIds(-1, 0.1, 1), 'DTRAIN_DATA_OPTIONS', 'validation split: numSamples: expected an integer in [0, 2^32), got -1');
    await expectDataError(() => splitIds(2.5, 0.1, 1), 'DTRAIN_DATA_OPTIONS', 'validation split: numSamples: expected an integer in [0, 2^32), got 2.5');
  });

  it('rejects a fraction outside [0, 1)', async () => {
    await expectDataError(() => splitValidation(traced(10), 1, 1), 'DTRAIN_DATA_OPTIONS', 'validation fraction: expected a number in [0, 1), got 1');
    await expectDataError(() => splitValidation(traced(10), -0.1, 1), 'DTRAIN_DATA_OPTIONS', 'validation fraction: expected a number in [0, 1), got -0.1');
  });
});

describe('subsetDataset and sliceSamples', () => {
  it('subsets in the given order, copying rows', () => {
    const ds = traced(10);
    const sub = subsetDataset(ds, [7, 2, 7]);
    expect(ids(sub)).toEqual([7, 2, 7]);
    expect(Array.from(sub.labels)).toEqual([1, 2, 1]);
    expect(sub.features.buffer).not.toBe(ds.features.buffer);
  });

  it('slices as views of the original', () => {
    const ds = traced(10);
    const slice = sliceSamples(ds, 3, 4);
    expect(ids(slice)).toEqual([3, 4, 5, 6]);
    expect(Array.from(slice.labels)).toEqual([0, 1, 2, 0]);
    expect(slice.features.buffer).toBe(ds.features.buffer);
    expect(sliceSamples(ds, 10, 0).numSamples).toBe(0);
  });

  it('rejects indices outside the dataset', async () => {
    const ds = traced(10);
    await expectDataError(() => sliceSamples(ds, 8, 3), 'DTRAIN_DATA_RANGE', 'traced: samples [8, 11) are outside the dataset; expected a range within [0, 10)');
    await expectDataError(() => subsetDataset(ds, [0, 10]), 'DTRAIN_DATA_RANGE', 'sample 10 (batch position 1) is outside the data; expected 0..9');
  });
});
