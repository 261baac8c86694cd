import { DataError } from './data-error.js';
import type { LabelEncoding } from './dataset.js';

/** Why a raw class label is unusable, or undefined when it is fine. */
export function classLabelProblem(value: number, numClasses: number | undefined): string | undefined {
  if (!Number.isInteger(value)) return `class label ${value} is not an integer`;
  if (value < 0) return `class label ${value} is negative`;
  if (numClasses !== undefined && value >= numClasses) {
    return `class label ${value} is out of range for numClasses ${numClasses} (expected 0..${numClasses - 1})`;
  }
  return undefined;
}

/** Index of the first unusable class label, or -1. */
export function findBadClassLabel(values: ArrayLike<number>, numClasses: number | undefined): number {
  for (let i = 0; i < values.length; i++) {
    if (classLabelProblem(values[i] as number, numClasses) !== undefined) return i;
  }
  return -1;
}

/**
 * numClasses when the caller gave none: max label + 1. An empty dataset has no
 * labels to infer from, so the caller must say.
 */
export function inferNumClasses(values: ArrayLike<number>, source: string): number {
  if (values.length === 0) {
    throw new DataError('DTRAIN_DATA_OPTIONS', `${source}: no samples to infer numClasses from; set numClasses`, {
      file: source,
    });
  }
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i] as number);
  return max + 1;
}

/** Encoded labels and the shape of one sample's label. */
export interface EncodedLabels {
  readonly labels: Float32Array;
  readonly labelShape: readonly number[];
}

/**
 * Encodes one raw value per sample. Class labels must have been checked with
 * {@link findBadClassLabel} first.
 */
export function encodeLabels(values: Float32Array, encoding: LabelEncoding, numClasses: number | undefined): EncodedLabels {
  if (encoding !== 'onehot') return { labels: values, labelShape: [1] };
  if (numClasses === undefined) throw new DataError('DTRAIN_DATA_OPTIONS', 'encodeLabels: onehot needs numClasses');
  const labels = new Float32Array(values.length * numClasses);
  for (let i = 0; i < values.length; i++) labels[i * numClasses + (values[i] as number)] = 1;
  return { labels, labelShape: [numClasses] };
}

/** Checks `numClasses` if given: a positive integer. */
export function checkNumClasses(numClasses: unknown, where: string): number | undefined {
  if (numClasses === undefined) return undefined;
  if (typeof numClasses !== 'number' || !Number.isInteger(numClasses) || numClasses < 1) {
    throw new DataError(
      'DTRAIN_DATA_OPTIONS',
      `${where}: numClasses: expected a positive integer, got ${JSON.stringify(numClasses)}`,
    );
  }
  return numClasses;
}
