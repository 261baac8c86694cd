import { encodeMessage } from '@dtrain/protocol';
import type { GradientsMessage, WeightEntry } from '@dtrain/protocol';
import { createOptimizer } from './create-optimizer.js';
import type { OptimizerConfig } from './optimizer-config.js';
import type { Optimizer, OptimizerState, ResolvedOptimizerConfig } from './optimizer.js';
import { ParameterServerError } from './parameter-server-error.js';
import { stateRanges, trainableRanges, validateLayoutFor } from './weight-layout.js';

/** What `push` did with a worker's gradients. */
export type PushOutcome = 'accepted' | 'duplicate' | 'stale' | 'non-finite' | 'malformed';

/** Why a push was not accumulated. */
export type PushRejection = Exclude<PushOutcome, 'accepted'>;

/** One worker's result for one step: the fields of a `GradientsMessage` the server uses (a message fits as is). */
export type GradientPush = Pick<GradientsMessage, 'workerId' | 'step' | 'version' | 'batchId' | 'sampleCount' | 'loss' | 'gradients'>;

/** What one committed step did. */
export interface CommitResult {
  /** The version the weights now have. */
  readonly version: number;
  /** Samples over all applied pushes. */
  readonly sampleCount: number;
  /** Sample-weighted mean of the pushes' losses. */
  readonly loss: number;
  /** Batches whose gradients were applied, in arrival order. */
  readonly batchIds: number[];
  /** Workers whose gradients were applied, in arrival order. */
  readonly workerIds: number[];
}

export interface ParameterServerOptions {
  readonly layout: readonly WeightEntry[];
  /** Initial weights, full layout length; copied. */
  readonly weights: Float32Array;
  readonly optimizer: OptimizerConfig;
  /** Version of `weights` (an integer ≥ 0); default 0, a checkpoint's when resuming. */
  readonly version?: number;
  /** Saved optimizer state to continue from, its learning rate included; default a fresh optimizer. */
  readonly optimizerState?: OptimizerState;
}

/** The server's state as a checkpoint stores it; every array is a copy. */
export interface ParameterServerSnapshot {
  readonly version: number;
  readonly weights: Float32Array;
  readonly optimizer: { readonly config: ResolvedOptimizerConfig; readonly state: OptimizerState };
}

/**
 * The authoritative weights of a synchronous data-parallel job. Pushes are
 * summed as they arrive (weighted by sample count, in one preallocated float64
 * buffer, so memory is O(model) for any number of workers); `commit` turns
 * the sum into one optimizer step and a new version. It knows nothing of
 * sockets or timing: the step loop decides when to commit or abort.
 */
export class ParameterServer {
  readonly layout: readonly WeightEntry[];
  /** Elements in the flat weight array. */
  readonly size: number;
  private readonly current: Float32Array;
  private currentVersion: number;
  private readonly optimizer: Optimizer;
  private readonly trainable: Uint32Array;
  private readonly nonTrainable: Uint32Array;
  /** Σ sampleCount·values of this step's accepted pushes. */
  private readonly sum: Float64Array;
  /** The averaged gradient handed to the optimizer; reused every step. */
  private readonly mean: Float32Array;
  private pendingSamples = 0;
  private pendingLossSum = 0;
  private pendingBatchIds: number[] = [];
  private pendingWorkerIds: number[] = [];
  private pendingSteps: number[] = [];
  /** `${workerId}:${step}` of this step's accepted pushes. */
  private readonly pendingKeys = new Set<string>();
  /** The step of each worker's last committed push, to recognise a replay after the commit. */
  private readonly committedSteps = new Map<number, number>();
  private readonly rejected: Record<PushRejection, number> = { duplicate: 0, stale: 0, 'non-finite': 0, malformed: 0 };
  private encoded: { readonly version: number; readonly step: number; readonly bytes: Uint8Array } | undefined;

