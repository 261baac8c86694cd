/**
 * dtrain: distributed data-parallel training for TensorFlow.js, from
 * TypeScript. `fit` / `fitDataset` train a compiled tfjs LayersModel with
 * worker processes as `model.fit` / `model.fitDataset` would;
 * `startCoordinator` serves a job to workers (what `dtrain train` and
 * `dtrain coordinator` run). Nothing starts on import.
 */
export { fit, fitDataset } from './api/fit.js';
export type { FitArgs, FitCommonArgs, FitDatasetArgs, FitListen } from './api/fit-args.js';
export type { FitCallbacks, FitHistory, FitLogs } from './api/fit-callbacks.js';
export type { FitInput } from './api/fit-data.js';
export type { BatchSource, TfDataLike, XsYs } from './api/fit-data-collect.js';
export { FitError, FitErrorCode } from './api/fit-error.js';
export { startCoordinator } from './api/start-coordinator.js';
export type { CoordinatorHandle, CoordinatorJob, StartCoordinatorOptions, StopReason } from './api/start-coordinator.js';
export { startWorker, type StartWorkerOptions, type WorkerHandle } from './api/start-worker.js';
export { startShard, type StartShardOptions, type ShardHandle } from './api/start-shard.js';
export type { ServiceLogger, ServiceLogOption } from './api/start-worker-options.js';
export type { WorkerExit } from '@dtrain/worker';
export type { ShardExit } from '@dtrain/ps';
export { readIdx, type IdxTensorData } from './api/read-idx.js';
