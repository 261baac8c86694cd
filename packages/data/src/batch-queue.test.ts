import { describe, expect, it } from 'vitest';
import { BatchQueue } from './batch-queue.js';
import type { PlanCursor } from './batch-queue.js';
import type { Batch } from './dataset.js';
import { planEpoch } from './epoch-plan.js';
import { createRng } from './rng.js';
import type { Rng } from './rng.js';
import { expectDataError, freshSeed } from './test-support.testkit.js';

const OPTIONS = { numSamples: 10, batchSize: 3, seed: 5, epoch: 2 };

describe('BatchQueue', () => {
  it('hands out the epoch plan in order, then nothing', () => {
    const queue = new BatchQueue(OPTIONS);
    const plan = planEpoch(OPTIONS);
    expect(queue.numBatches).toBe(4);
    const taken = [queue.take(), queue.take(), queue.take(), queue.take()];
    expect(taken.map((b) => Array.from(b?.sampleIds ?? []))).toEqual(plan.map((b) => Array.from(b.sampleIds)));
    expect(queue.take()).toBeUndefined();
    expect([queue.pendingCount, queue.inFlightCount, queue.committedCount]).toEqual([0, 4, 0]);
  });

  it('counts commits and completes when every batch is committed', () => {
    const queue = new BatchQueue(OPTIONS);
    for (let b = queue.take(); b !== undefined; b = queue.take()) queue.commit(b.batchId);
    expect(queue.isComplete()).toBe(true);
    expect(queue.committedCount).toBe(4);
    expect(queue.committedSamples).toBe(10);
    expect(queue.inFlightCount).toBe(0);
  });

  it('peeks at what take would hand out next, released batches first, without taking', () => {
    const queue = new BatchQueue(OPTIONS);
    const [a, b] = [queue.take(), queue.take()] as [Batch, Batch];
    queue.commit(a.batchId);
    queue.release(b.batchId);
    const peeked = queue.peek(3).map((batch) => batch.batchId);
    expect(peeked).toEqual([b.batchId, 2, 3]);
    expect(queue.peek(1).map((batch) => batch.batchId)).toEqual([b.batchId]);
    expect([queue.take(), queue.take(), queue.take()].map((batch) => batch?.batchId)).toEqual(peeked);
    expect(queue.peek(2)).toEqual([]);
  });

  it('puts a released batch at the front, oldest release first', () => {
    const queue = new BatchQueue(OPTIONS);
    const [a, b, c] = [queue.take(), queue.take(), queue.take()] as [Batch, Batch, Batch];
    queue.release(b.batchId);
    queue.release(a.batchId);
    expect(queue.state(a.batchId)).toBe('pending');
    expect(queue.pendingCount).toBe(3);
    expect(queue.take()?.batchId).toBe(b.batchId);
    expect(queue.take()?.batchId).toBe(a.batchId);
    expect(queue.take()?.batchId).toBe(3);
    queue.commit(c.batchId);
    expect(queue.state(c.batchId)).toBe('committed');
    expect(queue.inFlightIds()).toEqual([0, 1, 3]);
  });

  it('rejects committing twice, a batch not taken, an unknown id, and releasing a committed batch', async () => {
    const queue = new BatchQueue(OPTIONS);
    const batch = queue.take() as Batch;
    queue.commit(batch.batchId);
    await expectDataError(() => queue.commit(batch.batchId), 'DTRAIN_DATA_PLAN', 'cannot commit batch 0 of epoch 2: it is committed already; expected a batch in flight');
    await expectDataError(() => queue.commit(1), 'DTRAIN_DATA_PLAN', 'cannot commit batch 1 of epoch 2: it was not taken (pending); expected a batch in flight');
    await expectDataError(() => queue.commit(4), 'DTRAIN_DATA_PLAN', 'unknown batch 4 in epoch 2; expected 0..3');
    await expectDataError(() => queue.release(0), 'DTRAIN_DATA_PLAN', /cannot release batch 0 of epoch 2: it is committed already/);
    expect(queue.committedCount).toBe(1);
  });

  it('releases everything in flight at once', () => {
    const queue = new BatchQueue(OPTIONS);
    queue.take();
    queue.take();
    expect(queue.releaseAll()).toEqual([0, 1]);
    expect(queue.inFlightCount).toBe(0);
    expect(queue.pendingCount).toBe(4);
  });

  it('snapshots compactly and restores committed batches, treating in-flight ones as pending', () => {
    const options = { numSamples: 1000, batchSize: 7, seed: 11, epoch: 0 };
    const queue = new BatchQueue(options);
    const taken = Array.from({ length: 20 }, () => queue.take() as Batch);
    for (const b of taken.filter((b) => b.batchId % 3 === 0)) queue.commit(b.batchId);
    const cursor = JSON.parse(JSON.stringify(queue.snapshot())) as PlanCursor;
    expect(cursor.committed.length).toBeLessThanOrEqual(Math.ceil(Math.ceil(1000 / 7 / 8) / 3) * 4);
    const restored = BatchQueue.restore(cursor);
    expect(restored.committedCount).toBe(7);
    expect(restored.committedSamples).toBe(49);
    expect(restored.inFlightCount).toBe(0);
    expect(restored.pendingCount).toBe(queue.numBatches - 7);
    const next = Array.from({ length: 13 }, () => restored.take()?.batchId);
    expect(next).toEqual(taken.filter((b) => b.batchId % 3 !== 0).map((b) => b.batchId));
    expect(restored.take()?.batchId).toBe(20);
  });

  it('rejects a damaged cursor', async () => {
    const cursor = new BatchQueue(OPTIONS).snapshot();
    await expectDataError(() => BatchQueue.restore({ ...cursor, committed: '!!' }), 'DTRAIN_DATA_CURSOR', /^plan cursor: committed: expected base64 of 1 bytes for 4 batches/);
    await expectDataError(() => BatchQueue.restore({ ...cursor, committed: 'EA==' }), 'DTRAIN_DATA_CURSOR', 'plan cursor: committed: bits set past the last batch 3');
    await expectDataError(() => BatchQueue.restore({ ...cursor, committedCount: 2 }), 'DTRAIN_DATA_CURSOR', 'plan cursor: committed bitmap has 0 batches set but committedCount is 2');
    await expectDataError(() => BatchQueue.restore({ ...cursor, version: 2 } as unknown as PlanCursor), 'DTRAIN_DATA_CURSOR', 'plan cursor: version: expected 1, got 2');
    await expectDataError(() => BatchQueue.restore({ ...cursor, batchSize: 0 }), 'DTRAIN_DATA_CURSOR', 'plan cursor: epoch plan: batchSize: expected an integer ≥ 1, got 0');
  });
});

