import type { Batch } from '@dtrain/data';

/** Why a round ended. */
export type RoundEnd =
  /** Every assigned worker reported (or left). */
  | 'complete'
  /** `cluster.stepTimeoutMs` passed; the step commits with what arrived. */
  | 'deadline'
  /** The coordinator is shutting down. */
  | 'aborted';

/**
 * What one worker computes in a round: one batch (a synchronous step), or
 * with local SGD up to H of them (`batches`), their sample ids one after
 * another in `sampleIds` and the first one's id as `batchId`.
 */
export interface RoundWork extends Batch {
  readonly batches?: readonly Batch[];
}

/** The epoch-plan batches of a worker's work. */
export function batchesOf(work: RoundWork): readonly Batch[] {
  return work.batches ?? [work];
}

/** One worker's work in a round of local SGD: `batches` (at least one) as one piece of work. */
export function localRoundWork(batches: readonly Batch[]): RoundWork {
  const first = batches[0];
  if (first === undefined) throw new RangeError('a round needs at least one batch');
  if (batches.length === 1) return { ...first, batches };
  let size = 0;
  for (const b of batches) size += b.sampleIds.length;
  const sampleIds = new Uint32Array(size);
  let at = 0;
  for (const b of batches) {
    sampleIds.set(b.sampleIds, at);
    at += b.sampleIds.length;
  }
  return { batchId: first.batchId, epoch: first.epoch, sampleIds, batches };
}

/** What one worker did in the round. */
export interface RoundReport {
  readonly workerId: number;
  /** Its work: one batch, or a local-SGD round's batches (see RoundWork). */
  readonly batch: RoundWork;
  /** Push accepted by admission (complete and finite on the shards). */
  readonly accepted: boolean;
  /** Samples in the batch and the batch's mean loss, as the worker reported them. */
  readonly sampleCount: number;
  readonly loss: number;
  /** The batch's training accuracy as the worker reported it; undefined for regression losses and older workers. */
  readonly accuracy: number | undefined;
  /** Of computeSeconds, the worker's time getting the batch's samples; undefined from older workers. */
  readonly dataSeconds: number | undefined;
  /** Seconds from the round's first arrival to this one (the straggler signal). */
  readonly waitSeconds: number | undefined;
  readonly computeSeconds: number | undefined;
}

/**
 * One synchronous step: which worker computes which batch, and which of them
 * have answered. It knows nothing of sockets or the parameter server; the
 * training run feeds it arrivals and departures and awaits `ended`.
 */
export class StepRound {
  readonly step: number;
  readonly version: number;
  readonly startedAt = performance.now();
  readonly ended: Promise<RoundEnd>;
  readonly #assigned: Map<number, RoundWork>;
  readonly #reports = new Map<number, RoundReport>();
  /** Assigned workers that left before answering. */
  readonly #gone = new Set<number>();
  readonly #timer: NodeJS.Timeout;
  #firstArrival: number | undefined;
  #finish!: (why: RoundEnd) => void;
  #endedWith: RoundEnd | undefined;

  constructor(step: number, version: number, assigned: Map<number, RoundWork>, deadlineMs: number) {
    this.step = step;
    this.version = version;
    this.#assigned = assigned;
    this.ended = new Promise<RoundEnd>((resolve) => {
      this.#finish = (why) => {
        if (this.#endedWith !== undefined) return;
        this.#endedWith = why;
        clearTimeout(this.#timer);
        resolve(why);
      };
    });
    this.#timer = setTimeout(() => this.#finish('deadline'), deadlineMs);
    if (assigned.size === 0) this.#finish('complete');
  }

  /** The work assigned to `workerId` in this round, if any. */
  batchOf(workerId: number): RoundWork | undefined {
    return this.#assigned.get(workerId);
  }

  /** True once `workerId` has answered in this round. */
  hasReport(workerId: number): boolean {
    return this.#reports.has(workerId);
  }

  get isOpen(): boolean {
    return this.#endedWith === undefined;
  }

  /** Records a worker's answer. Only the first answer of a worker counts. */
  report(workerId: number, accepted: boolean, computeSeconds: number | undefined, loss = Number.NaN, extra: { readonly accuracy?: number | undefined; readonly dataSeconds?: number | undefined } = {}): void {
    const batch = this.#assigned.get(workerId);
    if (batch === undefined || this.#reports.has(workerId) || !this.isOpen) return;
    const now = performance.now();
    this.#firstArrival ??= now;
    this.#reports.set(workerId, {
      workerId,
      batch,
      accepted,
      sampleCount: batch.sampleIds.length,
      loss,
      accuracy: extra.accuracy,
      dataSeconds: extra.dataSeconds,
      waitSeconds: (now - this.#firstArrival) / 1000,
      computeSeconds,
    });
    this.#checkComplete();
  }

  /** A worker left or was evicted: stop waiting for it; its batch goes back to the queue. */
  forget(workerId: number): void {
    if (!this.#assigned.has(workerId) || this.#reports.has(workerId)) return;
    this.#gone.add(workerId);
    this.#checkComplete();
  }

  abort(): void {
    this.#finish('aborted');
  }

  /** Workers assigned in this round that have not answered (the silent ones at a deadline). */
  silentWorkers(): number[] {
    return [...this.#assigned.keys()].filter((id) => !this.#reports.has(id) && !this.#gone.has(id));
  }

  /** The accepted reports, in arrival order. */
  acceptedReports(): RoundReport[] {
    return [...this.#reports.values()].filter((r) => r.accepted);
  }

  /**
   * Batches whose gradients were applied, and the ones to hand out again
   * (each batch of the plan, also those of a local-SGD round).
   * `committed` false (the step applied nothing) releases every batch.
   */
  settle(committed = true): { applied: Batch[]; released: Batch[]; reports: RoundReport[] } {
    const applied: Batch[] = [];
    const released: Batch[] = [];
    for (const [workerId, work] of this.#assigned) {
      const report = this.#reports.get(workerId);
      if (committed && report?.accepted === true) applied.push(...batchesOf(work));
      else released.push(...batchesOf(work));
    }
    return { applied, released, reports: [...this.#reports.values()] };
  }

  #checkComplete(): void {
    if (this.#reports.size + this.#gone.size >= this.#assigned.size) this.#finish('complete');
  }
}

/** A step's sample-weighted training accuracy and the samples it covers. */
export interface StepAccuracy {
  readonly value: number;
  readonly samples: number;
}

/**
 * The training accuracy of a step's accepted pushes, weighted by their
 * samples, over those that carry one (all of them, unless a worker predates
 * the field); undefined when none does (a regression loss).
 */
export function sampleWeightedAccuracy(accepted: readonly RoundReport[]): StepAccuracy | undefined {
  let sum = 0;
  let samples = 0;
  for (const r of accepted) {
    if (r.accuracy === undefined) continue;
    sum += r.accuracy * r.sampleCount;
    samples += r.sampleCount;
  }
  return samples === 0 ? undefined : { value: sum / samples, samples };
}
