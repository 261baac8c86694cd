import { describe, expect, it } from 'vitest';
import type { Batch } from '@dtrain/data';
import { StepRound, batchesOf, localRoundWork, sampleWeightedAccuracy, type RoundWork } from './step-round.js';

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

describe('local SGD rounds (RoundWork of several batches)', () => {
  /** Worker `w` gets batches w*10, w*10+1, … (`sizes` samples each) as one round's work. */
  const roundOf = (w: number, sizes: readonly number[]): RoundWork => localRoundWork(sizes.map((n, i) => batch(w * 10 + i, n)));

  it('localRoundWork puts the sample ids one batch after another, under the first batch\'s id', () => {
    const batches = [batch(7, 3), batch(8, 2), batch(9, 4)];
    const work = localRoundWork(batches);
    expect(work.batchId).toBe(7);
    expect(work.epoch).toBe(0);
    expect([...work.sampleIds]).toEqual([70, 71, 72, 80, 81, 90, 91, 92, 93]);
    expect(work.batches).toBe(batches);
    expect(batchesOf(work).map((b) => b.batchId)).toEqual([7, 8, 9]);
  });

  it('localRoundWork of one batch is that batch, and of none is an error', () => {
    const only = batch(3, 5);
    const work = localRoundWork([only]);
    expect([work.batchId, [...work.sampleIds]]).toEqual([3, [30, 31, 32, 33, 34]]);
    expect(batchesOf(work)).toEqual([only]);
    expect(() => localRoundWork([])).toThrow(RangeError);
  });

  it('batchesOf a synchronous step\'s work is the batch itself', () => {
    const b = batch(4);
    expect(batchesOf(b)).toEqual([b]);
  });

  it('settle(true): every batch of an accepted worker applied, every batch of a silent one released; a report counts the round\'s samples', async () => {
    const round = new StepRound(
      2,
      5,
      new Map([
        [0, roundOf(0, [4, 4, 3])],
        [1, roundOf(1, [4, 2])],
        [2, roundOf(2, [4])],
      ]),
      50,
    );
    expect(round.batchOf(1)?.batchId).toBe(10);
    round.report(0, true, 0.3);
    round.report(2, false, 0.1);
    expect(await round.ended).toBe('deadline');
    expect(round.silentWorkers()).toEqual([1]);
    const { applied, released, reports } = round.settle(true);
    expect(applied.map((b) => b.batchId)).toEqual([0, 1, 2]);
    expect(applied.map((b) => b.sampleIds.length)).toEqual([4, 4, 3]);
    expect(released.map((b) => b.batchId)).toEqual([10, 11, 20]);
    expect(released.map((b) => b.sampleIds.length)).toEqual([4, 2, 4]);
    expect(reports.map((r) => [r.workerId, r.sampleCount])).toEqual([
      [0, 11],
      [2, 4],
    ]);
  });

  it('settle(false) releases every batch of every worker, accepted or not', async () => {
    const round = new StepRound(0, 0, new Map([[0, roundOf(0, [2, 2])], [1, roundOf(1, [2, 2, 1])]]), 10_000);
    round.report(0, true, 0.1);
    round.report(1, true, 0.1);
    expect(await round.ended).toBe('complete');
    const { applied, released } = round.settle(false);
    expect(applied).toEqual([]);
    expect(released.map((b) => b.batchId)).toEqual([0, 1, 10, 11, 12]);
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
