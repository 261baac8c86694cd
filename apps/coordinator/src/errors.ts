/**
 * Job-level failures: the job cannot go on and fails with this one-line reason.
 * Codes are stable strings for scripts and tests.
 */
export type JobErrorCode =
  | 'DTRAIN_JOB_NO_WORKERS'
  | 'DTRAIN_JOB_STOPPED'
  | 'DTRAIN_JOB_NON_FINITE'
  | 'DTRAIN_JOB_INTERNAL';

export class JobError extends Error {
  readonly code: JobErrorCode;

  constructor(code: JobErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JobError';
    this.code = code;
  }
}
