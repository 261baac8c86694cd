import type { JobState } from './job-state.js';
import type { CoordinatorObserver, EpochRecord, StepEvent, WorkerEventKind } from './observer.js';

/** One point of the step series: one step, or `stride` adjacent steps merged. */
export interface HistoryPoint {
  /** The last step this point covers. */
  step: number;
  epoch: number;
  /** Seconds since the job started, at the last step this point covers. */
  t: number;
  /** Sample-weighted mean training loss; null when no step it covers had a finite loss. */
  loss: number | null;
  /** Sample-weighted training accuracy; null when the job reports none (regression, or training.metrics without accuracy). */
  accuracy: number | null;
  /** Samples in the steps this point covers. */
  samples: number;
  samplesPerSecond: number;
  /** Slowest worker's compute time (StepEvent.reports[].computeSeconds), seconds. */
  computeSeconds: number;
  /** Longest wait from a step's first arrival to a worker's (reports[].waitSeconds), seconds. */
  waitSeconds: number;
  /** Step wall time minus the slowest compute (transfer, averaging, optimizer), seconds, ≥ 0. */
  syncSeconds: number;
  workers: number;
}

export interface HistoryEpoch {
  epoch: number;
  loss: number;
  /** Training accuracy over the epoch; null as for HistoryPoint.accuracy. */
  accuracy: number | null;
  valLoss: number | null;
  valAccuracy: number | null;
  samples: number;
  samplesPerSecond: number;
  wallSeconds: number;
}

export interface HistoryEvent {
  /** Seconds since the job started. */
  t: number;
  kind: 'joined' | 'left' | 'evicted' | 'checkpoint' | 'rollback' | 'state';
  workerId?: number;
  detail: string;
}

/** `GET /api/history` and `<outDir>/history.json`. */
export interface RunHistoryJson {
  version: 1;
  job: string;
  /** ISO time the job started. */
  startedAt: string;
  /** Steps per stored point (a power of two). */
  stride: number;
  maxPoints: number;
  steps: HistoryPoint[];
  epochs: HistoryEpoch[];
  events: HistoryEvent[];
}

/** What a live subscriber receives as it happens: `step` carries one step (stride 1). */
export type HistoryUpdate =
  | { readonly type: 'step'; readonly data: HistoryPoint }
  | { readonly type: 'epoch'; readonly data: HistoryEpoch }
  | { readonly type: 'event'; readonly data: HistoryEvent };

export interface RunHistoryOptions {
  /** The job's name. */
  readonly job: string;
  /** Most step points kept; when full, adjacent pairs merge and the stride doubles. Default 2000 (at least 2). */
  readonly maxPoints?: number;
  /** Most events kept (the newest). Default 500. */
  readonly maxEvents?: number;
  /** When the job started, ms since the epoch; default now. */
  readonly startedAt?: number;
  /** Clock, ms since the epoch; default Date.now (tests inject one). */
  readonly now?: () => number;
}

/**
 * The run's history for the live page and `history.json`: a step series
 * bounded to `maxPoints` with even coverage (pairwise merging, doubling
 * stride), every epoch, and the newest events. O(1) amortised per step.
 */
export class RunHistory implements CoordinatorObserver {
  readonly #job: string;
  readonly #maxPoints: number;
  readonly #maxEvents: number;
  readonly #startedAt: number;
  readonly #now: () => number;
  #stride = 1;
  readonly #points: HistoryPoint[] = [];
  /** Steps not yet making a whole stride, merged so far, and how many. */
  #pending: HistoryPoint | undefined;
  #pendingSteps = 0;
  readonly #epochs: HistoryEpoch[] = [];
  #events: HistoryEvent[] = [];
  readonly #listeners = new Set<(update: HistoryUpdate) => void>();

  constructor(o: RunHistoryOptions) {
    this.#job = o.job;
    this.#maxPoints = Math.max(2, o.maxPoints ?? 2000);
    this.#maxEvents = Math.max(1, o.maxEvents ?? 500);
    this.#startedAt = o.startedAt ?? Date.now();
    this.#now = o.now ?? Date.now;
  }

  // Hooks are own arrow properties, so an observer built by spreading this one keeps them.

  stepCommitted = (e: StepEvent): void => {
    let compute = 0;
    let wait = 0;
    for (const r of e.reports) {
      if (r.computeSeconds !== undefined && r.computeSeconds > compute) compute = r.computeSeconds;
      if (r.waitSeconds !== undefined && r.waitSeconds > wait) wait = r.waitSeconds;
    }
    const point: HistoryPoint = {
      step: e.step,
      epoch: e.epoch,
      t: this.#seconds(),
      loss: Number.isFinite(e.loss) ? e.loss : null,
      accuracy: e.accuracy ?? null,
      samples: e.sampleCount,
      samplesPerSecond: e.wallSeconds > 0 ? e.sampleCount / e.wallSeconds : 0,
      computeSeconds: compute,
      waitSeconds: wait,
      syncSeconds: Math.max(0, e.wallSeconds - compute),
      workers: e.activeWorkers,
    };
    this.#add(point);
    this.#emit({ type: 'step', data: point });
  };

