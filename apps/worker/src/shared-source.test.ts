import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeIdx, openIndexed, splitIds, type IndexedBatch } from '@dtrain/data';
import type { AssignmentMessage, SharedDataDescriptor } from '@dtrain/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerError } from './errors.js';
import { SharedSource, type AssignmentRead } from './shared-source.js';

const dir = mkdtempSync(join(tmpdir(), 'dtrain-shared-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Three IDX shards of 5, 4 and 3 samples of [2] bytes: source ids 0-4, 5-8, 9-11.
const SIZES = [5, 4, 3];
const N = 12;
const SPLIT = 0.25;
const SEED = 3;
const { train } = splitIds(N, SPLIT, SEED);
const shardOfSource = (id: number): number => (id < 5 ? 0 : id < 9 ? 1 : 2);
/** Training ids whose samples are in shard s. */
const trainIn = (s: number): number[] => Array.from(train.keys()).filter((t) => shardOfSource(train[t] as number) === s);

let copies = 0;

/** A fresh copy of the IDX shards (each test deletes or rewrites its own) and the descriptor the coordinator would send for them. */
function idxSource(): { images: string[]; labels: string[]; descriptor: SharedDataDescriptor } {
  const at = join(dir, `idx-${copies++}`);
  mkdirSync(at);
  const images: string[] = [];
  const labels: string[] = [];
  let id = 0;
  SIZES.forEach((n, s) => {
    const ids = Array.from({ length: n }, () => id++);
    images.push(join(at, `images-${s}.idx`));
    labels.push(join(at, `labels-${s}.idx`));
    writeFileSync(images[s] as string, encodeIdx(0x08, [n, 2], ids.flatMap((i) => [i, 200 + i])));
    writeFileSync(labels[s] as string, encodeIdx(0x08, [n], ids.map((i) => i % 10)));
  });
  const descriptor: SharedDataDescriptor = {
    source: { format: 'idx', images, labels, labelEncoding: 'index', numClasses: 10 },
    shards: images.map((file, s) => ({ file, numSamples: SIZES[s] as number })),
    validationSplit: SPLIT,
    splitSeed: SEED,
    normalisation: { kind: 'none' },
    cacheBytes: 1 << 20,
  };
  return { images, labels, descriptor };
}

const assignment = (sampleIds: readonly number[], batches?: { batchId: number; size: number }[]): AssignmentMessage => ({
  type: 'assignment',
  step: 4,
  epoch: 1,
  version: 9,
  batchId: batches?.[0]?.batchId ?? 30,
  sampleIds: Uint32Array.from(sampleIds),
  ...(batches === undefined ? {} : { batches }),
});

/** The rows of these training ids read straight from the whole source. */
async function direct(images: string[], labels: string[], trainIds: readonly number[]): Promise<IndexedBatch> {
  const whole = await openIndexed('idx', { images, labels, numClasses: 10 });
  try {
    return await whole.read(Uint32Array.from(trainIds, (t) => train[t] as number));
  } finally {
    await whole.close();
  }
}

function expectRead(read: AssignmentRead): Extract<AssignmentRead, { kind: 'read' }> {
  expect(read.kind).toBe('read');
  return read as Extract<AssignmentRead, { kind: 'read' }>;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

function expectRejected(error: unknown, message: string | RegExp): void {
  expect(error).toBeInstanceOf(WorkerError);
  expect((error as WorkerError).code).toBe('DTRAIN_WORKER_REJECTED');
  if (typeof message === 'string') expect((error as WorkerError).message).toBe(message);
  else expect((error as WorkerError).message).toMatch(message);
}

describe('SharedSource over idx shards', () => {
  it('the fixture: every shard holds training samples', () => {
    expect(train.length).toBe(9);
    for (const s of [0, 1, 2]) expect(trainIn(s).length, `shard ${s}`).toBeGreaterThan(0);
  });

  it('reads an assignment as the rows of its training ids, in order, repeats included', async () => {
    const { images, labels, descriptor } = idxSource();
    const source = await SharedSource.open(descriptor, train.length);
    try {
      const ids = [8, 0, 3, 3, 6, 1, 7, 2, 5, 4];
      const want = await direct(images, labels, ids);
      const a = assignment(ids);
      const read = expectRead(await source.read(a));
      expect(read.assignment).toBe(a);
      expect(read.bad).toEqual([]);
      expect(read.samples.features).toBeInstanceOf(Uint8Array);
      expect(Array.from(read.samples.features)).toStrictEqual(Array.from(want.features));
      expect(Array.from(read.samples.labels)).toStrictEqual(Array.from(want.labels));
      // The bytes are the samples' own: source id i is [i, 200 + i].
      expect(Array.from(read.samples.features)).toStrictEqual(ids.flatMap((t) => [train[t] as number, 200 + (train[t] as number)]));
      // A second read of the same ids, from the cache, is the same.
      const again = expectRead(await source.read(a));
      expect(Array.from(again.samples.features)).toStrictEqual(Array.from(want.features));
      expect(source.stats.hits).toBeGreaterThan(0);
    } finally {
      await source.close();
    }
  });

  it('opens without a shard that was deleted; answers reads touching it as unreadable, naming it, and reads the others', async () => {
    const { images, descriptor } = idxSource();
    const gone = images[1] as string;
    unlinkSync(gone);
    const source = await SharedSource.open(descriptor, train.length);
    try {
      const touching = [...trainIn(0), ...trainIn(1).slice(0, 1)];
      expect(await source.read(assignment(touching))).toStrictEqual({ kind: 'unreadable', file: gone, message: `${gone}: file not found` });
      const elsewhere = [...trainIn(2), ...trainIn(0)];
      const read = expectRead(await source.read(assignment(elsewhere)));
      expect(Array.from(read.samples.features)).toStrictEqual(elsewhere.flatMap((t) => [train[t] as number, 200 + (train[t] as number)]));
      expect(Array.from(read.samples.labels)).toStrictEqual(elsewhere.map((t) => (train[t] as number) % 10));
    } finally {
      await source.close();
    }
  });

  it('takes a shard whose sample count is not the coordinator\'s as unreadable, saying both counts', async () => {
    const { images, labels, descriptor } = idxSource();
    const changed = images[2] as string;
    // Shard 2 now holds 2 samples; the coordinator indexed 3.
    writeFileSync(changed, encodeIdx(0x08, [2, 2], [9, 209, 10, 210]));
    writeFileSync(labels[2] as string, encodeIdx(0x08, [2], [9, 0]));
    const source = await SharedSource.open(descriptor, train.length);
    try {
      expect(await source.read(assignment(trainIn(2)))).toStrictEqual({
        kind: 'unreadable',
        file: changed,
        message: `${changed} holds 2 samples here; the coordinator indexed 3`,
      });
      expectRead(await source.read(assignment(trainIn(1))));
    } finally {
      await source.close();
    }
  });

  it('takes a shard cut short after it opened as unreadable, naming it', async () => {
    const { images, descriptor } = idxSource();
    const source = await SharedSource.open(descriptor, train.length);
    try {
      // Keep the header and one sample of shard 0's images.
      const cut = images[0] as string;
      const bytes = encodeIdx(0x08, [5, 2], [0, 200, 1, 201, 2, 202, 3, 203, 4, 204]);
      const fd = openSync(cut, 'w');
      writeSync(fd, bytes.subarray(0, 4 + 8 + 2));
      closeSync(fd);
      const read = await source.read(assignment(trainIn(0)));
      expect(read.kind).toBe('unreadable');
      expect(read).toMatchObject({ file: cut });
      expect((read as { message: string }).message).toMatch(new RegExp(`^${cut}: byte \\d+: file ends early; expected \\d+ bytes from byte \\d+, found \\d+$`));
    } finally {
      await source.close();
    }
  });

  it('fails to open when no shard can be opened, naming the first', async () => {
    const { images, descriptor } = idxSource();
    for (const file of images) unlinkSync(file);
    expectRejected(await rejection(SharedSource.open(descriptor, train.length)), `shared data: no shard of the source could be opened here (first: ${images[0] as string}: file not found)`);
  });

  it('fails to open when its training split is not the coordinator\'s size', async () => {
    const { descriptor } = idxSource();
    expectRejected(await rejection(SharedSource.open(descriptor, train.length + 1)), `shared data: ${train.length} training samples here, ${train.length + 1} at the coordinator`);
  });

  it('fails to open a format that cannot be read by sample, or a shard list of another length than the shards', async () => {
    const { images, labels, descriptor } = idxSource();
    expectRejected(await rejection(SharedSource.open({ ...descriptor, source: { ...descriptor.source, format: 'synthetic' } }, train.length)), 'shared data: format "synthetic" cannot be read by sample');
    expectRejected(
      await rejection(SharedSource.open({ ...descriptor, source: { ...descriptor.source, images: images.slice(0, 2), labels: labels.slice(0, 2) } }, train.length)),
      'shared data: source.images should list 3 shard(s)',
    );
  });
});

describe('SharedSource: samples that no longer parse', () => {
  // Two JSONL shards of 6 and 4 records; record i is {"x":[i.5,i.25],"y":i%3}, every line as long as the others.
  const SHARD_SIZES = [6, 4];
  const TOTAL = 10;
  const jsonSplit = splitIds(TOTAL, 0.2, 11).train;
  const line = (i: number): string => JSON.stringify({ x: [i + 0.5, i + 0.25], y: i % 3 });

  function jsonlSource(): { paths: string[]; texts: string[]; descriptor: SharedDataDescriptor } {
    const at = join(dir, `jsonl-${copies++}`);
    mkdirSync(at);
    let id = 0;
    const paths: string[] = [];
    const texts: string[] = [];
    for (const [s, n] of SHARD_SIZES.entries()) {
      const text = Array.from({ length: n }, () => line(id++)).join('\n') + '\n';
      const path = join(at, `part-${s}.jsonl`);
      writeFileSync(path, text);
      paths.push(path);
      texts.push(text);
    }
    const descriptor: SharedDataDescriptor = {
      source: { format: 'jsonl', path: paths, featureField: 'x', labelField: 'y', labelEncoding: 'index', numClasses: 3 },
      shards: paths.map((file, s) => ({ file, numSamples: SHARD_SIZES[s] as number })),
      validationSplit: 0.2,
      splitSeed: 11,
      normalisation: { kind: 'none' },
      cacheBytes: 1 << 20,
    };
    return { paths, texts, descriptor };
  }

  /**
   * Rewrites source record `id` in place (same length: ids are one digit) so
   * its first feature is a string: it no longer parses. Returns the message
   * the data package gives for it.
   */
  function breakRecord(paths: string[], texts: string[], id: number): string {
    const shard = id < 6 ? 0 : 1;
    const text = texts[shard] as string;
    const start = text.indexOf(line(id));
    const at = text.indexOf(`[${id}.5,`, start);
    expect(at).toBeGreaterThan(start);
    const fd = openSync(paths[shard] as string, 'r+');
    writeSync(fd, `["${id}",`, at);
    closeSync(fd);
    return `${paths[shard] as string}: byte ${start}: "x"[0]: expected a finite number, found "${id}"`;
  }

  const rowsOf = (ids: readonly number[]): { features: number[]; labels: number[] } => ({
    features: ids.flatMap((t) => [(jsonSplit[t] as number) + 0.5, (jsonSplit[t] as number) + 0.25]),
    labels: ids.map((t) => (jsonSplit[t] as number) % 3),
  });

  it('leaves bad samples out of a synchronous batch and reports them by training id', async () => {
    const { paths, texts, descriptor } = jsonlSource();
    const source = await SharedSource.open(descriptor, jsonSplit.length);
    try {
      const ids = [0, 5, 2, 7];
      const message = breakRecord(paths, texts, jsonSplit[5] as number);
      const a = assignment(ids);
      const read = expectRead(await source.read(a));
      expect(read.assignment).toStrictEqual({ ...a, sampleIds: Uint32Array.from([0, 2, 7]) });
      expect('batches' in read.assignment).toBe(false);
      const want = rowsOf([0, 2, 7]);
      expect(read.samples.features).toBeInstanceOf(Float32Array);
      expect(Array.from(read.samples.features)).toStrictEqual(want.features);
      expect(Array.from(read.samples.labels)).toStrictEqual(want.labels);
      expect(read.bad).toStrictEqual([{ sampleId: 5, reason: 'parse', message }]);
    } finally {
      await source.close();
    }
  });

  it('in a local-SGD round, shrinks the batches that lost samples and drops those left empty', async () => {
    const { paths, texts, descriptor } = jsonlSource();
    const source = await SharedSource.open(descriptor, jsonSplit.length);
    try {
      // Batches 20: [3, 1], 21: [6], 22: [0, 4, 7]; samples 1 and 6 (training ids) no longer parse.
      breakRecord(paths, texts, jsonSplit[1] as number);
      breakRecord(paths, texts, jsonSplit[6] as number);
      const a = assignment([3, 1, 6, 0, 4, 7], [
        { batchId: 20, size: 2 },
        { batchId: 21, size: 1 },
        { batchId: 22, size: 3 },
      ]);
      const read = expectRead(await source.read(a));
      expect(read.assignment).toStrictEqual({
        ...a,
        sampleIds: Uint32Array.from([3, 0, 4, 7]),
        batches: [
          { batchId: 20, size: 1 },
          { batchId: 22, size: 3 },
        ],
      });
      const want = rowsOf([3, 0, 4, 7]);
      expect(Array.from(read.samples.features)).toStrictEqual(want.features);
      expect(Array.from(read.samples.labels)).toStrictEqual(want.labels);
      expect(read.bad.map((b) => [b.sampleId, b.reason])).toStrictEqual([
        [1, 'parse'],
        [6, 'parse'],
      ]);
      // The bad ones are read again (never cached): still bad, still left out.
      const again = expectRead(await source.read(a));
      expect(again.assignment.batches).toStrictEqual(read.assignment.batches);
      expect(again.bad.map((b) => b.sampleId)).toStrictEqual([1, 6]);
    } finally {
      await source.close();
    }
  });

  it('starts the round at its first remaining batch when the first is dropped (batchId follows)', async () => {
    const { paths, texts, descriptor } = jsonlSource();
    const source = await SharedSource.open(descriptor, jsonSplit.length);
    try {
      breakRecord(paths, texts, jsonSplit[2] as number);
      const a = assignment([2, 0, 3], [
        { batchId: 40, size: 1 },
        { batchId: 41, size: 2 },
      ]);
      const read = expectRead(await source.read(a));
      expect(read.assignment.batches).toStrictEqual([{ batchId: 41, size: 2 }]);
      expect(read.assignment.batchId).toBe(41);
    } finally {
      await source.close();
    }
  });
});
