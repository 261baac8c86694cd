/**
 * Job-level failures: the job cannot go on and fails with this one-line reason.
 * The coordinator's status and exit line lead with the code.
 */

/** Stable error codes. Never rename one: scripts, dashboards and tests match on them. */
export const JobErrorCode = {
  /** Fewer than cluster.minWorkers workers for cluster.waitTimeoutMs: the job fails; start workers and resume from the checkpoint. */
  NO_WORKERS: 'DTRAIN_JOB_NO_WORKERS',
  /** The job was stopped (signal or /stop) before training completed: not a failure; resume from the checkpoint. */
  STOPPED: 'DTRAIN_JOB_STOPPED',
  /** training.nonFinite.maxConsecutiveSteps steps in a row had no finite push (action 'fail'): the job fails; lower the learning rate or fix the data. */
  NON_FINITE: 'DTRAIN_JOB_NON_FINITE',
  /** A parameter-server shard process stayed away past cluster.waitTimeoutMs, or there was no checkpoint to roll back to: the job fails; restart the shard and resume. */
  SHARD_LOST: 'DTRAIN_JOB_SHARD_LOST',
  /** Shared access: no worker can read a shard, or more samples do not parse or decode than dataset.maxBadSamples: the job fails naming the file; fix or restore it and resume. */
  DATA: 'DTRAIN_JOB_DATA',
  /** A bug in the coordinator (shards disagree on the version, an illegal job-state transition, …): the job fails; report it. */
  INTERNAL: 'DTRAIN_JOB_INTERNAL',
  /** An operator's request (checkpoint now) that the job's state does not allow: HTTP 409, the job goes on; ask again while it runs. */
  REQUEST_REFUSED: 'DTRAIN_JOB_REQUEST_REFUSED',
} as const;
export type JobErrorCode = (typeof JobErrorCode)[keyof typeof JobErrorCode];

export class JobError extends Error {
  override readonly name: string = 'JobError';
  readonly code: JobErrorCode;

  constructor(code: JobErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
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
  override readonly name: string = 'ShardLostError';
  readonly shard: number;

  constructor(shard: number, message: string, options?: ErrorOptions) {
    super(JobErrorCode.SHARD_LOST, message, options);
    this.shard = shard;
  }
}

/**
 * An operator's request (checkpoint now) that the job's state does not
 * allow: not a failure, the job goes on. The HTTP API answers 409 with the
 * message.
 */
export class RequestRefusedError extends JobError {
  override readonly name: string = 'RequestRefusedError';

  constructor(message: string, options?: ErrorOptions) {
    super(JobErrorCode.REQUEST_REFUSED, message, options);
  }
}