  /** @throws ParameterServerError `DTRAIN_PS_LAYOUT`, `DTRAIN_PS_CONFIG` or `DTRAIN_PS_OPTIMIZER_STATE`. */
  constructor(options: ParameterServerOptions) {
    if (!(options.weights instanceof Float32Array)) {
      throw new ParameterServerError('DTRAIN_PS_LAYOUT', 'weights must be a Float32Array');
    }
    this.size = validateLayoutFor(options.layout, options.weights.length, 'weights');
    const version = options.version ?? 0;
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new ParameterServerError('DTRAIN_PS_CONFIG', `version must be an integer ≥ 0, got ${version}`);
    }
    this.layout = options.layout;
    this.current = options.weights.slice();
    this.currentVersion = version;
    this.optimizer = createOptimizer(options.optimizer, options.layout);
    if (options.optimizerState !== undefined) this.optimizer.setState(options.optimizerState);
    this.trainable = trainableRanges(options.layout);
    this.nonTrainable = stateRanges(options.layout);
    this.sum = new Float64Array(this.size);
    this.mean = new Float32Array(this.size);
  }

  /** Version of the current weights; +1 per commit. */
  get version(): number {
    return this.currentVersion;
  }

  /** The live weights (not a copy): read them, never write them. */
  get weights(): Float32Array {
    return this.current;
  }

  /** The optimizer's learning rate in effect. */
  get learningRate(): number {
    return this.optimizer.learningRate;
  }

  /** Pushes accepted since the last commit or abort. */
  get pendingPushes(): number {
    return this.pendingWorkerIds.length;
  }

  /** Samples over the pushes accepted since the last commit or abort. */
  get pendingSampleCount(): number {
    return this.pendingSamples;
  }

  /** E.g. to scale the rate with the number of workers; optimizer state is kept. */
  setLearningRate(learningRate: number): void {
    this.optimizer.setLearningRate(learningRate);
  }

  /**
   * Accumulates one worker's gradients for the current step, or says why not.
   * Checked in this order: malformed (ids, sample count, gradient length),
   * duplicate (this worker's push for this step is pending, or was its last
   * committed one — a replay after a reconnect; its batch was applied),
   * stale (computed at another version), non-finite (NaN/±Inf in the loss or
   * any value). Rejected pushes leave the sum untouched.
   */
  push(g: GradientPush): PushOutcome {
    const outcome = this.classify(g);
    if (outcome !== 'accepted') {
      this.rejected[outcome] += 1;
      return outcome;
    }
    const n = g.sampleCount;
    const values = g.gradients;
    const sum = this.sum;
    for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + n * (values[i] as number);
    this.pendingSamples += n;
    this.pendingLossSum += n * g.loss;
    this.pendingBatchIds.push(g.batchId);
    this.pendingWorkerIds.push(g.workerId);
    this.pendingSteps.push(g.step);
    this.pendingKeys.add(`${g.workerId}:${g.step}`);
    return 'accepted';
  }

  /**
   * Applies the step: the sample-weighted mean gradient goes through the
   * optimizer once (trainable entries); non-trainable entries take the
   * sample-weighted mean of the pushed values. Returns undefined, changing
   * nothing, when no push was accepted since the last commit or abort.
   */
  commit(): CommitResult | undefined {
    const samples = this.pendingSamples;
    if (samples === 0) return undefined;
    const { sum, mean, current } = this;
    const ranges = this.trainable;
    for (let r = 0; r < ranges.length; r += 2) {
      for (let i = ranges[r] as number; i < (ranges[r + 1] as number); i++) mean[i] = (sum[i] as number) / samples;
    }
    const state = this.nonTrainable;
    for (let r = 0; r < state.length; r += 2) {
      for (let i = state[r] as number; i < (state[r + 1] as number); i++) current[i] = (sum[i] as number) / samples;
    }
    this.optimizer.apply(current, mean);
    this.currentVersion += 1;

    this.pendingWorkerIds.forEach((workerId, i) => this.committedSteps.set(workerId, this.pendingSteps[i] as number));
    const result: CommitResult = {
      version: this.currentVersion,
      sampleCount: samples,
      loss: this.pendingLossSum / samples,
      batchIds: this.pendingBatchIds,
      workerIds: this.pendingWorkerIds,
    };
    this.clearPending();
    return result;
  }

  /**
   * Drops this step's accepted pushes without applying them (a coordinator
   * that abandons the step). Those workers may push the same step again.
   */
  abortStep(): void {
    this.clearPending();
  }

  /** Rejections per reason since construction. */
  rejectedCounts(): Record<PushRejection, number> {
    return { ...this.rejected };
  }

  /**
   * The `weights` message for the current version, encoded once: the same
   * bytes are returned (same object) until the next commit, so one buffer goes
   * to every socket. Asking for another step at the same version re-encodes.
   */
  encodedWeights(step: number): Uint8Array {
    const cached = this.encoded;
    if (cached !== undefined && cached.version === this.currentVersion && cached.step === step) return cached.bytes;
    const bytes = encodeMessage({ type: 'weights', version: this.currentVersion, step, weights: this.current });
    this.encoded = { version: this.currentVersion, step, bytes };
    return bytes;
  }

  /** A copy of the optimizer's state (slots, iterations, learning rate); later steps don't change it. */
  optimizerState(): OptimizerState {
    return this.optimizer.getState();
  }

  /** Copies of what a checkpoint needs; later steps don't change them. */
  snapshot(): ParameterServerSnapshot {
    return {
      version: this.currentVersion,
      weights: this.current.slice(),
      optimizer: { config: this.optimizer.config, state: this.optimizer.getState() },
    };
  }

  private classify(g: GradientPush): PushOutcome {
    if (
      !isNonNegativeInteger(g.workerId) ||
      !isNonNegativeInteger(g.step) ||
      !isNonNegativeInteger(g.batchId) ||
      !isNonNegativeInteger(g.sampleCount) ||
      g.sampleCount === 0 ||
      !(g.gradients instanceof Float32Array) ||
      g.gradients.length !== this.size
    ) {
      return 'malformed';
    }
    if (this.pendingKeys.has(`${g.workerId}:${g.step}`) || this.committedSteps.get(g.workerId) === g.step) {
      return 'duplicate';
    }
    if (g.version !== this.currentVersion) return 'stale';
    if (!Number.isFinite(g.loss) || !allFinite(g.gradients)) return 'non-finite';
    return 'accepted';
  }

  private clearPending(): void {
    this.sum.fill(0);
    this.pendingSamples = 0;
    this.pendingLossSum = 0;
    this.pendingBatchIds = [];
    this.pendingWorkerIds = [];
    this.pendingSteps = [];
    this.pendingKeys.clear();
  }
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function allFinite(values: Float32Array): boolean {
  // x − x is 0 for finite x and NaN for NaN and ±Inf: one test per element, no branch.
  let probe = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] as number;
    probe += x - x;
  }
  return probe === 0;
}
