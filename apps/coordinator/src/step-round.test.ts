import { describe, expect, it } from 'vitest';
import type { Batch } from '@dtrain/data';
import { StepRound, sampleWeightedAccuracy } from './step-round.js';

const batch = (batchId: number, n = 4): Batch => ({ batchId, epoch: 0, sampleIds: Uint32Array.from({ length: n }, (_, i) => batchId * 10 + i) });
const assigned = (...ids: number[]): Map<number, Batch> => new Map(ids.map((id) => [id, batch(id)]));

describe('StepRound', () => {
  it('completes when every assigned worker reported, and settles accepted vs rejected batches', async () => {
    const round = new StepRound(3, 7, assigned(0, 1, 2), 10_000);
    round.report(0, true, 0.1);
    round.report(1, false, 0.2);
    expect(round.isOpen).toBe(true);
    round.report(2, true, 0.3);
    expect(await round.ended).toBe('complete');
    const { applied, released, reports } = round.settle();
    expect(applied.map((b) => b.batchId)).toEqual([0, 2]);
    expect(released.map((b) => b.batchId)).toEqual([1]);
    expect(reports.map((r) => r.workerId)).toEqual([0, 1, 2]);
    expect(reports[0]?.waitSeconds).toBe(0);
  });

  it('ends at the deadline with the silent workers named and their batches released', async () => {
    const round = new StepRound(0, 0, assigned(0, 1), 50);
    round.report(1, true, 0.01);
    expect(await round.ended).toBe('deadline');
    expect(round.silentWorkers()).toEqual([0]);
    const { applied, released } = round.settle();
    expect([applied.map((b) => b.batchId), released.map((b) => b.batchId)]).toEqual([[1], [0]]);
  });

  it('stops waiting for a worker that left; its batch is released', async () => {
    const round = new StepRound(0, 0, assigned(4, 5), 10_000);
    round.report(4, true, 0.01);
    round.forget(5);
    expect(await round.ended).toBe('complete');
    expect(round.silentWorkers()).toEqual([]);
    expect(round.settle().released.map((b) => b.batchId)).toEqual([5]);
  });

  it('counts only the first answer of a worker, and none after the round ended', async () => {
    const round = new StepRound(0, 0, assigned(0, 1), 10_000);
    round.report(0, false, 0.1);
    round.report(0, true, 0.1);
    round.report(9, true, 0.1);
    round.abort();
    expect(await round.ended).toBe('aborted');
    round.report(1, true, 0.1);
    const { applied, released } = round.settle();
    expect(applied).toEqual([]);
    expect(released.map((b) => b.batchId).sort()).toEqual([0, 1]);
  });

  it('an empty round is complete at once', async () => {
    expect(await new StepRound(0, 0, new Map(), 10_000).ended).toBe('complete');
  });
});

describe('sampleWeightedAccuracy', () => {
  const report = (sampleCount: number, accuracy: number | undefined) => ({ workerId: 0, batch: batch(0, sampleCount), accepted: true, sampleCount, loss: 1, accuracy, dataSeconds: undefined, waitSeconds: 0, computeSeconds: 0.01 });

  it('weights each push by its samples, skips pushes without one, and is undefined when none has one', () => {
    expect(sampleWeightedAccuracy([report(32, 0.25), report(8, 1)])).toEqual({ value: 0.4, samples: 40 });
    expect(sampleWeightedAccuracy([report(32, 0.25), report(8, undefined)])).toEqual({ value: 0.25, samples: 32 });
    expect(sampleWeightedAccuracy([report(8, undefined)])).toBeUndefined();
    expect(sampleWeightedAccuracy([])).toBeUndefined();
  });
});
