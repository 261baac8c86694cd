/**
 * Worker-side failures. On the coordinator connection every one is reported
 * to the coordinator and that connection closes; the compute thread's codes
 * say what its caller does next. dtrain errors thrown in the thread
 * (`DTRAIN_WORKER_VERSION`, `DTRAIN_ENGINE_*`, `DTRAIN_DATA_*`) reach the
 * caller as themselves.
 */

/** Stable error codes. Never rename one: scripts and tests match on them. */
export const WorkerErrorCode = {
  /** The model's weight layout or initial weights differ from the coordinator's: coordinator and worker disagree on the model; run the same build and config. */
  LAYOUT: 'DTRAIN_WORKER_LAYOUT',
  /** An assignment for a weights version this worker does not hold (or before any weights): the step fails, is reported to the coordinator and the connection closes. */
  VERSION: 'DTRAIN_WORKER_VERSION',
  /** A data link to a shard process failed its upgrade (no answer, or not 101): logged, and the link reopens with backoff. */
  CONNECT: 'DTRAIN_WORKER_CONNECT',
  /** The coordinator sent something this worker cannot accept (an unexpected message, a welcome mixing shard kinds): drop the connection. */
  REJECTED: 'DTRAIN_WORKER_REJECTED',
  /** Something other than a dtrain error was thrown while computing in the thread (its name and message are kept): fail the step. */
  COMPUTE: 'DTRAIN_WORKER_COMPUTE',
  /** The compute thread failed to start, crashed, exited or was terminated; every pending and later call fails: replace the thread or exit. */
  THREAD: 'DTRAIN_WORKER_THREAD',
  /** A call the thread's state does not allow (a second `compute` while one is pending, `compute` before `load`): a bug in the caller. */
  STATE: 'DTRAIN_WORKER_STATE',
  /** A chunk frame that is not a weights chunk of the model's plan (coordinator or shard and worker disagree on the model): drop the connection. */
  CHUNK: 'DTRAIN_WORKER_CHUNK',
  /** A bug in the worker (the thread entry imported as a module, a non-Error thrown on a data link): report it. */
  INTERNAL: 'DTRAIN_WORKER_INTERNAL',
} as const;
export type WorkerErrorCode = (typeof WorkerErrorCode)[keyof typeof WorkerErrorCode];

export class WorkerError extends Error {
  override readonly name = 'WorkerError';
  readonly code: WorkerErrorCode;

  constructor(code: WorkerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
