/** Worker-side failures, with stable codes. */
export type WorkerErrorCode = 'DTRAIN_WORKER_LAYOUT' | 'DTRAIN_WORKER_VERSION' | 'DTRAIN_WORKER_CONNECT' | 'DTRAIN_WORKER_REJECTED';

export class WorkerError extends Error {
  readonly code: WorkerErrorCode;

  constructor(code: WorkerErrorCode, message: string) {
    super(message);
    this.name = 'WorkerError';
    this.code = code;
  }
}
