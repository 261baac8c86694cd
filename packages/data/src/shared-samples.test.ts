import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { BadSample } from './bad-sample.js';
import { DataError } from './data-error.js';
import { encodeIdx } from './idx-format.js';
import type { IndexedBatch, IndexedDataset } from './indexed-dataset.js';
import { openIndexed } from './open-indexed.js';
import { SharedSamples } from './shared-samples.js';
import { splitIds } from './splits.js';
import { expectDataError, useTempDir } from './test-support.testkit.js';

const temp = useTempDir();
const N = 30;
const CLASSES = 5;
/** Bytes a cached sample is charged: 6 feature bytes (ubyte 2×3) and a one-hot label of 5 float32s. */
const ROW_BYTES = 6 + CLASSES * 4;
let files: { images: string; labels: string };

beforeAll(async () => {
  const images = await temp.write('x.idx', encodeIdx(0x08, [N, 2, 3], Array.from({ length: N * 6 }, (_, i) => (i * 11) % 256)));
  const labels = await temp.write('y.idx', encodeIdx(0x08, [N], Array.from({ length: N }, (_, i) => i % CLASSES)));
  files = { images, labels };
});

/**
 * A real indexed dataset behind a wrapper that records every read, can hold
 * reads until released, fail the next reads, and report some ids bad (zeroed
 * and listed, as a source with broken records would).
 */
class RecordingDataset implements IndexedDataset {
  readonly calls: number[][] = [];
  failNext = 0;
  closed = false;
  #gate: Promise<void> | undefined;
  #release: (() => void) | undefined;

  constructor(
    readonly inner: IndexedDataset,
    readonly badIds: ReadonlySet<number> = new Set(),
  ) {}

  get format(): string {
    return this.inner.format;
  }
  get numSamples(): number {
    return this.inner.numSamples;
  }
  get featureShape(): readonly number[] {
    return this.inner.featureShape;
  }
  get labelShape(): readonly number[] {
    return this.inner.labelShape;
  }
  get labelEncoding(): IndexedDataset['labelEncoding'] {
    return this.inner.labelEncoding;
  }
  get numClasses(): number | undefined {
    return this.inner.numClasses;
  }
  get featureType(): 'uint8' | 'float32' {
    return this.inner.featureType;
  }
  get shards(): IndexedDataset['shards'] {
    return this.inner.shards;
  }
  get source(): string {
    return this.inner.source;
  }

  /** Holds every read from now until release(). */
  hold(): void {
    this.#gate = new Promise((resolve) => {
      this.#release = resolve;
    });
  }

  release(): void {
    this.#release?.();
    this.#gate = undefined;
  }

  async read(ids: Uint32Array): Promise<IndexedBatch> {
    this.calls.push(Array.from(ids));
    if (this.#gate !== undefined) await this.#gate;
    if (this.failNext > 0) {
      this.failNext--;
      throw new DataError('DTRAIN_DATA_UNREADABLE', `${this.source}: cannot be read (EIO)`, { file: this.source });
    }
    return this.expected(ids);
  }

  /** What a read of `ids` gives, without recording it: the reference. */
  async expected(ids: Uint32Array): Promise<IndexedBatch> {
    const batch = await this.inner.read(ids);
    const f = 6;
    const l = CLASSES;
    const bad: BadSample[] = [];
    ids.forEach((id, position) => {
      if (!this.badIds.has(id)) return;
      batch.features.fill(0, position * f, (position + 1) * f);
      batch.labels.fill(0, position * l, (position + 1) * l);
      bad.push({ position, id, reason: 'parse', message: `${this.source}: sample ${id} is broken` });
    });
    return { ...batch, bad };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.inner.close();
  }
}

async function recording(badIds?: ReadonlySet<number>): Promise<RecordingDataset> {
  return new RecordingDataset(await openIndexed('idx', { ...files, labelEncoding: 'onehot', numClasses: CLASSES }), badIds);
}

const ids = (...values: number[]): Uint32Array => Uint32Array.from(values);

/** Batches as plain values, for toEqual. */
const plain = (batch: IndexedBatch): { features: number[]; labels: number[]; bad: readonly BadSample[]; type: string } => ({
  features: Array.from(batch.features),
  labels: Array.from(batch.labels),
  bad: batch.bad,
  type: batch.features.constructor.name,
});

