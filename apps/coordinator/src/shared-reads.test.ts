import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeIdx, openIndexed, type Batch, type IndexedDataset } from '@dtrain/data';
import type { BadSampleReport, SharedDataDescriptor } from '@dtrain/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JobError } from './errors.js';
import type { Logger } from './logger.js';
import type { CoordinatorObserver } from './observer.js';
import { SharedReads } from './shared-reads.js';
import { SharedTraining } from './shared-data.js';

/*
 * Three raw IDX shards of 5, 3 and 4 samples (source ids 0-4, 5-7, 8-11).
 * The training set is a subset, so a training id is not its source id:
 * training id t is source id TRAIN_IDS[t].
 */
const SIZES = [5, 3, 4];
const TRAIN_IDS = Uint32Array.from([0, 2, 4, 5, 7, 8, 10, 11]);
/** Training ids by the shard their samples live in. */
const IN_SHARD = [[0, 1, 2], [3, 4], [5, 6, 7]] as const;

const dir = mkdtempSync(join(tmpdir(), 'dtrain-shared-reads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const images = SIZES.map((_, s) => join(dir, `images-${s}.idx`));
const labels = SIZES.map((_, s) => join(dir, `labels-${s}.idx`));
let index: IndexedDataset;
let shared: SharedTraining;

beforeAll(async () => {
  let id = 0;
  SIZES.forEach((n, s) => {
    const ids = Array.from({ length: n }, () => id++);
    writeFileSync(images[s] as string, encodeIdx(0x08, [n, 2], ids.flatMap((i) => [i, 100 + i])));
    writeFileSync(labels[s] as string, encodeIdx(0x08, [n], ids.map((i) => i % 3)));
  });
  index = await openIndexed('idx', { images, labels });
  const descriptor: SharedDataDescriptor = {
    source: { format: 'idx', images, labels, labelEncoding: 'index', numClasses: 3 },
    shards: index.shards.map((s) => ({ file: s.file, numSamples: s.numSamples })),
    validationSplit: 0,
    splitSeed: 1,
    normalisation: { kind: 'none' },
    cacheBytes: 0,
  };
  shared = new SharedTraining(descriptor, index, TRAIN_IDS, [index]);
});
afterAll(async () => {
  await shared.close();
});

const batch = (...sampleIds: number[]): Batch => ({ batchId: 0, epoch: 0, sampleIds: Uint32Array.from(sampleIds) });
const failure = (file: string, message: string) => ({ type: 'readFailure', step: 3, file, message }) as const;

/** Every warning logged and every data error counted. */
let warnings: string[];
let dataErrors: [string, number][];
const log: Logger = { info: () => undefined, warn: (m) => warnings.push(m), error: () => undefined };
const observer: CoordinatorObserver = { dataErrors: (reason, count) => dataErrors.push([reason, count]) };
beforeEach(() => {
  warnings = [];
  dataErrors = [];
});

function expectJobData(error: JobError | undefined, message: string): void {
  expect(error).toBeInstanceOf(JobError);
  expect(error?.code).toBe('DTRAIN_JOB_DATA');
  expect(error?.message).toBe(message);
}

describe('SharedReads: shards a worker cannot read', () => {
  it('the fixture: training ids map to the shards of their source ids', () => {
    expect(shared.files).toEqual(images);
    IN_SHARD.forEach((ids, s) => ids.forEach((t) => expect(shared.shardOf(t), `training id ${t}`).toBe(s)));
  });

  it('lets every worker take every batch until one reports a shard', () => {
    const reads = new SharedReads(shared, 0, log, observer);
    expect(reads.anyUnreadable).toBe(false);
    for (const worker of [1, 2]) expect(reads.canTake(worker, batch(0, 1, 2, 3, 4, 5, 6, 7))).toBe(true);
    expect(dataErrors).toEqual([]);
  });

  it('after a readFailed, keeps that worker (only) from batches with samples in that shard', () => {
    const reads = new SharedReads(shared, 0, log, observer);
    expect(reads.readFailed(1, failure(images[1] as string, 'gone'), [1, 2])).toBeUndefined();
    expect(reads.anyUnreadable).toBe(true);
    // Training id 3 is source id 5, in shard 1 (source id 3 would be in shard 0).
    expect(reads.canTake(1, batch(3))).toBe(false);
    expect(reads.canTake(1, batch(0, 7, 4))).toBe(false);
    expect(reads.canTake(1, batch(0, 1, 2, 5, 6, 7))).toBe(true);
    expect(reads.canTake(2, batch(3, 4))).toBe(true);
    expect(dataErrors).toEqual([['unreadable', 1]]);
    expect(warnings).toEqual([`worker 1 cannot read ${images[1] as string}: gone; its batches with samples there go to other workers`]);
  });

  it('counts a shard once per worker however often it is reported', () => {
    const reads = new SharedReads(shared, 0, log, observer);
    reads.readFailed(1, failure(images[1] as string, 'gone'), [1, 2]);
    reads.readFailed(1, failure(images[1] as string, 'still gone'), [1, 2]);
    reads.readFailed(2, failure(images[1] as string, 'gone'), [1, 2, 3]);
    reads.readFailed(1, failure(images[2] as string, 'gone'), [1, 2]);
    expect(dataErrors).toEqual([
      ['unreadable', 1],
      ['unreadable', 1],
      ['unreadable', 1],
    ]);
  });

  it('fails the job only when every active worker has reported the shard, naming the file and each reason', () => {
    const reads = new SharedReads(shared, 0, log, observer);
    const file = images[2] as string;
    expect(reads.readFailed(1, failure(file, 'EACCES'), [1, 2, 3])).toBeUndefined();
    // Another shard reported by the others does not add up to this one.
    expect(reads.readFailed(2, failure(images[0] as string, 'ENOENT'), [1, 2, 3])).toBeUndefined();
    expect(reads.readFailed(3, failure(file, 'server said 404'), [1, 2, 3])).toBeUndefined();
    expectJobData(reads.readFailed(2, failure(file, 'ENOENT'), [1, 2, 3]), `no worker can read ${file} (worker 1: EACCES; worker 2: ENOENT; worker 3: server said 404)`);
  });

  it('counts only the active workers: one that left (not in active) cannot read for the others', () => {
    const reads = new SharedReads(shared, 0, log, observer);
    const file = images[0] as string;
    expect(reads.readFailed(1, failure(file, 'a'), [1, 2])).toBeUndefined();
    expectJobData(reads.readFailed(1, failure(file, 'a'), [1]), `no worker can read ${file} (worker 1: a)`);
    // The reason kept is the latest report's.
    expectJobData(reads.readFailed(1, failure(file, 'b'), [1]), `no worker can read ${file} (worker 1: b)`);
    expect(reads.readFailed(1, failure(file, 'a'), [])).toBeUndefined();
  });

  it('excludes every shard for a worker that names a file the source does not have', () => {
    const reads = new SharedReads(shared, 0, log, observer);
    expect(reads.readFailed(1, failure('/elsewhere/images-9.idx', 'odd'), [1, 2])).toBeUndefined();
    for (const ids of IN_SHARD) {
      expect(reads.canTake(1, batch(...ids))).toBe(false);
      expect(reads.canTake(2, batch(...ids))).toBe(true);
    }
    expect(dataErrors).toEqual([
      ['unreadable', 1],
      ['unreadable', 1],
      ['unreadable', 1],
    ]);
    // Alone, it can read nothing: the failure names the first shard.
    expectJobData(reads.readFailed(1, failure('/elsewhere/images-9.idx', 'odd'), [1]), `no worker can read ${images[0] as string} (worker 1: odd)`);
  });

  it('forget drops a worker\'s exclusions', () => {
    const reads = new SharedReads(shared, 0, log, observer);
    const file = images[1] as string;
    reads.readFailed(1, failure(file, 'gone'), [1, 2]);
    reads.forget(1);
    expect(reads.anyUnreadable).toBe(false);
    expect(reads.canTake(1, batch(3, 4))).toBe(true);
    // Worker 1's old report no longer counts: worker 2 alone does not fail the job while 1 is active.
    expect(reads.readFailed(2, failure(file, 'gone too'), [1, 2])).toBeUndefined();
    expect(reads.canTake(1, batch(3, 4))).toBe(true);
    expect(reads.canTake(2, batch(3, 4))).toBe(false);
    reads.forget(2);
    expect(reads.anyUnreadable).toBe(false);
    // Forgetting a worker with nothing reported is harmless.
    reads.forget(7);
  });

  it('unreadableBy fails for a batch in a shard no active worker can read, and only then', () => {
    const reads = new SharedReads(shared, 0, log, observer);
    reads.readFailed(1, failure(images[1] as string, 'x'), [1, 2]);
    expect(reads.unreadableBy(batch(3), [1, 2])).toBeUndefined();
    expectJobData(reads.unreadableBy(batch(0, 3), [1]), `no worker can read ${images[1] as string} (worker 1: x)`);
    expect(reads.unreadableBy(batch(0, 5), [1])).toBeUndefined();
  });
});

describe('SharedReads: bad samples', () => {
  const report = (sampleId: number, reason = 'parse'): BadSampleReport => ({ sampleId, reason, message: `${images[0] as string}: sample ${sampleId}: ${reason}` });

  it('counts each sample once, across reports and within one, and observes each new one once', () => {
    const reads = new SharedReads(shared, 5, log, observer);
    expect(reads.skipped([report(4), report(2, 'decode'), report(4)])).toBeUndefined();
    expect(reads.skipped([report(2, 'decode'), report(6, 'shape')])).toBeUndefined();
    expect(reads.skipped([])).toBeUndefined();
    expect(reads.badSamples).toBe(3);
    expect(dataErrors).toEqual([
      ['parse', 1],
      ['decode', 1],
      ['shape', 1],
    ]);
    expect(warnings).toEqual([
      `skipped training sample 4 (parse): ${report(4).message}`,
      `skipped training sample 2 (decode): ${report(2, 'decode').message}`,
      `skipped training sample 6 (shape): ${report(6, 'shape').message}`,
    ]);
  });

  it('fails once the count exceeds maxBadSamples, naming the first bad sample', () => {
    const reads = new SharedReads(shared, 2, log, observer);
    expect(reads.skipped([report(5)])).toBeUndefined();
    expect(reads.skipped([report(1), report(5)])).toBeUndefined();
    const expected = `3 training sample(s) do not parse or decode, more than dataset.maxBadSamples=2; first: ${report(5).message}`;
    expectJobData(reads.skipped([report(1), report(7)]), expected);
    // The count stays past the limit: a later report fails as well.
    expectJobData(reads.skipped([]), expected);
    expect(dataErrors.length).toBe(3);
  });

  it('with maxBadSamples 0, fails on the first bad sample', () => {
    const reads = new SharedReads(shared, 0, log, observer);
    expectJobData(reads.skipped([report(3, 'decode')]), `1 training sample(s) do not parse or decode, more than dataset.maxBadSamples=0; first: ${report(3, 'decode').message}`);
    expect(reads.badSamples).toBe(1);
    expect(dataErrors).toEqual([['decode', 1]]);
  });

  it('works with an observer that does not count data errors', () => {
    const reads = new SharedReads(shared, 1, log, {});
    expect(reads.skipped([report(0)])).toBeUndefined();
    expect(reads.readFailed(1, failure(images[0] as string, 'x'), [1, 2])).toBeUndefined();
    expect(reads.badSamples).toBe(1);
  });
});
