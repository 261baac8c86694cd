import { Buffer } from 'node:buffer';
import { DataError } from './data-error.js';
import type { Batch } from './dataset.js';
import { planEpoch, resolveEpochPlanOptions } from './epoch-plan.js';
import type { EpochPlanOptions } from './epoch-plan.js';

/** Where a batch stands in its epoch. */
export type BatchState = 'pending' | 'inFlight' | 'committed';

/**
 * A saved position within an epoch: the plan's inputs and which batches were
 * committed. JSON-able and compact (one bit per batch), for coordinator checkpoints.
 */
export interface PlanCursor {
  /** Cursor format version; restore refuses others. */
  readonly version: 1;
  /** The plan's inputs (see EpochPlanOptions): enough to rebuild the same batches. */
  readonly epoch: number;
  readonly seed: number;
  readonly batchSize: number;
  readonly numSamples: number;
  readonly shuffle: boolean;
  /** Committed batch ids as a bitmap, base64: batch i is bit (i % 8) (LSB first) of byte floor(i / 8). */
  readonly committed: string;
  /** Number of set bits in `committed`, a check against a damaged cursor. */
  readonly committedCount: number;
}

const PENDING = 0;
const IN_FLIGHT = 1;
const COMMITTED = 2;
const STATE_NAMES: readonly BatchState[] = ['pending', 'inFlight', 'committed'];

/**
 * One epoch's batches handed to a changing set of workers, so that every batch
 * is applied exactly once: `take` hands a batch out, `commit` records that its
 * gradient was applied, `release` puts back one whose gradient never was (the
 * worker failed, left or missed the deadline). Released batches go to the
 * front of the queue, oldest release first, so the epoch's order drifts least.
 */
export class BatchQueue {
  readonly epoch: number;
  readonly seed: number;
  readonly batchSize: number;
  readonly numSamples: number;
  readonly shuffle: boolean;
  readonly numBatches: number;
  readonly #batches: readonly Batch[];
  readonly #state: Uint8Array;
  /** Released batch ids, served before the untouched rest. */
  readonly #retry: number[] = [];
  /** The next untouched batch id; ids below it are in flight, committed or in #retry. */
  #next = 0;
  #inFlight = 0;
  #committed = 0;
  #committedSamples = 0;

  constructor(options: EpochPlanOptions) {
    const resolved = resolveEpochPlanOptions(options);
    this.epoch = resolved.epoch;
    this.seed = resolved.seed;
    this.batchSize = resolved.batchSize;
    this.numSamples = resolved.numSamples;
    this.shuffle = resolved.shuffle;
    this.#batches = planEpoch(resolved);
    this.numBatches = this.#batches.length;
    this.#state = new Uint8Array(this.numBatches);
  }

  /** The queue of a fresh epoch; the same as `new BatchQueue(options)`. */
  static forEpoch(options: EpochPlanOptions): BatchQueue {
    return new BatchQueue(options);
  }

  /** Batches not yet handed out (released ones included). */
  get pendingCount(): number {
    return this.numBatches - this.#inFlight - this.#committed;
  }

  /** Batches handed out and neither committed nor released. */
  get inFlightCount(): number {
    return this.#inFlight;
  }

  get committedCount(): number {
    return this.#committed;
  }

  /** Samples in committed batches. */
  get committedSamples(): number {
    return this.#committedSamples;
  }

  /** True when every batch of the epoch is committed. */
  isComplete(): boolean {
    return this.#committed === this.numBatches;
  }

