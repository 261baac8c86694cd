import { parseIdx, readDataFile } from '@dtrain/data';

/** An IDX file's contents: its dimensions and every element as float32, row-major. */
export interface IdxTensorData {
  /** The dimensions, outermost first (MNIST images: `[10000, 28, 28]`, labels: `[10000]`). */
  readonly shape: number[];
  /** Every element in file order, converted to float32 (pixel bytes stay 0–255: scale them yourself). */
  readonly data: Float32Array;
}

/**
 * Reads an IDX file (the MNIST family), gzip-compressed or not (detected from
 * the content, not the name), ready for `tf.tensor(data, shape)`.
 *
 * @throws DataError naming the file: `DTRAIN_DATA_NOT_FOUND`, `DTRAIN_DATA_READ`,
 *   `DTRAIN_DATA_GZIP`, `DTRAIN_DATA_TRUNCATED`, `DTRAIN_DATA_MAGIC` or another
 *   `DTRAIN_DATA_*` code for a malformed header.
 */
export async function readIdx(path: string): Promise<IdxTensorData> {
  const { bytes, gzipped } = await readDataFile(path);
  const idx = parseIdx(bytes, path, gzipped);
  return { shape: [...idx.dims], data: idx.data };
}
