/**
 * Stable error codes of the data package, grouped by what the caller does next:
 * fail the job (a user's data file or configuration is wrong; retrying won't
 * help), drop the message and carry on, or fetch the data and retry.
 * Never rename one: scripts and tests match on them.
 */
export const DataErrorCode = {
  // Fail the job: the user fixes the data file or the configuration.
  /** A data file does not exist: fail the job; the user fixes the path. */
  NOT_FOUND: 'DTRAIN_DATA_NOT_FOUND',
  /** A data file exists but cannot be read (permissions, a directory, …): fail the job. */
  READ: 'DTRAIN_DATA_READ',
  /** A gzip-compressed file is corrupt: fail the job; the user replaces the file. */
  GZIP: 'DTRAIN_DATA_GZIP',
  /** An IDX or .npy file does not start with a valid magic number: fail the job. */
  MAGIC: 'DTRAIN_DATA_MAGIC',
  /** A file ends before its header or body does: fail the job. */
  TRUNCATED: 'DTRAIN_DATA_TRUNCATED',
  /** An IDX or .npy file has bytes after its declared body: fail the job. */
  TRAILING: 'DTRAIN_DATA_TRAILING',
  /** A file's structure is not what the reader needs (a CSV row with too few cells, a labels file that is not 1-D, images and labels of different counts, shards or images whose sample shapes disagree): fail the job. */
  SHAPE: 'DTRAIN_DATA_SHAPE',
  /** A CSV cell that must be a number is not one: fail the job; the message names line and column. */
  CSV_CELL: 'DTRAIN_DATA_CSV_CELL',
  /** A CSV quote is not closed or is followed by stray characters: fail the job. */
  CSV_SYNTAX: 'DTRAIN_DATA_CSV_SYNTAX',
  /** A JSONL line is not valid JSON or not an object: fail the job; the message names file and line. */
  JSON: 'DTRAIN_DATA_JSON',
  /** A JSONL record lacks a configured feature or label field, or holds a value of the wrong type there: fail the job; the message names file and line. */
  FIELD: 'DTRAIN_DATA_FIELD',
  /** A .npy header is malformed or describes an array the reader cannot take (Fortran order, big-endian, an unsupported dtype, an int64 beyond ±2^53): fail the job; the user re-saves the array. */
  NPY: 'DTRAIN_DATA_NPY',
  /** An image file does not decode (corrupt, truncated, or not PNG/JPEG inside): fail the job; the user replaces the file. */
  IMAGE: 'DTRAIN_DATA_IMAGE',
  /** A class label is negative, not an integer, or ≥ numClasses: fail the job. */
  LABEL_RANGE: 'DTRAIN_DATA_LABEL_RANGE',
  /** Reader, split, encoding or normalisation options are invalid: fail the job; the user fixes the config. */
  OPTIONS: 'DTRAIN_DATA_OPTIONS',
  /** No reader is registered for a dataset format: fail the job. */
  FORMAT: 'DTRAIN_DATA_FORMAT',
  /** Saved normalisation statistics are malformed or don't fit the dataset: fail the job. */
  STATS: 'DTRAIN_DATA_STATS',
  /** A saved plan cursor is malformed: fail the job (the checkpoint does not fit). */
  CURSOR: 'DTRAIN_DATA_CURSOR',
  // Drop the message and carry on (a stale or duplicate report, or a caller bug).
  /** A batch was committed or released that is not in flight: drop the report and carry on. */
  PLAN: 'DTRAIN_DATA_PLAN',
  // Fetch the data and retry (worker side).
  /** A batch needs a chunk the cache does not hold, or a chunk is malformed: fetch the chunk and retry. */
  CHUNK: 'DTRAIN_DATA_CHUNK',
  /** A sample id lies outside the data it indexes: fetch the data and retry. */
  RANGE: 'DTRAIN_DATA_RANGE',
  // Retry the read, then fail the job (a shard that was indexed cannot be read now).
  /** A shard that was indexed cannot be read now (vanished, shorter than indexed, a server not answering 206): with shared access the worker reports it and gets other batches; `file` names it. */
  UNREADABLE: 'DTRAIN_DATA_UNREADABLE',
} as const;
export type DataErrorCode = (typeof DataErrorCode)[keyof typeof DataErrorCode];

