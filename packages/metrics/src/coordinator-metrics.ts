import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { SECONDS_BUCKETS } from './buckets.js';
import { SHARD_METRIC_NAMES, ShardMetrics, type ShardStep } from './shard-metrics.js';

/**
 * Worker lifecycle states exported by `dtrain_workers{state}`, every one of
 * them always (0 when no worker is in it) so a query never returns nothing.
 * `gone` is not among them: a gone worker is no longer counted anywhere.
 */
export const WORKER_STATES = ['connecting', 'joined', 'training', 'standby', 'draining'] as const;
/** The job's lifecycle states (the coordinator's JobState), exported as `dtrain_job_state{state}`. */
export const JOB_STATES = ['waiting', 'running', 'paused', 'evaluating', 'checkpointing', 'writing', 'done', 'failed', 'stopped'] as const;
export type JobStateLabel = (typeof JOB_STATES)[number];
export type WorkerStateLabel = (typeof WORKER_STATES)[number];

/** Why a gradient push was not applied: `dtrain_gradients_rejected_total{reason}`. */
export const REJECT_REASONS = ['stale', 'duplicate', 'non-finite', 'malformed'] as const;
export type RejectReasonLabel = (typeof REJECT_REASONS)[number];

/**
 * Why samples of a shared-access job could not be trained on:
 * `dtrain_data_errors_total{reason}`. `unreadable`: a worker could not read
 * a whole shard (counted once per worker and shard); the others are samples
 * that do not parse, decode, or have the wrong shape.
 */
export const DATA_ERROR_REASONS = ['unreadable', 'parse', 'decode', 'shape'] as const;
export type DataErrorReasonLabel = (typeof DATA_ERROR_REASONS)[number];

/** `dtrain_transfer_bytes_total{direction}`: bytes received from / sent to workers. */
export const TRANSFER_DIRECTIONS = ['in', 'out'] as const;
export type TransferDirection = (typeof TRANSFER_DIRECTIONS)[number];

/** `dtrain_data_plane_bytes_total{kind}`: gradient frames the shards summed, weights frames they sent. */
export const DATA_PLANE_KINDS = ['gradients', 'weights'] as const;
export type DataPlaneKind = (typeof DATA_PLANE_KINDS)[number];

/** Every metric the coordinator defines, its embedded shard's included (the dashboard and alert rules are checked against this list). */
export const COORDINATOR_METRIC_NAMES = [
  'dtrain_loss',
  'dtrain_accuracy',
  'dtrain_samples_total',
  'dtrain_steps_total',
  'dtrain_epoch',
  'dtrain_step_duration_seconds',
  'dtrain_step_wait_seconds',
  'dtrain_worker_compute_seconds',
  'dtrain_worker_samples_total',
  'dtrain_workers',
  'dtrain_transfer_bytes_total',
  'dtrain_data_plane_bytes_total',
  'dtrain_wire_info',
  'dtrain_local_steps',
  'dtrain_gradients_rejected_total',
  'dtrain_data_errors_total',
  'dtrain_last_step_timestamp_seconds',
  'dtrain_checkpoints_total',
  'dtrain_info',
  'dtrain_job_state',
  ...SHARD_METRIC_NAMES,
] as const;

/** The labels of `dtrain_info`. */
export interface CoordinatorInfo {
  /** The job's name (config `name`). */
  readonly job: string;
  /** tfjs backend the coordinator evaluates with (`wasm`, `tensorflow`, …). */
  readonly backend: string;
  /** dtrain version (the `dtrain` package's). */
  readonly version: string;
}

/** What one worker did in a committed step. */
export interface WorkerStepReport {
  /** The coordinator's small, reused worker id (the `worker` label). */
  readonly workerId: number;
  /** Samples in its batch. */
  readonly samples: number;
  /** Its gradient was applied; only applied samples count. */
  readonly accepted: boolean;
  /** Seconds from the step's first gradient to this worker's (0 for the first). */
  readonly waitSeconds?: number | undefined;
  /** Compute time the worker reported with its push, seconds. */
  readonly computeSeconds?: number | undefined;
}

/** A committed step. */
export interface CommittedStep {
  /** 0-based epoch the step belongs to. */
  readonly epoch: number;
  /** Samples applied in the step (all accepted gradients). */
  readonly sampleCount: number;
  /** Sample-weighted mean training loss of the step (NaN is exported as is: the "loss not finite" alert needs it). */
  readonly loss: number;
  /** Training accuracy of the step, when the workers report one; otherwise the train series stays absent. */
  readonly accuracy?: number | undefined;
  /** Wall time from the first assignment to the commit, seconds. */
  readonly wallSeconds: number;
  readonly workers: readonly WorkerStepReport[];
  /** Data-plane bytes of the step: gradient frames the shards summed, weights frames they sent (headers included). */
  readonly gradientBytes?: number | undefined;
  readonly weightBytes?: number | undefined;
}

