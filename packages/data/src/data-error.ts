/**
 * Stable error codes of the data package, grouped by what the caller does next.
 *
 * Fail the job (a user's data file or configuration is wrong; retrying won't help):
 * - `DTRAIN_DATA_NOT_FOUND`: a data file does not exist.
 * - `DTRAIN_DATA_READ`: a data file exists but cannot be read (permissions, a directory, …).
 * - `DTRAIN_DATA_GZIP`: a gzip-compressed file is corrupt.
 * - `DTRAIN_DATA_MAGIC`: an IDX file does not start with a valid magic number.
 * - `DTRAIN_DATA_TRUNCATED`: a file ends before its header or body does.
 * - `DTRAIN_DATA_TRAILING`: an IDX file has bytes after its declared body.
 * - `DTRAIN_DATA_SHAPE`: a file's structure is not what the reader needs
 *   (a CSV row with too few cells, a labels file that is not 1-D, images and labels of different counts).
 * - `DTRAIN_DATA_CSV_CELL`: a CSV cell that must be a number is not one.
 * - `DTRAIN_DATA_CSV_SYNTAX`: a CSV quote is not closed or is followed by stray characters.
 * - `DTRAIN_DATA_LABEL_RANGE`: a class label is negative, not an integer, or ≥ numClasses.
 * - `DTRAIN_DATA_OPTIONS`: reader, split or normalisation options are invalid.
 * - `DTRAIN_DATA_FORMAT`: no reader is registered for a dataset format.
 * - `DTRAIN_DATA_STATS`: saved normalisation statistics are malformed or don't fit the dataset.
 * - `DTRAIN_DATA_CURSOR`: a saved plan cursor is malformed.
 *
 * Drop the message and carry on (a stale or duplicate report, or a caller bug):
 * - `DTRAIN_DATA_PLAN`: a batch was committed or released that is not in flight.
 *
 * Fetch the data and retry (worker side):
 * - `DTRAIN_DATA_CHUNK`: a batch needs a chunk the cache does not hold, or a chunk is malformed.
 * - `DTRAIN_DATA_RANGE`: a sample id lies outside the data it indexes.
 */
export type DataErrorCode =
  | 'DTRAIN_DATA_NOT_FOUND'
  | 'DTRAIN_DATA_READ'
  | 'DTRAIN_DATA_GZIP'
  | 'DTRAIN_DATA_MAGIC'
  | 'DTRAIN_DATA_TRUNCATED'
  | 'DTRAIN_DATA_TRAILING'
  | 'DTRAIN_DATA_SHAPE'
  | 'DTRAIN_DATA_CSV_CELL'
  | 'DTRAIN_DATA_CSV_SYNTAX'
  | 'DTRAIN_DATA_LABEL_RANGE'
  | 'DTRAIN_DATA_OPTIONS'
  | 'DTRAIN_DATA_FORMAT'
  | 'DTRAIN_DATA_STATS'
  | 'DTRAIN_DATA_CURSOR'
  | 'DTRAIN_DATA_PLAN'
  | 'DTRAIN_DATA_CHUNK'
  | 'DTRAIN_DATA_RANGE';

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

/** Extra context for a {@link DataError}. */
export interface DataErrorDetails {
  /** The data file concerned, as the user named it. */
  readonly file?: string;
  readonly position?: DataPosition;
  readonly cause?: unknown;
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

  constructor(code: DataErrorCode, message: string, details: DataErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.file = details.file;
    this.position = details.position;
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