interface SimulationStats {
  commits: number;
  releases: number;
  deaths: number;
  duplicates: number;
  restarts: number;
  joins: number;
}

/**
 * A coordinator and workers that join, leave, fail and die, driving one epoch.
 * Gradients are "applied" by counting each committed sample id; a coordinator
 * crash rolls the counts back to the last checkpoint, as restoring weights would.
 */
function simulateEpoch(rng: Rng): { counts: Uint16Array; queue: BatchQueue; stats: SimulationStats } {
  const numSamples = 1 + rng.nextInt(3000);
  const batchSize = 1 + rng.nextInt(96);
  let queue = new BatchQueue({ numSamples, batchSize, seed: rng.nextUint32(), epoch: rng.nextInt(50) });
  let counts = new Uint16Array(numSamples);
  let checkpoint: { cursor: string; counts: Uint16Array } | undefined;
  /** The coordinator's view: worker id → batch it was assigned. */
  let assigned = new Map<number, Batch | undefined>();
  /** Batches of workers that died silently; released when their deadline passes. */
  let overdue: Batch[] = [];
  const stats: SimulationStats = { commits: 0, releases: 0, deaths: 0, duplicates: 0, restarts: 0, joins: 0 };
  let nextWorker = 0;

  for (let tick = 0; !queue.isComplete(); tick++) {
    if (tick > 100_000) throw new Error('simulation made no progress');
    const roll = rng.next();
    const workers = [...assigned.keys()];
    const worker = workers.length === 0 ? undefined : workers[rng.nextInt(workers.length)];
    if (worker === undefined || (roll < 0.05 && workers.length < 8)) {
      assigned.set(nextWorker++, undefined);
      stats.joins++;
    } else if (roll < 0.08) {
      // Graceful leave: its unfinished batch goes back.
      const batch = assigned.get(worker);
      if (batch !== undefined) queue.release(batch.batchId);
      assigned.delete(worker);
    } else if (roll < 0.11) {
      // Silent death: the batch stays in flight until the deadline.
      const batch = assigned.get(worker);
      if (batch !== undefined) overdue.push(batch);
      assigned.delete(worker);
      stats.deaths++;
    } else if (roll < 0.14 && overdue.length > 0) {
      const batch = overdue.shift() as Batch;
      queue.release(batch.batchId);
      stats.releases++;
    } else if (roll < 0.16) {
      checkpoint = { cursor: JSON.stringify(queue.snapshot()), counts: counts.slice() };
    } else if (roll < 0.175) {
      // Coordinator crash: in-memory state is gone; workers reconnect empty-handed.
      queue = checkpoint === undefined ? new BatchQueue(queue) : BatchQueue.restore(JSON.parse(checkpoint.cursor) as PlanCursor);
      counts = checkpoint === undefined ? new Uint16Array(numSamples) : checkpoint.counts.slice();
      assigned = new Map([...assigned.keys()].map((w) => [w, undefined]));
      overdue = [];
      stats.restarts++;
    } else {
      const batch = assigned.get(worker);
      if (batch === undefined) {
        assigned.set(worker, queue.take());
      } else if (rng.next() < 0.8) {
        queue.commit(batch.batchId);
        for (const id of batch.sampleIds) counts[id] = (counts[id] as number) + 1;
        assigned.set(worker, undefined);
        stats.commits++;
        if (rng.next() < 0.1) {
          // A retransmitted gradient must be refused, not applied again.
          expect(() => queue.commit(batch.batchId)).toThrow(/committed already/);
          stats.duplicates++;
        }
      } else {
        queue.release(batch.batchId);
        assigned.set(worker, undefined);
        stats.releases++;
      }
    }
  }
  return { counts, queue, stats };
}

describe('BatchQueue exactly-once simulation', () => {
  it('applies every sample exactly once despite joins, leaves, failures, deaths and restarts', () => {
    const rng = createRng(freshSeed('simulation seed'));
    const totals = { restarts: 0, deaths: 0, duplicates: 0 };
    for (let run = 0; run < 40; run++) {
      const { counts, queue, stats } = simulateEpoch(rng);
      const wrong = counts.findIndex((c) => c !== 1);
      expect(wrong, `sample ${wrong} applied ${counts[wrong]} times (run ${run})`).toBe(-1);
      expect(queue.committedSamples).toBe(queue.numSamples);
      expect(queue.pendingCount + queue.inFlightCount).toBe(0);
      totals.restarts += stats.restarts;
      totals.deaths += stats.deaths;
      totals.duplicates += stats.duplicates;
    }
    // The interesting paths did happen.
    expect(totals.restarts).toBeGreaterThan(0);
    expect(totals.deaths).toBeGreaterThan(0);
    expect(totals.duplicates).toBeGreaterThan(0);
  });
});
