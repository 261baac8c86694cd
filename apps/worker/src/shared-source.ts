/**
 * Shared access on the worker: the training samples read from the source
 * itself (paths every worker sees, or http(s) URLs) instead of arriving as
 * chunks from the coordinator. Each shard is opened on its own at welcome,
 * so a shard this worker cannot read costs it only the batches with samples
 * there (the coordinator gives those to other workers); reads go through a
 * per-sample cache within `dataset.cacheBytes`, and the coordinator's hint
 * of the next assignment is read ahead while a step computes.
 */
import {
  DataError,
  SHARD_OPTION_KEYS,
  SharedSamples,
  isDataError,
  openIndexed,
  shardOfSample,
  splitIds,
  type BadSample,
  type IndexedBatch,
  type IndexedDataset,
  type IndexedFormat,
  type IndexedShard,
  type SharedSamplesStats,
} from '@dtrain/data';
import type { AssignmentMessage, BadSampleReport, SharedDataDescriptor } from '@dtrain/protocol';
import type { ReadSamples } from './compute.js';
import { WorkerError } from './errors.js';

/** Shards opened at once at welcome. */
const OPEN_CONCURRENCY = 8;

/** An assignment's samples as read: what to compute on, or the shard that could not be read. */
export type AssignmentRead =
  | {
      readonly kind: 'read';
      /** The assignment without its bad samples (local-SGD batch sizes adjusted): what the compute thread gets. */
      readonly assignment: AssignmentMessage;
      readonly samples: ReadSamples;
      readonly bad: readonly BadSampleReport[];
      readonly seconds: number;
    }
  | { readonly kind: 'unreadable'; readonly file: string; readonly message: string };

/** A shard as this worker opened it, or why it could not. */
type OpenedShard = { readonly dataset: IndexedDataset } | { readonly failure: string };

/**
 * The source as one {@link IndexedDataset} over shards opened one by one:
 * reading a sample of a shard that did not open rejects with
 * DTRAIN_DATA_UNREADABLE naming it, and nothing else is affected.
 */
class ShardedSource implements IndexedDataset {
  readonly format: string;
  readonly numSamples: number;
  readonly featureShape: readonly number[];
  readonly labelShape: readonly number[];
  readonly labelEncoding: IndexedDataset['labelEncoding'];
  readonly numClasses: number | undefined;
  readonly featureType: 'uint8' | 'float32';
  readonly shards: readonly IndexedShard[];
  readonly source: string;
  readonly #opened: readonly OpenedShard[];
  readonly #starts: Float64Array;

  constructor(descriptor: SharedDataDescriptor, opened: readonly OpenedShard[], first: IndexedDataset) {
    this.format = first.format;
    this.featureShape = first.featureShape;
    this.labelShape = first.labelShape;
    this.labelEncoding = first.labelEncoding;
    this.numClasses = first.numClasses;
    // Bytes only when every shard that opened holds bytes; one that did not open contributes nothing.
    this.featureType = opened.every((o) => !('dataset' in o) || o.dataset.featureType === 'uint8') ? 'uint8' : 'float32';
    this.shards = descriptor.shards.map((s) => ({ file: s.file, numSamples: s.numSamples }));
    this.source = first.source;
    this.#opened = opened;
    this.#starts = new Float64Array(descriptor.shards.length + 1);
    descriptor.shards.forEach((s, i) => {
      this.#starts[i + 1] = (this.#starts[i] as number) + s.numSamples;
    });
    this.numSamples = this.#starts[descriptor.shards.length] as number;
  }