describe('SharedSamples', () => {
  it('reads misses once and serves repeats from the cache, counting hits and misses by row', async () => {
    const dataset = await recording();
    const shared = new SharedSamples({ dataset, cacheBytes: 10 * ROW_BYTES });
    expect(shared.featureType).toBe('uint8');
    const first = await shared.read(ids(0, 1, 2, 1));
    expect(plain(first)).toEqual(plain(await dataset.expected(ids(0, 1, 2, 1))));
    expect(shared.stats).toEqual({ hits: 0, misses: 4, bytesRead: 3 * 6, prefetched: 0, cachedBytes: 3 * ROW_BYTES });
    const second = await shared.read(ids(1, 2, 3));
    expect(plain(second)).toEqual(plain(await dataset.expected(ids(1, 2, 3))));
    expect(shared.stats).toEqual({ hits: 2, misses: 5, bytesRead: 4 * 6, prefetched: 0, cachedBytes: 4 * ROW_BYTES });
    // One source read per shared read, of the distinct misses only.
    expect(dataset.calls).toEqual([[0, 1, 2], [3]]);
    await shared.close();
    expect(dataset.closed).toBe(true);
  });

  it('with cacheBytes 0 reads the source every time, and prefetch does nothing', async () => {
    const dataset = await recording();
    const shared = new SharedSamples({ dataset, cacheBytes: 0 });
    shared.prefetch(ids(1, 2));
    await shared.read(ids(1, 2));
    await shared.read(ids(1, 2));
    expect(dataset.calls).toEqual([[1, 2], [1, 2]]);
    expect(shared.stats).toEqual({ hits: 0, misses: 4, bytesRead: 24, prefetched: 0, cachedBytes: 0 });
    await shared.close();
  });

  it('holds no more than its budget, evicting the least recently used rows', async () => {
    const dataset = await recording();
    const shared = new SharedSamples({ dataset, cacheBytes: 4 * ROW_BYTES + ROW_BYTES - 1 });
    for (let id = 0; id < 10; id++) {
      await shared.read(ids(id));
      expect(shared.stats.cachedBytes).toBeLessThanOrEqual(4 * ROW_BYTES + ROW_BYTES - 1);
    }
    expect(shared.stats.cachedBytes).toBe(4 * ROW_BYTES);
    dataset.calls.length = 0;
    // 6..9 are the four most recent: hits. 5 was evicted: a miss.
    await shared.read(ids(9, 8, 7, 6));
    expect(dataset.calls).toEqual([]);
    await shared.read(ids(5));
    expect(dataset.calls).toEqual([[5]]);
    await shared.close();
  });

  it('reads prefetched ids without a second source read, whether the prefetch is in flight or done', async () => {
    const dataset = await recording();
    const shared = new SharedSamples({ dataset, cacheBytes: 100 * ROW_BYTES });
    dataset.hold();
    shared.prefetch(ids(5, 6, 7, 6));
    const reading = shared.read(ids(7, 5, 8));
    dataset.release();
    expect(plain(await reading)).toEqual(plain(await dataset.expected(ids(7, 5, 8))));
    // The prefetch read 5, 6, 7; the read only 8, beside it.
    expect(dataset.calls).toEqual([[5, 6, 7], [8]]);
    expect(shared.stats).toMatchObject({ hits: 2, misses: 1, prefetched: 3 });

    shared.prefetch(ids(10, 11));
    await vi.waitFor(() => expect(shared.stats.prefetched).toBe(5));
    expect(plain(await shared.read(ids(11, 10, 6)))).toEqual(plain(await dataset.expected(ids(11, 10, 6))));
    expect(dataset.calls).toEqual([[5, 6, 7], [8], [10, 11]]);
    expect(shared.stats).toMatchObject({ hits: 5, misses: 1 });
    await shared.close();
  });

  it('runs one prefetch at a time; a newer one waits, replacing any queued before it', async () => {
    const dataset = await recording();
    const shared = new SharedSamples({ dataset, cacheBytes: 100 * ROW_BYTES });
    dataset.hold();
    shared.prefetch(ids(1, 2));
    shared.prefetch(ids(3, 4));
    const latest = ids(5, 6);
    shared.prefetch(latest);
    // The caller may reuse its array: the queued prefetch kept a copy.
    latest.fill(0);
    expect(dataset.calls).toEqual([[1, 2]]);
    dataset.release();
    await vi.waitFor(() => expect(shared.stats.prefetched).toBe(4));
    expect(dataset.calls).toEqual([[1, 2], [5, 6]]);
    // Cached ids are skipped: nothing left to read, so no read at all.
    shared.prefetch(ids(1, 6));
    expect(dataset.calls).toHaveLength(2);
    await shared.close();
  });

  it('forgets a failed prefetch; the read of its ids reads them itself and surfaces a failure', async () => {
    const dataset = await recording();
    const shared = new SharedSamples({ dataset, cacheBytes: 100 * ROW_BYTES });
    // A transient failure: the prefetch fails, the read succeeds.
    dataset.failNext = 1;
    shared.prefetch(ids(1, 2));
    const batch = await shared.read(ids(2, 1));
    expect(plain(batch)).toEqual(plain(await dataset.expected(ids(2, 1))));
    // The retry reads in the order the read asked.
    expect(dataset.calls).toEqual([[1, 2], [2, 1]]);
    expect(shared.stats).toMatchObject({ misses: 2, prefetched: 0 });
    // A lasting one: the prefetch fails quietly, the read rejects.
    dataset.failNext = 2;
    shared.prefetch(ids(3));
    const error = await expectDataError(() => shared.read(ids(3)), 'DTRAIN_DATA_UNREADABLE', `${dataset.source}: cannot be read (EIO)`);
    expect(error.file).toBe(dataset.source);
    await shared.close();
  });

  it('maps training ids through trainIds', async () => {
    const dataset = await recording();
    const { train } = splitIds(N, 0.3, 7);
    const shared = new SharedSamples({ dataset, trainIds: train, cacheBytes: 8 * ROW_BYTES });
    const asked = ids(0, train.length - 1, 3, 3, 10);
    const batch = await shared.read(asked);
    const mapped = Uint32Array.from(asked, (i) => train[i] as number);
    expect(plain(batch)).toEqual(plain(await dataset.expected(mapped)));
    expect(dataset.calls).toEqual([Array.from(new Set(mapped))]);
    await expectDataError(() => shared.read(ids(train.length)), 'DTRAIN_DATA_RANGE', `${dataset.source}: training sample ${train.length} (position 0) does not exist; expected 0..${train.length - 1}`);
    await shared.close();
  });

  it('returns bad rows every time and never caches them; `bad` names dataset ids at the read’s positions', async () => {
    const dataset = await recording(new Set([4]));
    const trainIds = ids(9, 4, 2);
    const shared = new SharedSamples({ dataset, trainIds, cacheBytes: 100 * ROW_BYTES });
    for (let round = 0; round < 2; round++) {
      const batch = await shared.read(ids(0, 1, 2, 1));
      expect(batch.bad).toEqual([
        { position: 1, id: 4, reason: 'parse', message: `${dataset.source}: sample 4 is broken` },
        { position: 3, id: 4, reason: 'parse', message: `${dataset.source}: sample 4 is broken` },
      ]);
      expect(plain(batch)).toEqual(plain(await dataset.expected(ids(9, 4, 2, 4))));
    }
    expect(dataset.calls).toEqual([[9, 4, 2], [4]]);
    expect(shared.stats.cachedBytes).toBe(2 * ROW_BYTES);
    await shared.close();
  });

  it('rejects bad options, and reads after close', async () => {
    const dataset = await recording();
    await expectDataError(() => new SharedSamples({ dataset, cacheBytes: -1 }), 'DTRAIN_DATA_OPTIONS', 'shared samples: cacheBytes: expected a non-negative integer (bytes), got -1');
    await expectDataError(() => new SharedSamples({ dataset, cacheBytes: 1.5 }), 'DTRAIN_DATA_OPTIONS', 'shared samples: cacheBytes: expected a non-negative integer (bytes), got 1.5');
    await expectDataError(
      () => new SharedSamples({ dataset, cacheBytes: 0, trainIds: ids(1, N) }),
      'DTRAIN_DATA_OPTIONS',
      `shared samples: trainIds[1] is ${N}, not a sample of ${dataset.source}; expected 0..${N - 1}`,
    );
    const shared = new SharedSamples({ dataset, cacheBytes: 1000 });
    await shared.read(ids(1));
    await shared.close();
    await expectDataError(() => shared.read(ids(1)), 'DTRAIN_DATA_UNREADABLE', `${dataset.source}: shared samples are closed; expected reads before close()`);
    shared.prefetch(ids(2));
    expect(dataset.calls).toEqual([[1]]);
  });

  type Op = { readonly kind: 'read' | 'prefetch' | 'concurrent'; readonly ids: number[] };

  // Fresh random inputs each run (fast-check prints the seed and the shrunk case on failure).
  it('returns exactly what the dataset gives for the mapped ids, for any sequence of reads and prefetches', async () => {
    const dataset = await recording(new Set([3, 17]));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 12 * ROW_BYTES }),
        fc.uniqueArray(fc.integer({ min: 0, max: N - 1 }), { minLength: 1, maxLength: N }),
        fc.array(fc.record({ kind: fc.constantFrom('read' as const, 'prefetch' as const, 'concurrent' as const), ids: fc.array(fc.nat(), { maxLength: 12 }) }), { maxLength: 15 }),
        async (cacheBytes, mapping, ops: Op[]) => {
          const trainIds = Uint32Array.from(mapping);
          const shared = new SharedSamples({ dataset, trainIds, cacheBytes });
          const check = async (asked: Uint32Array, batch: IndexedBatch): Promise<void> => {
            expect(plain(batch)).toEqual(plain(await dataset.expected(Uint32Array.from(asked, (i) => trainIds[i] as number))));
          };
          for (const op of ops) {
            const asked = Uint32Array.from(op.ids, (i) => i % trainIds.length);
            if (op.kind === 'prefetch') shared.prefetch(asked);
            else if (op.kind === 'read') await check(asked, await shared.read(asked));
            else {
              // Two reads of overlapping ids at once, and a prefetch between them.
              const other = asked.slice().reverse();
              const a = shared.read(asked);
              shared.prefetch(other);
              const b = shared.read(other);
              await check(asked, await a);
              await check(other, await b);
            }
            expect(shared.stats.cachedBytes).toBeLessThanOrEqual(cacheBytes);
          }
          const { hits, misses } = shared.stats;
          const rowsRead = ops.reduce((n, op) => n + (op.kind === 'read' ? op.ids.length : op.kind === 'concurrent' ? 2 * op.ids.length : 0), 0);
          expect(hits + misses).toBe(rowsRead);
        },
      ),
      { numRuns: 60 },
    );
    await dataset.close();
  });
});
