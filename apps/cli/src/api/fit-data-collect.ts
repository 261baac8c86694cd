/**
 * `fitDataset`'s data: a tf.data.Dataset of `{xs, ys}` batches, or any
 * (async) iterable of them, read once into one in-memory Dataset. dtrain's
 * epoch plan hands out every sample exactly once per epoch in a seeded
 * order, which needs random access; streaming from storage is a later issue.
 */
import type { Dataset } from '@dtrain/data';
import type { LossName } from '@dtrain/engine';
import { FitError, FitErrorCode } from './fit-error.js';
import { toDataset, type FitInput } from './fit-data.js';
import type { ModelShapes } from './model-bridge.js';

/** One batch: features and labels along the first axis, as `model.fitDataset` takes them. */
export interface XsYs {
  readonly xs: FitInput;
  readonly ys: FitInput;
}

/** A tf.data.Dataset's reading side (its `iterator()`), so any tfjs copy's datasets fit. */
export interface TfDataLike<T> {
  iterator(): Promise<{ next(): Promise<IteratorResult<T>> }>;
}

/** What `fitDataset` reads: a tf.data.Dataset, or an (async) iterable of batches. */
export type BatchSource = TfDataLike<XsYs> | AsyncIterable<XsYs> | Iterable<XsYs>;

/** The batches read and their samples as one dataset. */
export interface CollectedBatches {
  readonly dataset: Dataset;
  /** Samples in the first batch: fitDataset's default batchSize. */
  readonly firstBatchSize: number;
  readonly batches: number;
}

async function* batchesOf(source: BatchSource): AsyncGenerator<XsYs> {
  if (typeof (source as TfDataLike<XsYs>).iterator === 'function') {
    const it = await (source as TfDataLike<XsYs>).iterator();
    for (let r = await it.next(); r.done !== true; r = await it.next()) yield r.value;
    return;
  }
  if (typeof (source as AsyncIterable<XsYs>)[Symbol.asyncIterator] === 'function' || typeof (source as Iterable<XsYs>)[Symbol.iterator] === 'function') {
    yield* source as AsyncIterable<XsYs>;
    return;
  }
  throw new FitError(FitErrorCode.ARGUMENT, 'fitDataset: the dataset must be a tf.data.Dataset or an (async) iterable of { xs, ys } batches');
}

function dispose(value: unknown): void {
  if (typeof value === 'object' && value !== null && typeof (value as { dispose?: unknown }).dispose === 'function') (value as { dispose(): void }).dispose();
}

/**
 * Reads `source` to its end (or `maxBatches` batches) into one dataset;
 * each batch's tensors are disposed once read, as `model.fitDataset` does.
 * @throws FitError ARGUMENT for an element without xs/ys or an empty source; SHAPE, SAMPLE_COUNT, LABELS as `fit` does.
 */
export async function collectBatches(source: BatchSource, shapes: ModelShapes, loss: LossName, name: string, maxBatches?: number): Promise<CollectedBatches> {
  const parts: Dataset[] = [];
  for await (const element of batchesOf(source)) {
    if (maxBatches !== undefined && parts.length >= maxBatches) break;
    if (typeof element !== 'object' || element === null || !('xs' in element) || !('ys' in element)) {
      throw new FitError(FitErrorCode.ARGUMENT, `fitDataset: ${name} element ${parts.length} is not an object { xs, ys }`);
    }
    try {
      parts.push(toDataset(element.xs, element.ys, shapes, loss, { x: `${name} batch ${parts.length} xs`, y: `${name} batch ${parts.length} ys`, source: name }));
    } finally {
      dispose(element.xs);
      dispose(element.ys);
    }
  }
  const [first] = parts;
  if (first === undefined) throw new FitError(FitErrorCode.ARGUMENT, `fitDataset: ${name} yielded no batches`);
  const numSamples = parts.reduce((n, p) => n + p.numSamples, 0);
  const features = new Float32Array(parts.reduce((n, p) => n + p.features.length, 0));
  const labels = new Float32Array(parts.reduce((n, p) => n + p.labels.length, 0));
  let fOffset = 0;
  let lOffset = 0;
  for (const part of parts) {
    features.set(part.features, fOffset);
    labels.set(part.labels, lOffset);
    fOffset += part.features.length;
    lOffset += part.labels.length;
  }
  return { dataset: { ...first, numSamples, features, labels, source: `${name}: ${numSamples} samples in ${parts.length} batches` }, firstBatchSize: first.numSamples, batches: parts.length };
}