/** Where in a file a problem was found. Fields are set as far as they apply. */
export interface DataPosition {
  /** Byte offset from the start of the file, for binary formats; of the gunzipped bytes when `gunzipped`. */
  readonly byteOffset?: number;
  /** The file was gzip-compressed and `byteOffset` counts decompressed bytes. */
  readonly gunzipped?: boolean;
  /** 1-based line number, for text formats. */
  readonly line?: number;
  /** 1-based column number, for text formats. */
  readonly column?: number;
  /** Header name of the column, when the file has a header. */
  readonly columnName?: string;
}

/** Extra context for a {@link DataError}; `cause` as for any Error. */
export interface DataErrorDetails extends ErrorOptions {
  /** The data file concerned, as the user named it. */
  readonly file?: string;
  readonly position?: DataPosition;
}

/**
 * The one error class of the data package. `code` is stable and meant for
 * programs; `message` is one line for people, naming the file and position.
 */
export class DataError extends Error {
  override readonly name = 'DataError';
  readonly code: DataErrorCode;
  readonly file: string | undefined;
  readonly position: DataPosition | undefined;

  constructor(code: DataErrorCode, message: string, options: DataErrorDetails = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.file = options.file;
    this.position = options.position;
  }
}

/** True for a {@link DataError}, optionally of one code. */
export function isDataError(error: unknown, code?: DataErrorCode): error is DataError {
  return error instanceof DataError && (code === undefined || error.code === code);
}

/** Renders a position the way messages use it: `byte 16`, `byte 16 (gunzipped)` or `line 3, column 2 ("width")`. */
export function describePosition(position: DataPosition): string {
  const parts: string[] = [];
  if (position.byteOffset !== undefined) {
    parts.push(`byte ${position.byteOffset}${position.gunzipped === true ? ' (gunzipped)' : ''}`);
  }
  if (position.line !== undefined) parts.push(`line ${position.line}`);
  if (position.column !== undefined) {
    const name = position.columnName === undefined ? '' : ` (${JSON.stringify(position.columnName)})`;
    parts.push(`column ${position.column}${name}`);
  }
  return parts.join(', ');
}

/** Builds a DataError whose message starts with `file: position: `. */
export function dataErrorAt(
  code: DataErrorCode,
  file: string,
  position: DataPosition | undefined,
  what: string,
  cause?: unknown,
): DataError {
  const where = position === undefined ? '' : describePosition(position);
  const prefix = where === '' ? `${file}: ` : `${file}: ${where}: `;
  return new DataError(code, prefix + what, {
    file,
    ...(position === undefined ? {} : { position }),
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * `error` as DTRAIN_DATA_UNREADABLE naming `file`: a failure to read a shard
 * that was indexed. A DataError keeps its message (already naming the file)
 * and position; anything else becomes `file: cannot be read (reason)`.
 */
export function asUnreadable(error: unknown, file: string): DataError {
  if (isDataError(error, 'DTRAIN_DATA_UNREADABLE')) return error;
  if (error instanceof DataError) {
    const message = error.message.startsWith(`${file}: `) ? error.message : `${file}: ${error.message}`;
    return new DataError('DTRAIN_DATA_UNREADABLE', message, { file, ...(error.position === undefined ? {} : { position: error.position }), cause: error });
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = code ?? (error instanceof Error ? error.message : String(error)).split('\n')[0];
  return new DataError('DTRAIN_DATA_UNREADABLE', `${file}: cannot be read (${reason})`, { file, cause: error });
}
