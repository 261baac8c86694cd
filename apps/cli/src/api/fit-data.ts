/**
 * The user's x / y (tensors or typed arrays) as dtrain Datasets in memory,
 * checked against the model's shapes and the loss's label layout, and the
 * JobData the coordinator serves from them. No file is involved.
 */
import type { JobData } from '@dtrain/coordinator';
import type { Dataset, LabelEncoding } from '@dtrain/data';
import type { LossName, tf } from '@dtrain/engine';
import { FitError, FitErrorCode } from './fit-error.js';
import type { ModelShapes } from './model-bridge.js';

/** Samples along the first axis: a tf.Tensor, or a flat typed array (or number[]) whose sample shape is the model's. */
export type FitInput = tf.Tensor | Float32Array | Int32Array | Uint8Array | readonly number[];

/** What a label looks like for each loss: how it is encoded and how many values one sample has. */
export interface LabelLayout {
  readonly encoding: LabelEncoding;
  readonly shape: readonly number[];
  readonly numClasses: number | undefined;
  /** What the user should pass, for messages. */
  readonly expected: string;
}

/** Sparse: one class index per sample; categorical: one-hot; binary: 0/1 per output; mean squared error: values. */
export function labelLayout(loss: LossName, shapes: ModelShapes): LabelLayout {
  const output = `[${shapes.output.join(', ')}]`;
  switch (loss) {
    case 'sparseCategoricalCrossentropy':
      return { encoding: 'index', shape: [1], numClasses: shapes.outputSize, expected: `one class index in [0, ${shapes.outputSize}) per sample` };
    case 'categoricalCrossentropy':
      return { encoding: 'onehot', shape: shapes.output, numClasses: shapes.outputSize, expected: `one-hot vectors of ${output} per sample` };
    case 'binaryCrossentropy':
      return { encoding: 'value', shape: shapes.output, numClasses: undefined, expected: `0/1 targets of ${output} per sample` };
    case 'meanSquaredError':
      return { encoding: 'value', shape: shapes.output, numClasses: undefined, expected: `target values of ${output} per sample` };
  }
}

function isTensor(value: unknown): value is tf.Tensor {
  return typeof value === 'object' && value !== null && Array.isArray((value as { shape?: unknown }).shape) && typeof (value as { dataSync?: unknown }).dataSync === 'function';
}

function isArrayInput(value: unknown): value is Float32Array | Int32Array | Uint8Array | readonly number[] {
  return ArrayBuffer.isView(value) || Array.isArray(value);
}

/**
 * One side (x or y) as flat float32 values and a sample count.
 * @param sample the per-sample shape it must have; for a tensor, `alternatives` may list other accepted ones (e.g. [] for class indices).
 */
function flatten(value: unknown, name: string, sample: readonly number[], expected: string, alternatives: readonly (readonly number[])[] = []): { values: Float32Array; count: number } {
  const size = sample.reduce((a, b) => a * b, 1);
  if (isTensor(value)) {
    const own = value.shape.slice(1);
    const fits = [sample, ...alternatives].some((s) => s.length === own.length && s.every((d, i) => d === own[i]));
    if (value.shape.length === 0 || !fits) {
      throw new FitError(FitErrorCode.SHAPE, `fit: ${name} has shape [${value.shape.join(', ')}]; the model expects [n, ${sample.join(', ')}] (${expected})`);
    }
    const data = value.dataSync();
    return { values: data instanceof Float32Array ? Float32Array.from(data) : Float32Array.from(data as ArrayLike<number>), count: value.shape[0] ?? 0 };
  }
  if (isArrayInput(value)) {
    if (value.length % size !== 0) {
      throw new FitError(FitErrorCode.SHAPE, `fit: ${name} holds ${value.length} values, not a whole number of samples of ${size} ([${sample.join(', ')}]: ${expected})`);
    }
    return { values: Float32Array.from(value as ArrayLike<number>), count: value.length / size };
  }
  throw new FitError(FitErrorCode.ARGUMENT, `fit: ${name} must be a tf.Tensor or a typed array, got ${value === null ? 'null' : typeof value}`);
}

