/**
 * tfjs-style callbacks and History, fed by the coordinator's observer
 * hooks. The hooks are called on the coordinator's step loop and must stay
 * cheap, so each callback call is appended to one promise queue: callbacks
 * run in order, may be async, and never hold a step up.
 */
import type { CoordinatorObserver, EpochRecord, StepEvent } from '@dtrain/coordinator';

/** Log values, keyed as tfjs keys them: `loss`, `acc`, `val_loss`, `val_acc`; batch logs also `batch` and `size`. */
export type FitLogs = Record<string, number>;

/**
 * The callbacks `fit` calls, named and ordered as tfjs' `model.fit` calls
 * them. Each may return a promise; calls run one after another in the order
 * of events, while training goes on.
 */
export interface FitCallbacks {
  /** Once, before the first step. */
  onTrainBegin?(logs?: FitLogs): void | Promise<void>;
  /** Before the first step of each epoch (epochs count from 0). */
  onEpochBegin?(epoch: number, logs?: FitLogs): void | Promise<void>;
  /** After each committed step: `batch` is the step's index in its epoch; `size` the samples it applied over all workers; `loss`, `acc` (when reported) over those samples. */
  onBatchEnd?(batch: number, logs?: FitLogs): void | Promise<void>;
  /** After each completed epoch: `loss`, `acc`, `val_loss`, `val_acc` (those the job reports). */
  onEpochEnd?(epoch: number, logs?: FitLogs): void | Promise<void>;
  /** Once, after the last step (also when stopped); logs are the last epoch's. */
  onTrainEnd?(logs?: FitLogs): void | Promise<void>;
}

/** What `fit` resolves with: shaped as tfjs' `History` (`model.fit`'s result). */
export interface FitHistory {
  /** The epochs completed, in order (from 0, or where a resumed job continued). */
  readonly epoch: number[];
  /** Per-epoch values, index-aligned with `epoch`; a key is present only when the job reports it. */
  readonly history: { loss: number[]; acc?: number[]; val_loss?: number[]; val_acc?: number[] };
  /** As tfjs' History.params: epochs, initialEpoch, samples, steps, batchSize (per worker), verbose, doValidation, metrics. */
  readonly params: Record<string, number | string | boolean | string[] | null>;
}

/** Epoch logs as tfjs keys them, leaving out values the job does not report. */
export function epochLogs(r: Pick<EpochRecord, 'loss' | 'accuracy' | 'valLoss' | 'valAccuracy'>): FitLogs {
  const logs: FitLogs = { loss: r.loss };
  if (r.accuracy !== undefined) logs['acc'] = r.accuracy;
  if (r.valLoss !== undefined) logs['val_loss'] = r.valLoss;
  if (r.valAccuracy !== undefined) logs['val_acc'] = r.valAccuracy;
  return logs;
}

/**
 * Runs callback calls one at a time, in the order they were queued. The
 * first one to throw stops the rest (later calls are dropped) and is kept
 * in `error`; `afterEach` runs after every call (fit checks
 * `model.stopTraining` there).
 */
export class CallbackQueue {
  readonly #callbacks: readonly FitCallbacks[];
  readonly #afterEach: () => void;
  readonly #onError: (error: unknown) => void;
  #tail: Promise<void> = Promise.resolve();
  #error: { value: unknown } | undefined;

  constructor(callbacks: FitCallbacks | readonly FitCallbacks[] | undefined, hooks: { afterEach?: () => void; onError?: (error: unknown) => void } = {}) {
    this.#callbacks = callbacks === undefined ? [] : Array.isArray(callbacks) ? (callbacks as readonly FitCallbacks[]) : [callbacks as FitCallbacks];
    this.#afterEach = hooks.afterEach ?? (() => undefined);
    this.#onError = hooks.onError ?? (() => undefined);
  }

  /** The first error a callback threw, if any. */
  get error(): { value: unknown } | undefined {
    return this.#error;
  }

  /** Queues `name(...args)` on every callback object that has it. */
  call<K extends keyof FitCallbacks>(name: K, ...args: Parameters<NonNullable<FitCallbacks[K]>>): void {
    for (const callbacks of this.#callbacks) {
      const fn = callbacks[name] as ((...a: unknown[]) => void | Promise<void>) | undefined;
      if (typeof fn !== 'function') continue;
      this.#tail = this.#tail.then(async () => {
        if (this.#error !== undefined) return;
        try {
          await fn.apply(callbacks, args);
          this.#afterEach();
        } catch (error) {
          this.#error = { value: error };
          this.#onError(error);
        }
      });
    }
  }

  /** Resolves once every queued call ran. */
  async drained(): Promise<void> {
    // Calls queued while draining are awaited too.
    for (let tail = this.#tail; ; tail = this.#tail) {
      await tail;
      if (tail === this.#tail) return;
    }
  }
}

/**
 * The observer that turns the coordinator's events into callback calls and
 * the History: onEpochBegin before an epoch's first step, onBatchEnd per
 * committed step, onEpochEnd per finished epoch.
 */
export class FitEvents implements CoordinatorObserver {
  readonly history: FitHistory;
  readonly #queue: CallbackQueue;
  #epoch: number | undefined;
  #batch = 0;
  #last: FitLogs = {};

  constructor(queue: CallbackQueue, params: FitHistory['params']) {
    this.#queue = queue;
    this.history = { epoch: [], history: { loss: [] }, params };
  }

  /** Queues onTrainBegin. */
  begin(): void {
    this.#queue.call('onTrainBegin', {});
  }

  /** Queues onTrainEnd with the last epoch's logs. */
  end(): void {
    this.#queue.call('onTrainEnd', { ...this.#last });
  }

  stepCommitted(e: StepEvent): void {
    if (this.#epoch !== e.epoch) {
      this.#epoch = e.epoch;
      this.#batch = 0;
      this.#queue.call('onEpochBegin', e.epoch, {});
    }
    const logs: FitLogs = { batch: this.#batch, size: e.sampleCount, loss: e.loss };
    if (e.accuracy !== undefined) logs['acc'] = e.accuracy;
    this.#queue.call('onBatchEnd', this.#batch, logs);
    this.#batch += 1;
  }

  epochFinished(r: EpochRecord): void {
    const logs = epochLogs(r);
    this.#last = logs;
    const h = this.history.history as Record<string, number[]>;
    this.history.epoch.push(r.epoch);
    for (const [key, value] of Object.entries(logs)) (h[key] ??= []).push(value);
    this.#queue.call('onEpochEnd', r.epoch, { ...logs });
  }
}