/** A finished epoch's validation results. */
export interface FinishedEpoch {
  /** 0-based index of the epoch that finished. */
  readonly epoch: number;
  /** Absent without a validation split: the validation series are then not exported. */
  readonly validationLoss?: number | undefined;
  readonly validationAccuracy?: number | undefined;
}

export interface CoordinatorMetricsOptions {
  /** Clock for `dtrain_last_step_timestamp_seconds`, ms since the Unix epoch; default `Date.now`. */
  readonly now?: () => number;
  /**
   * Parameter-server shards this coordinator embeds, whose `dtrain_shard_*`
   * series exist from the start; default `[0]` (the embedded shard). Pass
   * `[]` when every shard runs in its own process and serves its own /metrics.
   */
  readonly shards?: readonly number[];
}

/** Worker counts by lifecycle state; states not given count 0, others are ignored. */
export type WorkerStateCounts = Readonly<Partial<Record<WorkerStateLabel, number>>>;

/**
 * Every coordinator metric, registered on the injected registry, with one
 * small update method per event. Per-worker series are labelled with the
 * coordinator's worker id, which is the smallest free integer and reused
 * after a worker leaves, so the number of series is bounded by the largest
 * number of workers connected at once, not by reconnects.
 */
export class CoordinatorMetrics {
  readonly #info: Gauge<'job' | 'backend' | 'version'>;
  readonly #loss: Gauge<'split'>;
  readonly #accuracy: Gauge<'split'>;
  readonly #samples: Counter;
  readonly #steps: Counter;
  readonly #epoch: Gauge;
  readonly #stepDuration: Histogram;
  readonly #stepWait: Histogram<'worker'>;
  readonly #workerCompute: Histogram<'worker'>;
  readonly #workerSamples: Counter<'worker'>;
  readonly #workers: Gauge<'state'>;
  readonly #transfer: Counter<'direction'>;
  readonly #dataPlane: Counter<'kind'>;
  readonly #wire: Gauge<'gradients' | 'weights'>;
  readonly #localSteps: Gauge;
  readonly #rejected: Counter<'reason'>;
  readonly #dataErrors: Counter<'reason'>;
  readonly #lastStep: Gauge;
  readonly #checkpoints: Counter;
  readonly #jobState: Gauge<'state'>;
  readonly #shards: ShardMetrics;
  /** Label objects per worker id, built once: no string work per step. */
  readonly #workerLabels = new Map<number, { readonly worker: string }>();
  readonly #now: () => number;
  #currentInfo: CoordinatorInfo;
  #stateSource: (() => WorkerStateCounts) | undefined;

