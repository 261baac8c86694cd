/**
 * Worker-side failures, with stable codes. The compute thread's, by what the
 * caller does next:
 * - `DTRAIN_WORKER_COMPUTE`: something other than a dtrain error was thrown
 *   while computing in the thread (its name and message are kept): fail the step.
 * - `DTRAIN_WORKER_THREAD`: the thread failed to start, crashed, exited or was
 *   terminated; every pending and later call fails: replace the thread or exit.
 * - `DTRAIN_WORKER_STATE`: a call the thread's state does not allow (a second
 *   `compute` while one is pending, `compute` before `load`): a bug in the caller.
 * The data plane's:
 * - `DTRAIN_WORKER_CHUNK`: a weights chunk that is not a chunk of the model's
 *   plan (coordinator and worker disagree on the model): drop the connection.
 * dtrain errors thrown in the thread (`DTRAIN_WORKER_VERSION`,
 * `DTRAIN_ENGINE_*`, `DTRAIN_DATA_*`) reach the caller as themselves.
 */
export type WorkerErrorCode =
  | 'DTRAIN_WORKER_LAYOUT'
  | 'DTRAIN_WORKER_VERSION'
  | 'DTRAIN_WORKER_CONNECT'
  | 'DTRAIN_WORKER_REJECTED'
  | 'DTRAIN_WORKER_COMPUTE'
  | 'DTRAIN_WORKER_THREAD'
  | 'DTRAIN_WORKER_STATE'
  | 'DTRAIN_WORKER_CHUNK';

export class WorkerError extends Error {
  readonly code: WorkerErrorCode;

  constructor(code: WorkerErrorCode, message: string) {
    super(message);
    this.name = 'WorkerError';
    this.code = code;
  }
}
