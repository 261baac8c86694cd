import { DataError } from './data-error.js';
import type { Dataset } from './dataset.js';

/*
 * The training set travels to workers in chunks: chunk k holds sample ids
 * [k*chunkSize, (k+1)*chunkSize), the last one shorter. A worker assembles a
 * batch from the chunks it holds.
 */

/** Rows of features and labels, sample-major, addressed by sample id from 0. */
export interface SampleSource {
  readonly features: Float32Array;
  readonly labels: Float32Array;
  /** Floats per sample in `features`. */
  readonly featureSize: number;
  /** Floats per sample in `labels`. */
  readonly labelSize: number;
}

/** A batch's rows, copied out: `x` is sampleIds.length × featureSize, `y` × labelSize. */
export interface GatheredBatch {
  readonly x: Float32Array;
  readonly y: Float32Array;
}

/** Number of floats in one element of `shape` (1 for []). */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A dataset seen as a {@link SampleSource} (no copy). */
export function sampleSource(ds: Dataset): SampleSource {
  return { features: ds.features, labels: ds.labels, featureSize: shapeSize(ds.featureShape), labelSize: shapeSize(ds.labelShape) };
}

function checkChunkSize(chunkSize: number): void {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw new DataError('DTRAIN_DATA_OPTIONS', `chunkSize: expected a positive integer, got ${chunkSize}`);
  }
}

/** How many chunks `numSamples` samples make: ceil(numSamples / chunkSize). */
export function chunkCount(numSamples: number, chunkSize: number): number {
  checkChunkSize(chunkSize);
  return Math.ceil(numSamples / chunkSize);
}

/** The samples of chunk `chunkId`: [start, start + count). Throws DTRAIN_DATA_RANGE past the last chunk. */
export function chunkRange(chunkId: number, chunkSize: number, numSamples: number): { start: number; count: number } {
  const chunks = chunkCount(numSamples, chunkSize);
  if (!Number.isSafeInteger(chunkId) || chunkId < 0 || chunkId >= chunks) {
    throw new DataError('DTRAIN_DATA_RANGE', `chunk ${chunkId} does not exist; expected 0..${chunks - 1} (${numSamples} samples in chunks of ${chunkSize})`);
  }
  const start = chunkId * chunkSize;
  return { start, count: Math.min(chunkSize, numSamples - start) };
}

/** The chunks holding `sampleIds`, sorted ascending, each once. */
export function chunksForSamples(sampleIds: ArrayLike<number>, chunkSize: number): number[] {
  checkChunkSize(chunkSize);
  const chunks = new Set<number>();
  for (let i = 0; i < sampleIds.length; i++) chunks.add(Math.floor((sampleIds[i] as number) / chunkSize));
  return [...chunks].sort((a, b) => a - b);
}

/**
 * Output buffers of at least `floats` floats: `out` (trimmed to the exact
 * length) when given, a new array otherwise. Preallocating for the largest
 * batch lets a worker reuse one buffer every step.
 */
export function outputBuffer(out: Float32Array | undefined, floats: number, name: string): Float32Array {
  if (out === undefined) return new Float32Array(floats);
  if (out.length < floats) {
    throw new DataError('DTRAIN_DATA_OPTIONS', `${name}: preallocated buffer holds ${out.length} floats; the batch needs ${floats}`);
  }
  return out.length === floats ? out : out.subarray(0, floats);
}

/**
 * Copies the rows of `sampleIds` from `source` into `outX`/`outY` (or new
 * arrays), in sampleIds order. A sample id outside the source is DTRAIN_DATA_RANGE.
 */
export function gatherBatch(
  source: SampleSource,
  sampleIds: ArrayLike<number>,
  outX?: Float32Array,
  outY?: Float32Array,
): GatheredBatch {
  const { featureSize, labelSize } = source;
  const n = sampleIds.length;
  const x = outputBuffer(outX, n * featureSize, 'outX');
  const y = outputBuffer(outY, n * labelSize, 'outY');
  const numSamples = featureSize === 0 ? source.labels.length / labelSize : source.features.length / featureSize;
  for (let i = 0; i < n; i++) {
    const id = sampleIds[i] as number;
    if (!Number.isInteger(id) || id < 0 || id >= numSamples) {
      throw new DataError('DTRAIN_DATA_RANGE', `sample ${id} (batch position ${i}) is outside the data; expected 0..${numSamples - 1}`);
    }
    copyRow(source.features, id * featureSize, x, i * featureSize, featureSize);
    copyRow(source.labels, id * labelSize, y, i * labelSize, labelSize);
  }
  return { x, y };
}

/** Copies one row; short rows (labels, CSV features) skip the subarray allocation. */
export function copyRow(from: Float32Array, fromOffset: number, to: Float32Array, toOffset: number, size: number): void {
  if (size > 16) {
    to.set(from.subarray(fromOffset, fromOffset + size), toOffset);
    return;
  }
  for (let k = 0; k < size; k++) to[toOffset + k] = from[fromOffset + k] as number;
}