/**
 * x and y as one Dataset: same sample count, x of the model's input shape, y
 * laid out as the loss wants (class indices are checked).
 * @throws FitError SHAPE, SAMPLE_COUNT, LABELS or ARGUMENT.
 */
export function toDataset(x: unknown, y: unknown, shapes: ModelShapes, loss: LossName, names: { x: string; y: string; source: string }): Dataset {
  const labels = labelLayout(loss, shapes);
  const features = flatten(x, names.x, shapes.input, 'the model input');
  // Class indices may come as [n] or [n, 1].
  const sparseAlternatives = loss === 'sparseCategoricalCrossentropy' ? [[]] : [];
  const targets = flatten(y, names.y, labels.shape, labels.expected, sparseAlternatives);
  if (features.count !== targets.count) {
    throw new FitError(FitErrorCode.SAMPLE_COUNT, `fit: ${names.x} has ${features.count} samples but ${names.y} has ${targets.count}`);
  }
  if (features.count === 0) throw new FitError(FitErrorCode.ARGUMENT, `fit: ${names.x} holds no samples`);
  if (labels.encoding === 'index') checkClassIndices(targets.values, labels.numClasses ?? 0, names.y);
  return {
    numSamples: features.count,
    featureShape: [...shapes.input],
    labelShape: [...labels.shape],
    labelEncoding: labels.encoding,
    numClasses: labels.numClasses,
    features: features.values,
    labels: targets.values,
    source: `${names.source}: ${features.count} samples`,
  };
}

function checkClassIndices(values: Float32Array, numClasses: number, name: string): void {
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i] as number;
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
      throw new FitError(FitErrorCode.LABELS, `fit: ${name}[${i}] is ${v}; sparseCategoricalCrossentropy needs class indices in [0, ${numClasses}) (the model's output size)`);
    }
  }
}

/** Samples [start, start + count) as a dataset of their own (copies, so the arrays ship from offset 0). */
export function sliceDataset(ds: Dataset, start: number, count: number, source: string): Dataset {
  const featureSize = ds.featureShape.reduce((a, b) => a * b, 1);
  const labelSize = ds.labelShape.reduce((a, b) => a * b, 1);
  return {
    ...ds,
    numSamples: count,
    features: ds.features.slice(start * featureSize, (start + count) * featureSize),
    labels: ds.labels.slice(start * labelSize, (start + count) * labelSize),
    source: `${source}: ${count} samples`,
  };
}

/**
 * tfjs' validationSplit: the LAST `fraction` of the samples (before any
 * shuffling) is held out, as `model.fit` does (`floor(n × (1 − fraction))`
 * samples train).
 * @throws FitError ARGUMENT unless 0 ≤ fraction < 1 and both parts keep a sample (when fraction > 0).
 */
export function splitLast(ds: Dataset, fraction: number): { train: Dataset; validation: Dataset } {
  if (typeof fraction !== 'number' || !(fraction >= 0 && fraction < 1)) {
    throw new FitError(FitErrorCode.ARGUMENT, `fit: validationSplit must be a number in [0, 1), got ${String(fraction)}`);
  }
  const splitAt = Math.floor(ds.numSamples * (1 - fraction));
  if (fraction > 0 && (splitAt === 0 || splitAt === ds.numSamples)) {
    throw new FitError(FitErrorCode.ARGUMENT, `fit: validationSplit ${fraction} of ${ds.numSamples} samples leaves ${splitAt === 0 ? 'no training' : 'no validation'} samples`);
  }
  return { train: sliceDataset(ds, 0, splitAt, 'fit(x, y) training part'), validation: sliceDataset(ds, splitAt, ds.numSamples - splitAt, 'fit(x, y) validation part') };
}

/** An empty dataset of the same layout: the job's validation data when there is none. */
export function emptyLike(ds: Dataset): Dataset {
  return { ...ds, numSamples: 0, features: new Float32Array(0), labels: new Float32Array(0), source: 'no validation data' };
}

/** The coordinator's JobData for in-memory data: no normalisation (the user's arrays are used as they are), no test split. */
export function memoryJobData(train: Dataset, validation: Dataset | undefined): JobData {
  return { train, validation: validation ?? emptyLike(train), test: undefined, stats: { kind: 'none' } };
}
