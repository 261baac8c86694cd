/**
 * Job-level failures: the job cannot go on and fails with this one-line reason.
 * Codes are stable strings for scripts and tests.
 */
export type JobErrorCode =
  | 'DTRAIN_JOB_NO_WORKERS'
  | 'DTRAIN_JOB_STOPPED'
  | 'DTRAIN_JOB_NON_FINITE'
  | 'DTRAIN_JOB_SHARD_LOST'
  | 'DTRAIN_JOB_INTERNAL';

export class JobError extends Error {
  readonly code: JobErrorCode;

  constructor(code: JobErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JobError';
    this.code = code;
  }
}

/**
 * A parameter-server shard process went away (its connection closed or
 * timed out) while the job needed it. The step loop catches it, pauses, and
 * rolls every shard back to the last checkpoint once all are back; only if
 * one stays away past `cluster.waitTimeoutMs` does the job fail with this code.
 */
export class ShardLostError extends JobError {
  readonly shard: number;

  constructor(shard: number, message: string) {
    super('DTRAIN_JOB_SHARD_LOST', message);
    this.name = 'ShardLostError';
    this.shard = shard;
  }
}
