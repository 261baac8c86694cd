import { describe, expect, it } from 'vitest';
import { CLUSTER_TARGET, clusterRow, psBoundSeconds, steadySteps, type ClusterRun } from './cluster-bound.js';

const M = 64e6;
const B = 62.5e6; // 500 Mbit/s

describe('psBoundSeconds', () => {
  it('is 2NM/(KB) while the shards are the bottleneck and 2M/B once there are as many shards as workers', () => {
    const bound = (shards: number): number => psBoundSeconds({ modelBytes: M, workers: 4, shards, bytesPerSecond: B });
    expect(bound(1)).toBeCloseTo(8.192, 12);
    expect(bound(2)).toBeCloseTo(4.096, 12);
    expect(bound(4)).toBeCloseTo(2.048, 12);
    expect(bound(8)).toBeCloseTo(2.048, 12);
  });

  it('bounds the shard inside the coordinator (K = 0) as one shard', () => {
    const input = { modelBytes: M, workers: 3, bytesPerSecond: B };
    expect(psBoundSeconds({ ...input, shards: 0 })).toBe(psBoundSeconds({ ...input, shards: 1 }));
  });

  it('never grows with K and never drops below a worker pushing and pulling M, for any inputs', () => {
    for (let i = 0; i < 200; i += 1) {
      const modelBytes = 1 + Math.random() * 1e9;
      const bytesPerSecond = 1e3 + Math.random() * 1e10;
      const workers = 1 + Math.floor(Math.random() * 64);
      let previous = Number.POSITIVE_INFINITY;
      for (let shards = 1; shards <= 70; shards += 1) {
        const b = psBoundSeconds({ modelBytes, workers, shards, bytesPerSecond });
        expect(b).toBeLessThanOrEqual(previous);
        expect(b).toBeGreaterThanOrEqual((2 * modelBytes) / bytesPerSecond);
        previous = b;
      }
    }
  });

  it('rejects inputs without a meaning', () => {
    const ok = { modelBytes: M, workers: 4, shards: 1, bytesPerSecond: B };
    for (const bad of [{ modelBytes: 0 }, { bytesPerSecond: Number.NaN }, { workers: 0 }, { workers: 1.5 }, { shards: -1 }]) {
      expect(() => psBoundSeconds({ ...ok, ...bad })).toThrow(RangeError);
    }
    expect(() => psBoundSeconds({ ...ok, workers: 0 })).toThrow(/^psBoundSeconds: expected M > 0, B > 0, N ≥ 1, K ≥ 0/);
  });
});

describe('steadySteps', () => {
  it('averages the steps between two readings, commit to commit and assignment to commit', () => {
    const s = steadySteps({ count: 1, sum: 3, at: 1000 }, { count: 5, sum: 11, at: 1010 });
    expect(s).toEqual({ steps: 4, periodSeconds: 2.5, wallSeconds: 2 });
  });

  it('is undefined when no step lies between them', () => {
    expect(steadySteps({ count: 3, sum: 3, at: 1000 }, { count: 3, sum: 3, at: 1000 })).toBeUndefined();
    expect(steadySteps({ count: 4, sum: 3, at: 1000 }, { count: 3, sum: 3, at: 1000 })).toBeUndefined();
  });
});

describe('clusterRow', () => {
  const run = (steadyStepSeconds: number, shards = 1): ClusterRun => ({
    shards,
    workers: 4,
    modelBytes: M,
    steps: 6,
    steadySteps: 5,
    steadyStepSeconds,
    steadyWallSeconds: steadyStepSeconds,
    meanStepSeconds: steadyStepSeconds,
    processSeconds: 60,
  });

  it('sets the step time against the bound at the nominal and at the measured rate', () => {
    const row = clusterRow(run(10), B, B / 2);
    expect(row.boundSeconds).toBeCloseTo(8.192, 12);
    expect(row.ratio).toBeCloseTo(10 / 8.192, 12);
    expect(row.measuredBoundSeconds).toBeCloseTo(16.384, 12);
    expect(row.measuredRatio).toBeCloseTo(10 / 16.384, 12);
    expect([row.targetMet, row.measuredTargetMet]).toEqual([true, true]);
  });

  it(`meets the target up to exactly ${CLUSTER_TARGET}x and not beyond`, () => {
    const bound = psBoundSeconds({ modelBytes: M, workers: 4, shards: 2, bytesPerSecond: B });
    expect(clusterRow(run(bound * CLUSTER_TARGET, 2), B, B).targetMet).toBe(true);
    expect(clusterRow(run(bound * CLUSTER_TARGET * 1.001, 2), B, B).targetMet).toBe(false);
  });
});
