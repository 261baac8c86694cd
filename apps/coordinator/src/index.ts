/**
 * @dtrain/coordinator: the coordinator of a dtrain job. `Coordinator` is the
 * transport-free core (membership, step loop, parameter server, lifecycle);
 * `CoordinatorServer` adapts it to WebSockets + HTTP on one port.
 */
export { Coordinator, type CoordinatorOptions } from './coordinator.js';
export { CoordinatorServer, type HttpEndpoints, type ServerOptions } from './ws-server.js';
export { evaluateData, heldTraining, inMemory, loadJobData, readSource, type DatasetInfo, type EvalData, type Evaluation, type JobData, type SharedAccessJobData, type ShippedJobData } from './job-data.js';
export { JobState, JobStateMachine } from './job-state.js';
export { WorkerState, type WorkerRecord } from './membership.js';
export { JobError, JobErrorCode, RequestRefusedError } from './errors.js';
export { stderrLogger, silentLogger, type Logger } from './logger.js';
export type { CoordinatorObserver, EpochRecord, StepEvent, RejectReason, WorkerEventKind } from './observer.js';
export { RunHistory, type RunHistoryOptions, type RunHistoryJson, type HistoryPoint, type HistoryEpoch, type HistoryEvent, type HistoryUpdate } from './run-history.js';
export type { LiveEndpoints } from './live-api.js';
export { combineObservers } from './combine-observers.js';
export { metricsObserver } from './metrics-observer.js';
export type { ShardStatus, StatusReport } from './status.js';
export type { JobSummary, ModelSidecar } from './output.js';
export { CloseCode, type Connection, type ConnectionHandler } from './transport.js';
export * from './config/index.js';
export type { TimingSummary } from './step-timings.js';