  /**
   * @param registry where every metric is registered (never prom-client's global one)
   * @param info the labels of `dtrain_info`; `setInfo` changes them later
   */
  constructor(registry: Registry, info: CoordinatorInfo, options: CoordinatorMetricsOptions = {}) {
    const registers = [registry];
    const now = options.now ?? Date.now;
    this.#now = now;
    this.#currentInfo = info;
    this.#info = new Gauge({ name: 'dtrain_info', help: 'dtrain coordinator build and job; always 1.', labelNames: ['job', 'backend', 'version'], registers });
    this.#loss = new Gauge({
      name: 'dtrain_loss',
      help: 'Training loss of the last committed step (split="train") and validation loss at the last epoch end (split="validation").',
      labelNames: ['split'],
      registers,
    });
    this.#accuracy = new Gauge({
      name: 'dtrain_accuracy',
      help: 'Training accuracy of the last committed step (split="train"; classification losses with training.metrics accuracy) and validation accuracy at the last epoch end (split="validation").',
      labelNames: ['split'],
      registers,
    });
    this.#samples = new Counter({ name: 'dtrain_samples_total', help: 'Training samples whose gradients were applied.', registers });
    this.#steps = new Counter({ name: 'dtrain_steps_total', help: 'Committed steps (optimizer updates).', registers });
    this.#epoch = new Gauge({ name: 'dtrain_epoch', help: 'Epochs completed, i.e. the 0-based index of the epoch in progress.', registers });
    this.#stepDuration = new Histogram({
      name: 'dtrain_step_duration_seconds',
      help: 'Wall time of a step, from the first assignment to the commit; with local SGD (dtrain_local_steps > 1) a step is a round of that many batches per worker.',
      buckets: [...SECONDS_BUCKETS],
      registers,
    });
    this.#stepWait = new Histogram({
      name: 'dtrain_step_wait_seconds',
      help: "How long a step waited for each worker's gradient after the first one arrived (the straggler signal).",
      labelNames: ['worker'],
      buckets: [...SECONDS_BUCKETS],
      registers,
    });
    this.#workerCompute = new Histogram({
      name: 'dtrain_worker_compute_seconds',
      help: 'Compute time each worker reported with its gradient push.',
      labelNames: ['worker'],
      buckets: [...SECONDS_BUCKETS],
      registers,
    });
    this.#workerSamples = new Counter({ name: 'dtrain_worker_samples_total', help: "Samples of each worker's applied gradients.", labelNames: ['worker'], registers });
    this.#workers = new Gauge({
      name: 'dtrain_workers',
      help: 'Connected workers by lifecycle state.',
      labelNames: ['state'],
      registers,
      collect: () => {
        if (this.#stateSource !== undefined) this.workerStates(this.#stateSource());
      },
    });
    this.#transfer = new Counter({
      name: 'dtrain_transfer_bytes_total',
      help: 'WebSocket payload bytes received from (in) and sent to (out) workers.',
      labelNames: ['direction'],
      registers,
    });
    this.#dataPlane = new Counter({
      name: 'dtrain_data_plane_bytes_total',
      help: 'Data-plane bytes of the committed steps, all shards: gradient frames summed (kind="gradients", on cluster.wire) and weights frames sent to workers (kind="weights", on cluster.wireWeights), headers included. Per sample: rate(this) / rate(dtrain_samples_total).',
      labelNames: ['kind'],
      registers,
    });
    this.#wire = new Gauge({
      name: 'dtrain_wire_info',
      help: 'The element formats of the data plane (cluster.wire for gradients, cluster.wireWeights for weights); always 1.',
      labelNames: ['gradients', 'weights'],
      registers,
    });
    this.#localSteps = new Gauge({
      name: 'dtrain_local_steps',
      help: 'Batches each worker trains on locally per round before pushing a pseudo-gradient (training.localSteps); 1 = synchronous steps.',
      registers,
    });
    this.#localSteps.set(1);
    this.#rejected = new Counter({ name: 'dtrain_gradients_rejected_total', help: 'Gradient pushes (and other messages) not applied, by reason.', labelNames: ['reason'], registers });
    this.#lastStep = new Gauge({
      name: 'dtrain_last_step_timestamp_seconds',
      help: 'Unix time of the last committed step; the time metrics started until the first step, so a stall counts from the start.',
      registers,
    });
    this.#checkpoints = new Counter({ name: 'dtrain_checkpoints_total', help: 'Checkpoints written.', registers });
    this.#jobState = new Gauge({
      name: 'dtrain_job_state',
      help: 'The job lifecycle state: 1 for the current state, 0 for the others (alerts ignore a finished job).',
      labelNames: ['state'],
      registers,
    });

    this.#shards = new ShardMetrics(registry, { shards: options.shards ?? [0] });

    // Every bounded label value exists from the start: queries and alerts return 0, not nothing.
    for (const state of WORKER_STATES) this.#workers.set({ state }, 0);
    this.jobState('waiting');
    for (const reason of REJECT_REASONS) this.#rejected.inc({ reason }, 0);
    this.#dataErrors = new Counter({
      name: 'dtrain_data_errors_total',
      help: 'Shared access: shards a worker could not read, and samples skipped because they do not parse or decode, by reason.',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of DATA_ERROR_REASONS) this.#dataErrors.inc({ reason }, 0);
    for (const direction of TRANSFER_DIRECTIONS) this.#transfer.inc({ direction }, 0);
    for (const kind of DATA_PLANE_KINDS) this.#dataPlane.inc({ kind }, 0);
    this.#wire.set({ gradients: 'float32', weights: 'float32' }, 1);
    this.#lastStep.set(now() / 1000);
    this.#info.set({ ...info }, 1);
  }

  /** The job's wire formats (`dtrain_wire_info`); float32 both ways until told. */
  setWire(gradients: string, weights: string): void {
    this.#wire.reset();
    this.#wire.set({ gradients, weights }, 1);
  }

  /** The job's local steps per round (`dtrain_local_steps`); 1 until told. */
  setLocalSteps(steps: number): void {
    this.#localSteps.set(steps);
  }

  /** Changes labels of `dtrain_info` (e.g. the backend, known once the model host is up); the old series goes. */
  setInfo(info: Partial<CoordinatorInfo>): void {
    this.#currentInfo = { ...this.#currentInfo, ...info };
    this.#info.reset();
    this.#info.set({ ...this.#currentInfo }, 1);
  }

  /**
   * A step in which no push was finite (nothing was applied): the training
   * loss is NaN until a step commits again, so the "loss not finite" alert
   * sees a diverging job even though no step commits.
   */
  trainLossNotFinite(): void {
    this.#loss.set({ split: 'train' }, Number.NaN);
  }

  stepCommitted(step: CommittedStep): void {
    this.#steps.inc();
    this.#samples.inc(step.sampleCount);
    this.#epoch.set(step.epoch);
    this.#loss.set({ split: 'train' }, step.loss);
    if (step.accuracy !== undefined) this.#accuracy.set({ split: 'train' }, step.accuracy);
    if (isDuration(step.wallSeconds)) this.#stepDuration.observe(step.wallSeconds);
    this.#lastStep.set(this.#now() / 1000);
    if (step.gradientBytes !== undefined && step.gradientBytes > 0) this.#dataPlane.inc({ kind: 'gradients' }, step.gradientBytes);
    if (step.weightBytes !== undefined && step.weightBytes > 0) this.#dataPlane.inc({ kind: 'weights' }, step.weightBytes);
    for (const report of step.workers) {
      const labels = this.#labelsOf(report.workerId);
      // Values come from workers: a broken one must not be able to throw here.
      if (isDuration(report.waitSeconds)) this.#stepWait.observe(labels, report.waitSeconds);
      if (isDuration(report.computeSeconds)) this.#workerCompute.observe(labels, report.computeSeconds);
      if (report.accepted && report.samples > 0) this.#workerSamples.inc(labels, report.samples);
    }
  }

  epochFinished(epoch: FinishedEpoch): void {
    this.#epoch.set(epoch.epoch + 1);
    if (epoch.validationLoss !== undefined) this.#loss.set({ split: 'validation' }, epoch.validationLoss);
    if (epoch.validationAccuracy !== undefined) this.#accuracy.set({ split: 'validation' }, epoch.validationAccuracy);
  }

  gradientRejected(reason: RejectReasonLabel): void {
    this.#rejected.inc({ reason });
  }

  /** A shard a worker could not read, or `count` samples skipped; an unknown reason counts as `parse`. */
  dataErrors(reason: string, count = 1): void {
    const label = (DATA_ERROR_REASONS as readonly string[]).includes(reason) ? reason : 'parse';
    this.#dataErrors.inc({ reason: label }, count);
  }

  /** Worker counts by state; states missing from `counts` (and any not in WORKER_STATES) are exported as 0 / ignored. */
  workerStates(counts: WorkerStateCounts): void {
    for (const state of WORKER_STATES) this.#workers.set({ state }, counts[state] ?? 0);
  }

  /**
   * Reads worker counts from `source` at every scrape. Workers move between
   * joined and training every step without a membership event, so counts
   * pushed on events alone would show whatever held at the last join or
   * leave; a scrape-time read shows the moment of the scrape.
   */
  readWorkerStatesFrom(source: () => WorkerStateCounts): void {
    this.#stateSource = source;
  }

  transferred(direction: TransferDirection, bytes: number): void {
    if (bytes > 0) this.#transfer.inc({ direction }, bytes);
  }

  /** One commit of a shard the coordinator embeds (see ShardMetrics). */
  shardStep(step: ShardStep): void {
    this.#shards.shardStep(step);
  }

  checkpointWritten(): void {
    this.#checkpoints.inc();
  }

  /** The job entered `state` (one of JOB_STATES; others are ignored). */
  jobState(state: string): void {
    if (!(JOB_STATES as readonly string[]).includes(state)) return;
    for (const s of JOB_STATES) this.#jobState.set({ state: s }, s === state ? 1 : 0);
  }

  #labelsOf(workerId: number): { readonly worker: string } {
    let labels = this.#workerLabels.get(workerId);
    if (labels === undefined) {
      labels = { worker: String(workerId) };
      this.#workerLabels.set(workerId, labels);
    }
    return labels;
  }
}

function isDuration(seconds: number | undefined): seconds is number {
  return seconds !== undefined && Number.isFinite(seconds) && seconds >= 0;
}
