import { DataError } from './data-error.js';

/**
 * Why a sample's features could not be read: its record does not parse
 * (invalid JSON, a non-numeric cell or field), has the wrong shape (a wrong
 * number of values or cells, an image of another size), or its image does
 * not decode.
 */
export type BadSampleReason = 'parse' | 'decode' | 'shape';

/**
 * A sample of a batch whose features could not be read. Its feature row
 * and its label row are zeros; the rest of the batch is good. A worker
 * leaves it out of its step (and may report it); it is not a reason to stop.
 */
export interface BadSample {
  /** Index into the ids of the read: which row of the batch it is. */
  readonly position: number;
  /** The dataset's sample id. */
  readonly id: number;
  readonly reason: BadSampleReason;
  /** One line naming the file and the record (byte offset) or image, as the whole-file readers name a bad line. */
  readonly message: string;
}

/** A sample of one run that could not be read: the `row`-th of the run. */
export interface BadRow {
  readonly row: number;
  readonly reason: BadSampleReason;
  readonly message: string;
}

/**
 * The bad row a per-record DataError stands for, or undefined when the error
 * concerns the whole shard (DTRAIN_DATA_UNREADABLE, a sample id out of
 * range) or is not a DataError: those reject the whole read.
 */
export function badRowOf(error: unknown, row: number): BadRow | undefined {
  if (!(error instanceof DataError)) return undefined;
  const reason = REASONS[error.code];
  return reason === undefined ? undefined : { row, reason, message: error.message };
}

/** Codes of per-record failures, by the reason they are reported under. */
const REASONS: Partial<Record<DataError['code'], BadSampleReason>> = {
  DTRAIN_DATA_JSON: 'parse',
  DTRAIN_DATA_FIELD: 'parse',
  DTRAIN_DATA_CSV_CELL: 'parse',
  DTRAIN_DATA_CSV_SYNTAX: 'parse',
  DTRAIN_DATA_LABEL_RANGE: 'parse',
  DTRAIN_DATA_SHAPE: 'shape',
  DTRAIN_DATA_IMAGE: 'decode',
};
