/**
 * Stable error codes of the parameter server, grouped by what the caller does next.
 *
 * Fail the job (the job's configuration or saved state is wrong; retrying won't help):
 * - `DTRAIN_PS_LAYOUT`: a weight layout is inconsistent (offsets, sizes, shapes,
 *   duplicate names) or does not fit the weights it describes.
 * - `DTRAIN_PS_CONFIG`: an optimizer config or a server/writer option is invalid.
 * - `DTRAIN_PS_OPTIMIZER_STATE`: saved optimizer state does not fit the optimizer
 *   or the layout it is restored into.
 * - `DTRAIN_PS_CHECKPOINT`: a checkpoint on disk is missing a file, corrupt, or
 *   does not fit together (the message names the file).
 *
 * Retry later (the disk, not the data, is the problem):
 * - `DTRAIN_PS_IO`: writing a model or checkpoint failed (disk full, permissions).
 *
 * Gradients that don't fit are not errors: `ParameterServer.push` answers with a
 * rejection reason instead, because a bad push evicts a worker, not the job.
 */
export type ParameterServerErrorCode =
  | 'DTRAIN_PS_LAYOUT'
  | 'DTRAIN_PS_CONFIG'
  | 'DTRAIN_PS_OPTIMIZER_STATE'
  | 'DTRAIN_PS_CHECKPOINT'
  | 'DTRAIN_PS_IO';

/** Extra context for a {@link ParameterServerError}. */
export interface ParameterServerErrorDetails {
  /** The file concerned, for checkpoint and I/O errors. */
  readonly file?: string;
  readonly cause?: unknown;
}

/**
 * The one error class of the parameter server. `code` is stable and meant for
 * programs; `message` is one line for people, naming the field or file.
 */
export class ParameterServerError extends Error {
  override readonly name = 'ParameterServerError';
  readonly code: ParameterServerErrorCode;
  readonly file: string | undefined;

  constructor(code: ParameterServerErrorCode, message: string, details: ParameterServerErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.file = details.file;
  }
}

/** True for a {@link ParameterServerError}, optionally of one code. */
export function isParameterServerError(
  error: unknown,
  code?: ParameterServerErrorCode,
): error is ParameterServerError {
  return error instanceof ParameterServerError && (code === undefined || error.code === code);
}
