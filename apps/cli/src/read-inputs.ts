import { parseCsv, parseIdx, parseNumberCell, readDataFile } from '@dtrain/data';
import { UsageError, UsageErrorCode } from './usage-error.js';

/** Rows to predict on, flat and sample-major, before normalisation. */
export interface InputRows {
  readonly count: number;
  readonly rowSize: number;
  readonly values: Float32Array;
}

/**
 * Reads inference inputs from FILE, by content: an IDX file (raw or gzip,
 * e.g. MNIST images), a JSON array of rows (or of nested arrays), or CSV of
 * numeric rows (a first row that is not numeric is taken as a header).
 */
export async function readInputs(path: string): Promise<InputRows> {
  let file;
  try {
    file = await readDataFile(path);
  } catch {
    throw new UsageError(UsageErrorCode.USAGE, `dtrain predict: --input: cannot read ${path}`);
  }
  const { bytes, gzipped } = file;
  if (bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0) {
    const idx = parseIdx(bytes, path, gzipped);
    const count = idx.dims[0] ?? 0;
    return { count, rowSize: count === 0 ? 0 : idx.data.length / count, values: idx.data };
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return text.trimStart().startsWith('[') ? fromJson(text, path) : fromCsv(text, path);
}

function fromJson(text: string, path: string): InputRows {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(UsageErrorCode.USAGE, `dtrain predict: --input ${path}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!Array.isArray(parsed)) throw new UsageError(UsageErrorCode.USAGE, `dtrain predict: --input ${path}: expected a JSON array of rows`);
  const rows = parsed.map((row: unknown, i) => {
    const flat = Array.isArray(row) ? (row.flat(Infinity) as unknown[]) : [row];
    if (!flat.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new UsageError(UsageErrorCode.USAGE, `dtrain predict: --input ${path}: row ${i} holds a value that is not a finite number`);
    }
    return flat as number[];
  });
  return pack(rows, path);
}

function fromCsv(text: string, path: string): InputRows {
  const rows: number[][] = [];
  parseCsv(text, path, (fields, line) => {
    const values = fields.map((cell) => parseNumberCell(cell));
    if (values.every((v) => v !== undefined)) {
      rows.push(values as number[]);
      return;
    }
    if (line === 1 && rows.length === 0) return; // header
    const column = values.findIndex((v) => v === undefined);
    throw new UsageError(UsageErrorCode.USAGE, `dtrain predict: --input ${path}:${line}: column ${column + 1} is not a number (${JSON.stringify(fields[column])})`);
  });
  return pack(rows, path);
}

function pack(rows: readonly number[][], path: string): InputRows {
  const rowSize = rows[0]?.length ?? 0;
  const values = new Float32Array(rows.length * rowSize);
  rows.forEach((row, i) => {
    if (row.length !== rowSize) throw new UsageError(UsageErrorCode.USAGE, `dtrain predict: --input ${path}: row ${i + 1} has ${row.length} values, the first has ${rowSize}`);
    values.set(row, i * rowSize);
  });
  return { count: rows.length, rowSize, values };
}