  epochFinished = (r: EpochRecord): void => {
    const epoch: HistoryEpoch = {
      epoch: r.epoch,
      loss: r.loss,
      accuracy: r.accuracy ?? null,
      valLoss: r.valLoss ?? null,
      valAccuracy: r.valAccuracy ?? null,
      samples: r.samples,
      samplesPerSecond: r.samplesPerSecond,
      wallSeconds: r.wallSeconds,
    };
    this.#epochs.push(epoch);
    this.#emit({ type: 'epoch', data: epoch });
  };

  checkpointWritten = (step: number, dir: string): void => this.#event('checkpoint', `step ${step}: ${dir}`);
  jobState = (state: JobState): void => this.#event('state', state);
  workerEvent = (kind: WorkerEventKind, workerId: number, detail: string): void => this.#event(kind, detail, workerId);
  rolledBack = (step: number, reason: string): void => this.#event('rollback', `to step ${step}: ${reason}`);

  /** Calls `listener` with every step, epoch and event from now on; returns the unsubscribe function. */
  subscribe(listener: (update: HistoryUpdate) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The whole history; the steps of an unfinished stride form the last point. */
  toJSON(): RunHistoryJson {
    return {
      version: 1,
      job: this.#job,
      startedAt: new Date(this.#startedAt).toISOString(),
      stride: this.#stride,
      maxPoints: this.#maxPoints,
      steps: this.#pending === undefined ? [...this.#points] : [...this.#points, this.#pending],
      epochs: [...this.#epochs],
      events: [...this.events],
    };
  }

  #seconds(): number {
    return (this.#now() - this.#startedAt) / 1000;
  }

  #add(point: HistoryPoint): void {
    this.#pending = this.#pending === undefined ? point : mergePoints(this.#pending, point);
    this.#pendingSteps += 1;
    if (this.#pendingSteps < this.#stride) return;
    this.#points.push(this.#pending);
    this.#pending = undefined;
    this.#pendingSteps = 0;
    // One slot stays free for the unfinished stride, so toJSON never returns more than maxPoints.
    if (this.#points.length >= this.#maxPoints) this.#halve();
  }

  /** Merges adjacent pairs (an odd last point stays alone) and doubles the stride. */
  #halve(): void {
    const merged: HistoryPoint[] = [];
    for (let i = 0; i + 1 < this.#points.length; i += 2) merged.push(mergePoints(this.#points[i] as HistoryPoint, this.#points[i + 1] as HistoryPoint));
    const odd = this.#points.length % 2 === 1 ? this.#points.at(-1) : undefined;
    this.#points.length = 0;
    this.#points.push(...merged);
    this.#stride *= 2;
    // A lone last point covers half a stride: it becomes the unfinished one, completed by the next steps.
    if (odd !== undefined) {
      this.#pending = odd;
      this.#pendingSteps = this.#stride / 2;
    }
  }

  #event(kind: HistoryEvent['kind'], detail: string, workerId?: number): void {
    const event: HistoryEvent = { t: this.#seconds(), kind, ...(workerId === undefined ? {} : { workerId }), detail };
    this.#events.push(event);
    // Trimmed in batches, so keeping the newest costs O(1) amortised.
    if (this.#events.length >= this.#maxEvents * 2) this.#events = this.#events.slice(-this.#maxEvents);
    this.#emit({ type: 'event', data: event });
  }

  #emit(update: HistoryUpdate): void {
    for (const listener of this.#listeners) listener(update);
  }

  /** Events, newest last, at most maxEvents (the internal list is trimmed lazily). */
  get events(): readonly HistoryEvent[] {
    return this.#events.length > this.#maxEvents ? this.#events.slice(-this.#maxEvents) : this.#events;
  }
}

/** `a` then `b`: sums for samples, sample-weighted means for loss, accuracy and times, the later step, t and worker count. */
export function mergePoints(a: HistoryPoint, b: HistoryPoint): HistoryPoint {
  const samples = a.samples + b.samples;
  const wa = samples > 0 ? a.samples / samples : 0.5;
  const wb = 1 - wa;
  const mean = (x: number, y: number): number => x * wa + y * wb;
  const meanOrNull = (x: number | null, y: number | null): number | null => (x === null ? y : y === null ? x : mean(x, y));
  // Throughput over the two spans together: total samples over total time.
  const seconds = (p: HistoryPoint): number => (p.samplesPerSecond > 0 ? p.samples / p.samplesPerSecond : 0);
  const wall = seconds(a) + seconds(b);
  return {
    step: b.step,
    epoch: b.epoch,
    t: b.t,
    loss: meanOrNull(a.loss, b.loss),
    accuracy: meanOrNull(a.accuracy, b.accuracy),
    samples,
    samplesPerSecond: wall > 0 ? samples / wall : 0,
    computeSeconds: mean(a.computeSeconds, b.computeSeconds),
    waitSeconds: mean(a.waitSeconds, b.waitSeconds),
    syncSeconds: mean(a.syncSeconds, b.syncSeconds),
    workers: b.workers,
  };
}
