import type { BadSample } from './bad-sample.js';
import { ByteLru } from './byte-lru.js';
import { DataError } from './data-error.js';
import type { IndexedBatch, IndexedDataset } from './indexed-dataset.js';

/** Options of {@link SharedSamples}. */
export interface SharedSamplesOptions {
  /** The dataset, opened by the caller. SharedSamples reads through it and closes it in {@link SharedSamples.close}, nothing more. */
  readonly dataset: IndexedDataset;
  /**
   * Maps a training-set id i to the dataset's sample trainIds[i] (a training
   * split, see splitIds); every entry must be a sample of the dataset.
   * Default: identity over the whole dataset.
   */
  readonly trainIds?: Uint32Array;
  /**
   * Budget in bytes of the per-sample cache (feature row plus label row of
   * each sample held). 0 disables caching: every read goes to the source,
   * and prefetch does nothing (there is nowhere to keep what it reads).
   */
  readonly cacheBytes: number;
}

/** What a {@link SharedSamples} has done since it was made. */
export interface SharedSamplesStats {
  /** Rows `read` served without reading the source itself: from the cache, or from a read already in flight (a prefetch). */
  readonly hits: number;
  /** Rows `read` read from the source. */
  readonly misses: number;
  /** Feature bytes read from the source, by reads and prefetches. */
  readonly bytesRead: number;
  /** Samples read ahead by prefetches that completed. */
  readonly prefetched: number;
  /** Bytes the cache holds now (feature and label rows); never above cacheBytes. */
  readonly cachedBytes: number;
}

/** One sample as cached: copies of its rows, so a batch built from them can be transferred. */
interface CachedRow {
  readonly features: Uint8Array | Float32Array;
  readonly labels: Float32Array;
  readonly byteLength: number;
}

/** What one source read brought, by training id: a row, or why the sample could not be read. */
interface Fetched {
  readonly rows: ReadonlyMap<number, CachedRow>;
  readonly bad: ReadonlyMap<number, BadSample>;
}

const WHERE = 'shared samples';

/**
 * What a worker reads its training batches through: an indexed dataset
 * behind a per-sample LRU cache bounded by bytes, with one batch of
 * read-ahead. A sample is read from the source once while it stays cached,
 * and once however many reads and prefetches ask for it at the same time.
 * Samples the source reports bad are returned as bad every time and never
 * cached (the next read tries again).
 */
export class SharedSamples {
  readonly #dataset: IndexedDataset;
  readonly #trainIds: Uint32Array | undefined;
  readonly #numTrain: number;
  readonly #featureSize: number;
  readonly #labelSize: number;
  readonly #cache: ByteLru<number, CachedRow>;
  /** Training ids being read from the source, and the read bringing each. */
  readonly #pending = new Map<number, Promise<Fetched>>();
  #prefetching: Promise<void> | undefined;
  #queued: Uint32Array | undefined;
  #closed = false;
  #hits = 0;
  #misses = 0;
  #bytesRead = 0;
  #prefetched = 0;

