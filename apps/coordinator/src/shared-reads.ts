import type { Batch } from '@dtrain/data';
import type { BadSampleReport, ReadFailureMessage } from '@dtrain/protocol';
import { JobError } from './errors.js';
import type { Logger } from './logger.js';
import type { CoordinatorObserver } from './observer.js';
import type { SharedTraining } from './shared-data.js';

/**
 * What goes wrong when workers read their own samples (shared access), and
 * what the job does about it:
 * - A worker that cannot read a whole shard is given no batch with samples
 *   of it from then on; its batch goes to another worker. When no active
 *   worker can read a shard, the job fails naming it.
 * - A sample that does not parse or decode is skipped by the worker and
 *   counted here, once per sample; one more than `dataset.maxBadSamples`
 *   fails the job naming it.
 */
export class SharedReads {
  readonly #shared: SharedTraining;
  readonly #maxBadSamples: number;
  readonly #log: Logger;
  readonly #observer: CoordinatorObserver;
  /** Per worker: the shards it could not read, with its reason. */
  readonly #unreadable = new Map<number, Map<number, string>>();
  /** Bad samples by training id (a batch redone after an aborted step reports them again). */
  readonly #bad = new Map<number, BadSampleReport>();

  constructor(shared: SharedTraining, maxBadSamples: number, log: Logger, observer: CoordinatorObserver) {
    this.#shared = shared;
    this.#maxBadSamples = maxBadSamples;
    this.#log = log;
    this.#observer = observer;
  }

  /** Samples skipped so far because they do not parse or decode. */
  get badSamples(): number {
    return this.#bad.size;
  }

  /** True when some worker has reported a shard it cannot read (dealing then checks every batch). */
  get anyUnreadable(): boolean {
    return this.#unreadable.size > 0;
  }

  /** True unless `batch` has samples in a shard `workerId` could not read. */
  canTake(workerId: number, batch: Batch): boolean {
    const shards = this.#unreadable.get(workerId);
    return shards === undefined || !this.#shared.touches(batch.sampleIds, new Set(shards.keys()));
  }

  /**
   * A worker could not read a shard. Returns the job's failure when no
   * worker of `active` (worker ids) can read it any more.
   */
  readFailed(workerId: number, failure: ReadFailureMessage, active: readonly number[]): JobError | undefined {
    const shard = this.#shared.files.indexOf(failure.file);
    // A name the source does not have: the worker's own reader disagrees with ours; nothing narrower to exclude.
    const shards = shard < 0 ? this.#shared.files.map((_, i) => i) : [shard];
    let worker = this.#unreadable.get(workerId);
    if (worker === undefined) {
      worker = new Map();
      this.#unreadable.set(workerId, worker);
    }
    for (const s of shards) {
      if (!worker.has(s)) this.#observer.dataErrors?.('unreadable', 1);
      worker.set(s, failure.message);
    }
    this.#log.warn(`worker ${workerId} cannot read ${failure.file}: ${failure.message}; its batches with samples there go to other workers`);
    return this.#nobodyReads(shards, active);
  }

  /** A worker left: what it could not read no longer matters. */
  forget(workerId: number): void {
    this.#unreadable.delete(workerId);
  }

  /** The failure for batches no worker of `active` can take (dealing found only such batches). */
  unreadableBy(batch: Batch, active: readonly number[]): JobError | undefined {
    const shards = new Set<number>();
    for (const id of batch.sampleIds) shards.add(this.#shared.shardOf(id));
    return this.#nobodyReads([...shards], active);
  }

  /** Samples a worker skipped; returns the job's failure once there are more than `dataset.maxBadSamples`. */
  skipped(reports: readonly BadSampleReport[]): JobError | undefined {
    for (const report of reports) {
      if (this.#bad.has(report.sampleId)) continue;
      this.#bad.set(report.sampleId, report);
      this.#observer.dataErrors?.(report.reason, 1);
      this.#log.warn(`skipped training sample ${report.sampleId} (${report.reason}): ${report.message}`);
    }
    if (this.#bad.size <= this.#maxBadSamples) return undefined;
    const first = this.#bad.values().next().value as BadSampleReport;
    return new JobError(
      'DTRAIN_JOB_DATA',
      `${this.#bad.size} training sample(s) do not parse or decode, more than dataset.maxBadSamples=${this.#maxBadSamples}; first: ${first.message}`,
    );
  }

  #nobodyReads(shards: readonly number[], active: readonly number[]): JobError | undefined {
    if (active.length === 0) return undefined;
    for (const shard of shards) {
      const reasons = active.map((id) => [id, this.#unreadable.get(id)?.get(shard)] as const);
      if (reasons.some(([, reason]) => reason === undefined)) continue;
      const detail = reasons.map(([id, reason]) => `worker ${id}: ${reason ?? ''}`).join('; ');
      return new JobError('DTRAIN_JOB_DATA', `no worker can read ${this.#shared.files[shard] ?? `shard ${shard}`} (${detail})`);
    }
    return undefined;
  }
}
