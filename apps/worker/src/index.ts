export { Worker, type WorkerOptions, type WorkerExit, type WorkerLogger } from './worker.js';
export { WorkerState } from './worker-state.js';
export { backoffDelay, type BackoffOptions } from '@dtrain/protocol';
export { WorkerError, WorkerErrorCode } from './errors.js';
export { startMetricsServer, type MetricsServer, type MetricsServerOptions } from './metrics-server.js';
