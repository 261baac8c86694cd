/**
 * @dtrain/metrics: every Prometheus metric dtrain exports, defined once with
 * prom-client on a registry the caller creates and injects. Nothing is
 * registered or collected on import; `createMetricsRegistry` (and its
 * `collectProcessMetrics`) is where default process metrics are switched on.
 */
export type { Registry } from 'prom-client';
export { createMetricsRegistry, collectProcessMetrics, renderMetrics, type MetricsRegistryOptions, type RenderedMetrics } from './registry.js';
export { FAST_SECONDS_BUCKETS, SECONDS_BUCKETS } from './buckets.js';
export {
  COORDINATOR_METRIC_NAMES,
  CoordinatorMetrics,
  DATA_ERROR_REASONS,
  REJECT_REASONS,
  TRANSFER_DIRECTIONS,
  WORKER_STATES,
  JOB_STATES,
  type JobStateLabel,
  type CommittedStep,
  type CoordinatorInfo,
  type CoordinatorMetricsOptions,
  type DataErrorReasonLabel,
  type FinishedEpoch,
  type RejectReasonLabel,
  type TransferDirection,
  type WorkerStateCounts,
  type WorkerStateLabel,
  type WorkerStepReport,
} from './coordinator-metrics.js';
export { COMMIT_OUTCOMES, SHARD_METRIC_NAMES, ShardMetrics, type CommitOutcome, type ShardMetricsOptions, type ShardStep } from './shard-metrics.js';
export { WORKER_METRIC_NAMES, WorkerMetrics, type SampleReads, type TfjsMemory, type WorkerInfo, type WorkerStep } from './worker-metrics.js';
