import type { CoordinatorObserver } from './observer.js';

/**
 * One observer that forwards every event to each of `observers`, in order
 * (e.g. metrics and the progress display). An observer that throws stops
 * the ones after it for that event, as a single observer would stop the
 * coordinator: observers must not throw.
 */
export function combineObservers(...observers: readonly CoordinatorObserver[]): CoordinatorObserver {
  return {
    jobState: (state) => {
      for (const o of observers) o.jobState?.(state);
    },
    stepCommitted: (event) => {
      for (const o of observers) o.stepCommitted?.(event);
    },
    epochFinished: (record) => {
      for (const o of observers) o.epochFinished?.(record);
    },
    gradientRejected: (reason, workerId) => {
      for (const o of observers) o.gradientRejected?.(reason, workerId);
    },
    dataErrors: (reason, count) => {
      for (const o of observers) o.dataErrors?.(reason, count);
    },
    workerStates: (counts) => {
      for (const o of observers) o.workerStates?.(counts);
    },
    bytes: (direction, bytes) => {
      for (const o of observers) o.bytes?.(direction, bytes);
    },
    checkpointWritten: (step, dir) => {
      for (const o of observers) o.checkpointWritten?.(step, dir);
    },
    shardStep: (event) => {
      for (const o of observers) o.shardStep?.(event);
    },
    stepNotFinite: (event) => {
      for (const o of observers) o.stepNotFinite?.(event);
    },
    workerEvent: (kind, workerId, detail) => {
      for (const o of observers) o.workerEvent?.(kind, workerId, detail);
    },
    rolledBack: (step, reason) => {
      for (const o of observers) o.rolledBack?.(step, reason);
    },
  } satisfies Required<CoordinatorObserver>;
}
