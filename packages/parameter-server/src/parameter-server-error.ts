/**
 * Stable error codes of the parameter server, grouped by what the caller does
 * next: fail the job (the job's configuration or saved state is wrong;
 * retrying won't help) or retry later (the disk, not the data, is the problem).
 *
 * Gradients that don't fit are not errors: `ParameterServer.push` answers with a
 * rejection reason instead, because a bad push evicts a worker, not the job.
 * Never rename a code: scripts and tests match on them.
 */
export const ParameterServerErrorCode = {
  /** A weight layout is inconsistent (offsets, sizes, shapes, duplicate names) or does not fit the weights it describes: fail the job. */
  LAYOUT: 'DTRAIN_PS_LAYOUT',
  /** An optimizer config or a server/writer option is invalid: fail the job; the user fixes the config. */
  CONFIG: 'DTRAIN_PS_CONFIG',
  /** Saved optimizer state does not fit the optimizer or the layout it is restored into: fail the job. */
  OPTIMIZER_STATE: 'DTRAIN_PS_OPTIMIZER_STATE',
  /** A checkpoint on disk is missing a file, corrupt, or does not fit together (the message names the file): fail the job; use another checkpoint. */
  CHECKPOINT: 'DTRAIN_PS_CHECKPOINT',
  /** Writing a model or checkpoint failed (disk full, permissions): retry later once the disk is fixed. */
  IO: 'DTRAIN_PS_IO',
} as const;
export type ParameterServerErrorCode = (typeof ParameterServerErrorCode)[keyof typeof ParameterServerErrorCode];

/** Extra context for a {@link ParameterServerError}; `cause` as for any Error. */
export interface ParameterServerErrorDetails extends ErrorOptions {
  /** The file concerned, for checkpoint and I/O errors. */
  readonly file?: string;
}

/**
 * The one error class of the parameter server. `code` is stable and meant for
 * programs; `message` is one line for people, naming the field or file.
 */
export class ParameterServerError extends Error {
  override readonly name = 'ParameterServerError';
  readonly code: ParameterServerErrorCode;
  readonly file: string | undefined;

  constructor(code: ParameterServerErrorCode, message: string, options: ParameterServerErrorDetails = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.file = options.file;
  }
}

/** True for a {@link ParameterServerError}, optionally of one code. */
export function isParameterServerError(
  error: unknown,
  code?: ParameterServerErrorCode,
): error is ParameterServerError {
  return error instanceof ParameterServerError && (code === undefined || error.code === code);
}