  async read(ids: Uint32Array): Promise<IndexedBatch> {
    const featureSize = this.featureShape.reduce((a, b) => a * b, 1);
    const labelSize = this.labelShape.reduce((a, b) => a * b, 1);
    // Positions of `ids` by shard, each shard read once.
    const byShard = new Map<number, number[]>();
    ids.forEach((id, position) => {
      if (id >= this.numSamples) throw new DataError('DTRAIN_DATA_RANGE', `${this.source}: sample ${id} does not exist; expected 0..${this.numSamples - 1}`);
      const shard = shardOfSample(this.#starts, id);
      let positions = byShard.get(shard);
      if (positions === undefined) byShard.set(shard, (positions = []));
      positions.push(position);
    });
    const features = this.featureType === 'uint8' ? new Uint8Array(ids.length * featureSize) : new Float32Array(ids.length * featureSize);
    const labels = new Float32Array(ids.length * labelSize);
    const bad: BadSample[] = [];
    await Promise.all(
      [...byShard].map(async ([shard, positions]) => {
        const opened = this.#opened[shard] as OpenedShard;
        const file = (this.shards[shard] as IndexedShard).file;
        if (!('dataset' in opened)) throw new DataError('DTRAIN_DATA_UNREADABLE', opened.failure, { file });
        const start = this.#starts[shard] as number;
        const batch = await opened.dataset.read(Uint32Array.from(positions, (p) => (ids[p] as number) - start));
        positions.forEach((position, row) => {
          features.set(batch.features.subarray(row * featureSize, (row + 1) * featureSize), position * featureSize);
          labels.set(batch.labels.subarray(row * labelSize, (row + 1) * labelSize), position * labelSize);
        });
        for (const b of batch.bad) bad.push({ ...b, position: positions[b.position] as number, id: ids[positions[b.position] as number] as number });
      }),
    );
    return { features, labels, bad: bad.sort((a, b) => a.position - b.position) };
  }

  async close(): Promise<void> {
    await Promise.all(this.#opened.map((o) => ('dataset' in o ? o.dataset.close() : undefined)));
  }
}

/** The worker's training samples under shared access. */
export class SharedSource {
  readonly #samples: SharedSamples;
  #reported: SharedSamplesStats;

  private constructor(samples: SharedSamples) {
    this.#samples = samples;
    this.#reported = samples.stats;
  }

  /**
   * Opens every shard of the welcome's source (a shard that fails is
   * remembered, not fatal) and the training split. Fails only when no shard
   * opens, or when this worker's view of the source disagrees with the
   * coordinator's (another sample count).
   */
  static async open(descriptor: SharedDataDescriptor, numTrain: number): Promise<SharedSource> {
    const format = descriptor.source['format'];
    if (typeof format !== 'string' || !Object.hasOwn(SHARD_OPTION_KEYS, format)) {
      throw new WorkerError('DTRAIN_WORKER_REJECTED', `shared data: format ${JSON.stringify(format)} cannot be read by sample`);
    }
    const { format: _format, ...options } = descriptor.source;
    const keys = SHARD_OPTION_KEYS[format as IndexedFormat];
    const dataset = keys.length === 0 ? await openWhole(format, options, descriptor) : await openAllOrEach(format, options, keys, descriptor);
    const { train } = splitIds(dataset.numSamples, descriptor.validationSplit, descriptor.splitSeed);
    if (train.length !== numTrain) {
      await dataset.close();
      throw new WorkerError('DTRAIN_WORKER_REJECTED', `shared data: ${train.length} training samples here, ${numTrain} at the coordinator`);
    }
    return new SharedSource(new SharedSamples({ dataset, trainIds: train, cacheBytes: descriptor.cacheBytes }));
  }

  get stats(): SharedSamplesStats {
    return this.#samples.stats;
  }

  /** Hits, misses and bytes read since the last call (for the worker's metrics). */
  takeReads(): { hits: number; misses: number; bytesRead: number } {
    const now = this.#samples.stats;
    const last = this.#reported;
    this.#reported = now;
    return { hits: now.hits - last.hits, misses: now.misses - last.misses, bytesRead: now.bytesRead - last.bytesRead };
  }

  /** Reads these training ids into the cache in the background (the coordinator's hint of the next assignment). */
  prefetch(sampleIds: Uint32Array): void {
    this.#samples.prefetch(sampleIds);
  }

  /**
   * The assignment's samples, bad ones left out. A shard that cannot be read
   * is answered, not thrown: the coordinator gives those batches to others.
   */
  async read(assignment: AssignmentMessage): Promise<AssignmentRead> {
    const started = performance.now();
    let batch: IndexedBatch;
    try {
      batch = await this.#samples.read(assignment.sampleIds);
    } catch (error) {
      if (isDataError(error, 'DTRAIN_DATA_UNREADABLE')) return { kind: 'unreadable', file: error.file ?? '?', message: error.message };
      throw error;
    }
    const seconds = (performance.now() - started) / 1000;
    if (batch.bad.length === 0) return { kind: 'read', assignment, samples: batch, bad: [], seconds };
    return { kind: 'read', ...withoutBad(assignment, batch), seconds };
  }

  close(): Promise<void> {
    return this.#samples.close();
  }
}

/** A source whose shards are not separate options (an image folder): opened as one; its shards must be the coordinator's. */
async function openWhole(format: string, options: Record<string, unknown>, descriptor: SharedDataDescriptor): Promise<IndexedDataset> {
  const dataset = await openIndexed(format, options);
  const counts = dataset.shards.map((s) => s.numSamples).join(',');
  if (counts !== descriptor.shards.map((s) => s.numSamples).join(',')) {
    await dataset.close();
    throw new WorkerError('DTRAIN_WORKER_REJECTED', `shared data: ${dataset.source} has shards of [${counts}] samples here; the coordinator indexed others`);
  }
  return dataset;
}

/**
 * The source as one index when every shard opens and matches the
 * coordinator's (one read per batch, runs planned across shards); else each
 * shard on its own, so one this worker cannot read costs only its batches.
 */
async function openAllOrEach(format: string, options: Record<string, unknown>, keys: readonly string[], descriptor: SharedDataDescriptor): Promise<IndexedDataset> {
  try {
    return await openWhole(format, options, descriptor);
  } catch (error) {
    if (error instanceof WorkerError || isDataError(error)) return openSharded(format, options, keys, descriptor);
    throw error;
  }
}

/** Each shard opened on its own, a few at a time; one that fails is remembered with its reason. At least one must open. */
async function openSharded(format: string, options: Record<string, unknown>, keys: readonly string[], descriptor: SharedDataDescriptor): Promise<IndexedDataset> {
  const opened: OpenedShard[] = new Array(descriptor.shards.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < descriptor.shards.length) {
      const i = next++;
      const own: Record<string, unknown> = { ...options };
      for (const key of keys) {
        const list = options[key];
        if (!Array.isArray(list) || list.length !== descriptor.shards.length) {
          throw new WorkerError('DTRAIN_WORKER_REJECTED', `shared data: source.${key} should list ${descriptor.shards.length} shard(s)`);
        }
        own[key] = [list[i]];
      }
      opened[i] = await openOne(format, own, descriptor.shards[i]?.numSamples ?? 0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, descriptor.shards.length) }, lane));
  const first = opened.find((o): o is { dataset: IndexedDataset } => 'dataset' in o);
  if (first === undefined) {
    const failure = (opened[0] as { failure: string }).failure;
    throw new WorkerError('DTRAIN_WORKER_REJECTED', `shared data: no shard of the source could be opened here (first: ${failure})`);
  }
  return new ShardedSource(descriptor, opened, first.dataset);
}