  /** The next pending batch, now in flight; undefined when none is pending. */
  take(): Batch | undefined {
    let id = this.#retry.shift();
    if (id === undefined) {
      // Batches committed before a restore are skipped here.
      while (this.#next < this.numBatches && this.#state[this.#next] !== PENDING) this.#next++;
      if (this.#next === this.numBatches) return undefined;
      id = this.#next++;
    }
    this.#state[id] = IN_FLIGHT;
    this.#inFlight++;
    return this.#batches[id];
  }

  /**
   * Up to `count` batches `take` would hand out next, in that order, without
   * taking them (what a worker may prefetch).
   */
  peek(count: number): Batch[] {
    const out: Batch[] = [];
    for (const id of this.#retry) {
      if (out.length >= count) return out;
      out.push(this.#batches[id] as Batch);
    }
    for (let id = this.#next; id < this.numBatches && out.length < count; id++) {
      if (this.#state[id] === PENDING) out.push(this.#batches[id] as Batch);
    }
    return out;
  }

  /** Marks an in-flight batch applied. Anything else (twice, never taken, unknown id) is DTRAIN_DATA_PLAN. */
  commit(batchId: number): Batch {
    const batch = this.#expectInFlight(batchId, 'commit');
    this.#state[batchId] = COMMITTED;
    this.#inFlight--;
    this.#committed++;
    this.#committedSamples += batch.sampleIds.length;
    return batch;
  }

  /** Returns an in-flight batch whose gradient was not applied to the front of the queue. */
  release(batchId: number): void {
    this.#expectInFlight(batchId, 'release');
    this.#state[batchId] = PENDING;
    this.#inFlight--;
    this.#retry.push(batchId);
  }

  /** Releases every in-flight batch (e.g. all workers are gone); returns their ids. */
  releaseAll(): number[] {
    const ids = this.inFlightIds();
    for (const id of ids) this.release(id);
    return ids;
  }

  /** Ids of the batches in flight, ascending. */
  inFlightIds(): number[] {
    const ids: number[] = [];
    for (let id = 0; id < this.numBatches; id++) if (this.#state[id] === IN_FLIGHT) ids.push(id);
    return ids;
  }

  /** Where a batch stands; an unknown id is DTRAIN_DATA_PLAN. */
  state(batchId: number): BatchState {
    this.#checkId(batchId);
    return STATE_NAMES[this.#state[batchId] as number] as BatchState;
  }

  /** The batch with this id; an unknown id is DTRAIN_DATA_PLAN. */
  batch(batchId: number): Batch {
    this.#checkId(batchId);
    return this.#batches[batchId] as Batch;
  }

  /** The epoch's position; in-flight batches count as not committed, so a restore hands them out again. */
  snapshot(): PlanCursor {
    const bitmap = new Uint8Array(Math.ceil(this.numBatches / 8));
    for (let id = 0; id < this.numBatches; id++) {
      if (this.#state[id] === COMMITTED) bitmap[id >> 3] = (bitmap[id >> 3] as number) | (1 << (id & 7));
    }
    return {
      version: 1,
      epoch: this.epoch,
      seed: this.seed,
      batchSize: this.batchSize,
      numSamples: this.numSamples,
      shuffle: this.shuffle,
      committed: Buffer.from(bitmap).toString('base64'),
      committedCount: this.#committed,
    };
  }

  /** A queue at a saved position: committed batches stay committed, all others are pending. Malformed input is DTRAIN_DATA_CURSOR. */
  static restore(cursor: PlanCursor): BatchQueue {
    const c = checkCursor(cursor);
    const queue = new BatchQueue(c);
    const bitmap = decodeBitmap(c.committed, queue.numBatches);
    let count = 0;
    for (let id = 0; id < queue.numBatches; id++) {
      if (((bitmap[id >> 3] as number) >> (id & 7)) & 1) {
        queue.#state[id] = COMMITTED;
        queue.#committedSamples += (queue.#batches[id] as Batch).sampleIds.length;
        count++;
      }
    }
    if (count !== c.committedCount) {
      throw new DataError('DTRAIN_DATA_CURSOR', `plan cursor: committed bitmap has ${count} batches set but committedCount is ${c.committedCount}`);
    }
    queue.#committed = count;
    return queue;
  }

  #checkId(batchId: number): void {
    if (!Number.isInteger(batchId) || batchId < 0 || batchId >= this.numBatches) {
      throw new DataError('DTRAIN_DATA_PLAN', `unknown batch ${batchId} in epoch ${this.epoch}; expected 0..${this.numBatches - 1}`);
    }
  }

  #expectInFlight(batchId: number, action: 'commit' | 'release'): Batch {
    this.#checkId(batchId);
    const state = this.#state[batchId];
    if (state !== IN_FLIGHT) {
      const why = state === COMMITTED ? 'it is committed already' : 'it was not taken (pending)';
      throw new DataError('DTRAIN_DATA_PLAN', `cannot ${action} batch ${batchId} of epoch ${this.epoch}: ${why}; expected a batch in flight`);
    }
    return this.#batches[batchId] as Batch;
  }
}

function checkCursor(cursor: unknown): PlanCursor {
  const bad = (what: string): never => {
    throw new DataError('DTRAIN_DATA_CURSOR', `plan cursor: ${what}`);
  };
  if (typeof cursor !== 'object' || cursor === null) return bad(`expected an object, got ${JSON.stringify(cursor)}`);
  const c = cursor as Record<string, unknown>;
  if (c['version'] !== 1) bad(`version: expected 1, got ${JSON.stringify(c['version'])}`);
  for (const field of ['epoch', 'seed', 'batchSize', 'numSamples', 'committedCount']) {
    if (!Number.isSafeInteger(c[field])) bad(`${field}: expected an integer, got ${JSON.stringify(c[field])}`);
  }
  if (typeof c['shuffle'] !== 'boolean') bad(`shuffle: expected true or false, got ${JSON.stringify(c['shuffle'])}`);
  if (typeof c['committed'] !== 'string') bad(`committed: expected a base64 string, got ${JSON.stringify(c['committed'])}`);
  try {
    resolveEpochPlanOptions(c as unknown as EpochPlanOptions);
  } catch (error) {
    bad(error instanceof Error ? error.message : String(error));
  }
  return c as unknown as PlanCursor;
}

function decodeBitmap(base64: string, numBatches: number): Uint8Array {
  const bytes = Buffer.from(base64, 'base64');
  const expected = Math.ceil(numBatches / 8);
  // Buffer.from skips characters it doesn't know; re-encoding catches that.
  if (bytes.toString('base64') !== base64 || bytes.length !== expected) {
    throw new DataError('DTRAIN_DATA_CURSOR', `plan cursor: committed: expected base64 of ${expected} bytes for ${numBatches} batches, got ${JSON.stringify(base64.slice(0, 40))}`);
  }
  const spare = numBatches % 8;
  if (spare !== 0 && ((bytes[expected - 1] as number) >> spare) !== 0) {
    throw new DataError('DTRAIN_DATA_CURSOR', `plan cursor: committed: bits set past the last batch ${numBatches - 1}`);
  }
  return bytes;
}
