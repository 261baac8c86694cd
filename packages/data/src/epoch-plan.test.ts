import { describe, expect, it } from 'vitest';
import { batchCount, epochOrder, planEpoch } from './epoch-plan.js';
import { createRng } from './rng.js';
import { expectDataError, freshSeed } from './test-support.testkit.js';

describe('planEpoch', () => {
  it('covers every sample exactly once, in batches of batchSize with the remainder last', () => {
    const rng = createRng(freshSeed());
    for (let round = 0; round < 20; round++) {
      const numSamples = rng.nextInt(500);
      const batchSize = 1 + rng.nextInt(64);
      const plan = planEpoch({ numSamples, batchSize, seed: rng.nextUint32(), epoch: rng.nextInt(100) });
      expect(plan).toHaveLength(batchCount(numSamples, batchSize));
      const seen = new Uint8Array(numSamples);
      plan.forEach((batch, i) => {
        expect(batch.batchId).toBe(i);
        const expectedSize = i < plan.length - 1 ? batchSize : numSamples - batchSize * (plan.length - 1);
        expect(batch.sampleIds.length).toBe(expectedSize);
        for (const id of batch.sampleIds) seen[id] = (seen[id] as number) + 1;
      });
      expect(seen.every((c) => c === 1)).toBe(true);
    }
  });

  it('is reproducible from (seed, epoch) and differs between epochs and seeds', () => {
    const seed = freshSeed();
    const options = { numSamples: 100, batchSize: 8, seed, epoch: 3 };
    const ids = (o: typeof options) => planEpoch(o).map((b) => Array.from(b.sampleIds));
    expect(ids(options)).toEqual(ids({ ...options }));
    expect(ids({ ...options, epoch: 4 })).not.toEqual(ids(options));
    expect(ids({ ...options, seed: seed + 1 })).not.toEqual(ids(options));
    expect(planEpoch(options).every((b) => b.epoch === 3)).toBe(true);
  });

  it('pins the order for a fixed seed, so a resumed job sees the same epoch', () => {
    expect(Array.from(epochOrder({ numSamples: 10, batchSize: 4, seed: 7, epoch: 0 }))).toEqual(PINNED_ORDER);
  });

  it('keeps id order when shuffle is false', () => {
    expect(Array.from(epochOrder({ numSamples: 5, batchSize: 2, seed: 1, epoch: 2, shuffle: false }))).toEqual([0, 1, 2, 3, 4]);
  });

  it('gives each batch its own buffer', () => {
    const [a, b] = planEpoch({ numSamples: 10, batchSize: 5, seed: 1, epoch: 0 });
    expect(a?.sampleIds.buffer).not.toBe(b?.sampleIds.buffer);
    expect(a?.sampleIds.byteLength).toBe(a?.sampleIds.buffer.byteLength);
  });

  it('rejects bad options naming the field', async () => {
    await expectDataError(() => planEpoch({ numSamples: 10, batchSize: 0, seed: 1, epoch: 0 }), 'DTRAIN_DATA_OPTIONS', 'epoch plan: batchSize: expected an integer ≥ 1, got 0');
    await expectDataError(() => planEpoch({ numSamples: -1, batchSize: 2, seed: 1, epoch: 0 }), 'DTRAIN_DATA_OPTIONS', 'epoch plan: numSamples: expected a non-negative integer, got -1');
  });
});

const PINNED_ORDER = [6, 3, 0, 9, 8, 7, 1, 4, 2, 5];
