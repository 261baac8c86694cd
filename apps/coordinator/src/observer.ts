import type { ShardStep } from '@dtrain/metrics';
import type { RoundEnd, RoundReport } from './step-round.js';
import type { WorkerState } from './membership.js';
import type { JobState } from './job-state.js';

/** A committed step, as reported to observers (metrics, progress display). */
export interface StepEvent {
  readonly step: number;
  readonly epoch: number;
  readonly version: number;
  readonly sampleCount: number;
  readonly loss: number;
  /** Sample-weighted training accuracy of the applied batches (training mode, before the update); undefined when the job does not report accuracy (regression losses, training.metrics without "accuracy"). */
  readonly accuracy: number | undefined;
  readonly wallSeconds: number;
  /** Data-plane bytes of the step, all shards: gradient frames summed and weights frames sent, headers included. */
  readonly gradientBytes: number;
  readonly weightBytes: number;
  readonly end: RoundEnd;
  readonly reports: readonly RoundReport[];
  readonly activeWorkers: number;
}

/** One finished epoch. */
export interface EpochRecord {
  readonly epoch: number;
  readonly loss: number;
  /** Sample-weighted training accuracy over the epoch's applied batches; undefined as for StepEvent.accuracy. */
  readonly accuracy: number | undefined;
  readonly valLoss: number | undefined;
  readonly valAccuracy: number | undefined;
  readonly samples: number;
  readonly samplesPerSecond: number;
  readonly wallSeconds: number;
  /** Per-sample application counts over the epoch: every sample exactly once means min = max = 1. */
  readonly appliedMin: number;
  readonly appliedMax: number;
}

/**
 * What one parameter-server shard did in a committed (or refused) step: the
 * metrics package's ShardStep, so the hook passes it on unchanged.
 */
export type ShardStepEvent = ShardStep;

/** Why a gradient push was not applied. */
export type RejectReason = 'stale' | 'duplicate' | 'non-finite' | 'malformed';

/**
 * Hooks the coordinator calls as a job runs. Metrics and the CLI's progress
 * display implement them; every method is optional and must be cheap.
 */
export interface CoordinatorObserver {
  jobState?(state: JobState): void;
  stepCommitted?(event: StepEvent): void;
  epochFinished?(record: EpochRecord): void;
  gradientRejected?(reason: RejectReason, workerId: number | undefined): void;
  /** Shared access: a shard a worker could not read ('unreadable'), or `count` samples skipped as `reason` ('parse', 'decode', 'shape'). */
  dataErrors?(reason: string, count: number): void;
  workerStates?(counts: Readonly<Record<WorkerState, number>>): void;
  bytes?(direction: 'in' | 'out', bytes: number): void;
  checkpointWritten?(step: number, dir: string): void;
  shardStep?(event: ShardStepEvent): void;
  /** A step in which no push was finite (nothing applied): the training loss is NaN. */
  stepNotFinite?(event: { readonly step: number; readonly epoch: number }): void;
  /** A worker was welcomed, disconnected (or left), or was evicted; `detail` is the log line's reason. */
  workerEvent?(kind: WorkerEventKind, workerId: number, detail: string): void;
  /** A lost shard process made the run roll back to the checkpoint at `step`. */
  rolledBack?(step: number, reason: string): void;
}

/** Membership changes reported by `CoordinatorObserver.workerEvent`. */
export type WorkerEventKind = 'joined' | 'left' | 'evicted';
