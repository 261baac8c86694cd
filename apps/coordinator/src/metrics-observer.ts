import type { CoordinatorMetrics } from '@dtrain/metrics';
import type { CoordinatorObserver } from './observer.js';

/**
 * Turns the coordinator's events into Prometheus series (the metrics are
 * defined in @dtrain/metrics on the caller's registry). Runs on the step
 * loop's path, once per commit: a few µs even with 8 workers (see the
 * metrics package's benchmark).
 */
export function metricsObserver(metrics: CoordinatorMetrics): CoordinatorObserver {
  return {
    stepCommitted: (e) => {
      metrics.stepCommitted({
        epoch: e.epoch,
        sampleCount: e.sampleCount,
        loss: e.loss,
        accuracy: e.accuracy,
        wallSeconds: e.wallSeconds,
        gradientBytes: e.gradientBytes,
        weightBytes: e.weightBytes,
        workers: e.reports.map((r) => ({
          workerId: r.workerId,
          samples: r.batch.sampleIds.length,
          accepted: r.accepted,
          waitSeconds: r.waitSeconds,
          computeSeconds: r.computeSeconds,
        })),
      });
    },
    stepNotFinite: () => metrics.trainLossNotFinite(),
    epochFinished: (r) => metrics.epochFinished({ epoch: r.epoch, validationLoss: r.valLoss, validationAccuracy: r.valAccuracy }),
    gradientRejected: (reason) => metrics.gradientRejected(reason),
    dataErrors: (reason, count) => metrics.dataErrors(reason, count),
    workerStates: (counts) => metrics.workerStates(counts),
    bytes: (direction, bytes) => metrics.transferred(direction, bytes),
    checkpointWritten: () => metrics.checkpointWritten(),
    jobState: (state) => metrics.jobState(state),
    // The event has ShardStep's shape: passed on as is, nothing built per commit.
    shardStep: (e) => metrics.shardStep(e),
  };
}