  constructor(options: SharedSamplesOptions) {
    const { dataset, trainIds, cacheBytes } = options;
    if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0) {
      throw new DataError('DTRAIN_DATA_OPTIONS', `${WHERE}: cacheBytes: expected a non-negative integer (bytes), got ${String(cacheBytes)}`);
    }
    if (trainIds !== undefined) {
      const bad = trainIds.findIndex((id) => id >= dataset.numSamples);
      if (bad >= 0) {
        throw new DataError(
          'DTRAIN_DATA_OPTIONS',
          `${WHERE}: trainIds[${bad}] is ${trainIds[bad] as number}, not a sample of ${dataset.source}; expected 0..${dataset.numSamples - 1}`,
        );
      }
    }
    this.#dataset = dataset;
    this.#trainIds = trainIds;
    this.#numTrain = trainIds?.length ?? dataset.numSamples;
    this.#featureSize = dataset.featureShape.reduce((a, b) => a * b, 1);
    this.#labelSize = dataset.labelShape.reduce((a, b) => a * b, 1);
    this.#cache = new ByteLru(cacheBytes);
  }

  /** What `read` returns as features: the dataset's. */
  get featureType(): 'uint8' | 'float32' {
    return this.#dataset.featureType;
  }

  /**
   * Rows of these training ids in order (repeats allowed): cached rows
   * copied, missing ones read (one IndexedDataset.read for all misses), then
   * cached. Awaits a read already in flight of the same ids (a prefetch)
   * instead of reading them twice; if that read failed, reads them itself,
   * so its failure surfaces here. `bad` names dataset ids. A training id past
   * the end is DTRAIN_DATA_RANGE; a read after close is DTRAIN_DATA_UNREADABLE.
   */
  async read(trainIds: Uint32Array): Promise<IndexedBatch> {
    this.#checkOpen();
    trainIds.forEach((id, position) => {
      if (id >= this.#numTrain) {
        throw new DataError('DTRAIN_DATA_RANGE', `${this.#dataset.source}: training sample ${id} (position ${position}) does not exist; expected 0..${this.#numTrain - 1}`);
      }
    });
    const rows = new Map<number, CachedRow>();
    const bad = new Map<number, BadSample>();
    /** Training ids this read itself reads from the source: its misses. */
    const own = new Set<number>();
    const missing = new Set<number>();
    for (const id of trainIds) {
      if (rows.has(id) || missing.has(id)) continue;
      const row = this.#cache.get(id);
      if (row === undefined) missing.add(id);
      else rows.set(id, row);
    }

    const inFlight = new Map<Promise<Fetched>, number[]>();
    const toRead: number[] = [];
    for (const id of missing) {
      const fetch = this.#pending.get(id);
      if (fetch === undefined) toRead.push(id);
      else inFlight.set(fetch, [...(inFlight.get(fetch) ?? []), id]);
    }
    // Start this read's own source read before waiting for the others: they run side by side.
    const mine = toRead.length === 0 ? undefined : this.#fetch(toRead);
    const retry: number[] = [];
    for (const [fetch, ids] of inFlight) {
      const settled = await Promise.allSettled([fetch]);
      const result = settled[0];
      if (result?.status === 'fulfilled') take(result.value, ids, rows, bad);
      else retry.push(...ids);
    }
    if (mine !== undefined) {
      take(await mine, toRead, rows, bad);
      toRead.forEach((id) => own.add(id));
    }
    if (retry.length > 0) {
      take(await this.#fetch(retry), retry, rows, bad);
      retry.forEach((id) => own.add(id));
    }
    return this.#assemble(trainIds, rows, bad, own);
  }

  /**
   * Starts reading these training ids into the cache in the background,
   * skipping cached ones and ones already being read. Never rejects: a
   * failure is forgotten, and the later `read` of those ids surfaces it.
   * Bounded: at most one prefetch in flight; a call while one runs is queued,
   * replacing any call queued before it. Does nothing when cacheBytes is 0
   * or after close. Ids past the end are skipped (`read` reports them).
   */
  prefetch(trainIds: Uint32Array): void {
    if (this.#closed || this.#cache.maxBytes === 0) return;
    // A copy: the caller may reuse its array before the queued prefetch starts.
    if (this.#prefetching !== undefined) this.#queued = trainIds.slice();
    else this.#startPrefetch(trainIds);
  }

  get stats(): SharedSamplesStats {
    return { hits: this.#hits, misses: this.#misses, bytesRead: this.#bytesRead, prefetched: this.#prefetched, cachedBytes: this.#cache.stats.bytes };
  }

  /** Waits for reads in flight, drops the cache and closes the dataset. Further reads reject; prefetches do nothing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#queued = undefined;
    await Promise.allSettled([...new Set(this.#pending.values()), this.#prefetching]);
    this.#cache.clear();
    await this.#dataset.close();
  }

  #startPrefetch(trainIds: Uint32Array): void {
    const ids = [...new Set(trainIds)].filter((id) => id < this.#numTrain && !this.#cache.has(id) && !this.#pending.has(id));
    if (ids.length === 0) return;
    const next = (): void => {
      this.#prefetching = undefined;
      const queued = this.#queued;
      this.#queued = undefined;
      if (queued !== undefined && !this.#closed) this.#startPrefetch(queued);
    };
    this.#prefetching = this.#fetch(ids).then((fetched) => {
      this.#prefetched += fetched.rows.size + fetched.bad.size;
    }).then(next, next);
  }

  /** Reads these (distinct, uncached) training ids from the source with one dataset read, caching good rows; marks them pending meanwhile. */
  #fetch(ids: readonly number[]): Promise<Fetched> {
    const fetch = this.#readSource(ids);
    for (const id of ids) this.#pending.set(id, fetch);
    const settle = (): void => {
      for (const id of ids) if (this.#pending.get(id) === fetch) this.#pending.delete(id);
    };
    fetch.then(settle, settle);
    return fetch;
  }

  async #readSource(ids: readonly number[]): Promise<Fetched> {
    this.#checkOpen();
    const map = this.#trainIds;
    const batch = await this.#dataset.read(Uint32Array.from(ids, (id) => (map === undefined ? id : (map[id] as number))));
    this.#bytesRead += batch.features.byteLength;
    const badAt = new Map(batch.bad.map((b) => [b.position, b]));
    const rows = new Map<number, CachedRow>();
    const bad = new Map<number, BadSample>();
    const f = this.#featureSize;
    const l = this.#labelSize;
    ids.forEach((id, i) => {
      const badSample = badAt.get(i);
      if (badSample !== undefined) {
        bad.set(id, badSample);
        return;
      }
      const features = batch.features.slice(i * f, (i + 1) * f);
      const labels = batch.labels.slice(i * l, (i + 1) * l);
      const row = { features, labels, byteLength: features.byteLength + labels.byteLength };
      rows.set(id, row);
      if (!this.#closed) this.#cache.set(id, row);
    });
    return { rows, bad };
  }

  /** The batch of `trainIds` from the rows and bad samples found, counting hits and misses by position. */
  #assemble(trainIds: Uint32Array, rows: ReadonlyMap<number, CachedRow>, bad: ReadonlyMap<number, BadSample>, own: ReadonlySet<number>): IndexedBatch {
    const f = this.#featureSize;
    const l = this.#labelSize;
    const features = this.featureType === 'uint8' ? new Uint8Array(trainIds.length * f) : new Float32Array(trainIds.length * f);
    const labels = new Float32Array(trainIds.length * l);
    const badOut: BadSample[] = [];
    trainIds.forEach((id, position) => {
      if (own.has(id)) this.#misses++;
      else this.#hits++;
      const row = rows.get(id);
      if (row !== undefined) {
        features.set(row.features, position * f);
        labels.set(row.labels, position * l);
        return;
      }
      const b = bad.get(id) as BadSample;
      badOut.push({ position, id: b.id, reason: b.reason, message: b.message });
    });
    return { features, labels, bad: badOut };
  }

  #checkOpen(): void {
    if (this.#closed) {
      throw new DataError('DTRAIN_DATA_UNREADABLE', `${this.#dataset.source}: ${WHERE} are closed; expected reads before close()`, { file: this.#dataset.source });
    }
  }
}

/** Moves what a fetch brought for `ids` into the read's maps. */
function take(fetched: Fetched, ids: readonly number[], rows: Map<number, CachedRow>, bad: Map<number, BadSample>): void {
  for (const id of ids) {
    const row = fetched.rows.get(id);
    if (row !== undefined) rows.set(id, row);
    const b = fetched.bad.get(id);
    if (b !== undefined) bad.set(id, b);
  }
}