async function openOne(format: string, options: Record<string, unknown>, numSamples: number): Promise<OpenedShard> {
  try {
    const dataset = await openIndexed(format, options);
    if (dataset.numSamples !== numSamples) {
      await dataset.close();
      return { failure: `${dataset.source} holds ${dataset.numSamples} samples here; the coordinator indexed ${numSamples}` };
    }
    return { dataset };
  } catch (error) {
    if (error instanceof DataError || (error instanceof Error && 'code' in error)) return { failure: error.message };
    throw error;
  }
}

/** The assignment and its samples without the bad ones; a local-SGD round's batch sizes shrink to match. */
function withoutBad(assignment: AssignmentMessage, batch: IndexedBatch): { assignment: AssignmentMessage; samples: ReadSamples; bad: BadSampleReport[] } {
  const n = assignment.sampleIds.length;
  const featureSize = batch.features.length / n;
  const labelSize = batch.labels.length / n;
  const skip = new Set(batch.bad.map((b) => b.position));
  const keep = n - skip.size;
  const sampleIds = new Uint32Array(keep);
  const features = batch.features instanceof Uint8Array ? new Uint8Array(keep * featureSize) : new Float32Array(keep * featureSize);
  const labels = new Float32Array(keep * labelSize);
  let at = 0;
  for (let i = 0; i < n; i++) {
    if (skip.has(i)) continue;
    sampleIds[at] = assignment.sampleIds[i] as number;
    features.set(batch.features.subarray(i * featureSize, (i + 1) * featureSize), at * featureSize);
    labels.set(batch.labels.subarray(i * labelSize, (i + 1) * labelSize), at * labelSize);
    at++;
  }
  let batches = assignment.batches;
  if (batches !== undefined) {
    let start = 0;
    batches = batches
      .map((b) => {
        let size = 0;
        for (let i = start; i < start + b.size; i++) if (!skip.has(i)) size++;
        start += b.size;
        return { batchId: b.batchId, size };
      })
      .filter((b) => b.size > 0);
  }
  const bad = batch.bad.map((b) => ({ sampleId: assignment.sampleIds[b.position] as number, reason: b.reason, message: b.message }));
  // The protocol's rule: a round's first batch is the assignment's batchId.
  const batchId = batches?.[0]?.batchId ?? assignment.batchId;
  return { assignment: { ...assignment, batchId, sampleIds, ...(batches === undefined ? {} : { batches }) }, samples: { features, labels }, bad };
}
