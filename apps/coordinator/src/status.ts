import type { JobConfig } from './config/index.js';
import type { JobState } from './job-state.js';
import type { WorkerRecord, WorkerState } from './membership.js';
import type { EpochRecord } from './observer.js';

/** The JSON served at /status. */
export interface StatusReport {
  readonly job: string;
  readonly state: JobState;
  readonly failure: string | undefined;
  readonly epoch: number;
  readonly epochs: number;
  readonly step: number;
  readonly version: number;
  readonly samples: number;
  readonly lastLoss: number | null;
  readonly uptimeSeconds: number;
  readonly workers: readonly {
    readonly id: number;
    readonly state: WorkerState;
    readonly host: string | null;
    readonly backend: string | null;
    readonly address: string;
    readonly stepsApplied: number;
    readonly samplesApplied: number;
    readonly lastComputeSeconds: number | null;
    /** Of lastComputeSeconds, the worker's data wait: taking in and gathering its batch's samples. */
    readonly lastDataSeconds: number | null;
    /** Left out of the step quorum as a straggler. */
    readonly benched: boolean;
  }[];
  readonly rejected: Readonly<Record<string, number>>;
  readonly history: readonly EpochRecord[];
  /** The parameter-server shards in range order: one inside the coordinator, or the `dtrain ps` processes. */
  readonly shards: readonly ShardStatus[];
}

/** One parameter-server shard as /status shows it. */
export interface ShardStatus {
  readonly index: number;
  /** 'embedded': inside the coordinator; 'connected' / 'missing': a `dtrain ps` process that is (not) connected now. */
  readonly state: 'embedded' | 'connected' | 'missing';
  /** Its data-plane URL (null for the embedded shard or a missing one). */
  readonly url: string | null;
  /** Its range of the flat parameter vector, [start, end). */
  readonly start: number;
  readonly end: number;
}

export function buildStatus(s: {
  config: JobConfig;
  state: JobState;
  run: { epoch: number; step: number; samples: number; lastLoss: number | undefined; history: readonly EpochRecord[] };
  version: number;
  workers: readonly WorkerRecord[];
  startedAt: number;
  failure: string | undefined;
  rejected: Readonly<Record<string, number>>;
  shards: readonly ShardStatus[];
}): StatusReport {
  return {
    job: s.config.name,
    state: s.state,
    failure: s.failure,
    epoch: s.run.epoch,
    epochs: s.config.training.epochs,
    step: s.run.step,
    version: s.version,
    samples: s.run.samples,
    lastLoss: s.run.lastLoss ?? null,
    uptimeSeconds: (Date.now() - s.startedAt) / 1000,
    workers: s.workers.map((w) => ({
      id: w.id,
      state: w.state,
      host: w.capabilities?.host ?? null,
      backend: w.capabilities?.backend ?? null,
      address: w.connection.remoteAddress,
      stepsApplied: w.stepsApplied,
      samplesApplied: w.samplesApplied,
      lastComputeSeconds: w.lastComputeSeconds ?? null,
      lastDataSeconds: w.lastDataSeconds ?? null,
      benched: w.benched,
    })),
    rejected: s.rejected,
    history: s.run.history,
    shards: s.shards,
  };
}
