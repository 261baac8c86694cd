/**
 * Evaluation and prediction over flat sample-major arrays, in batches so a
 * large validation set never becomes one large tensor. Inference mode
 * (dropout off, batch norm on its moving statistics).
 */

import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  assertInputLength,
  assertLabelLength,
  assertSampleCount,
  inputTensor,
  labelSize,
  labelTensor,
  sampleShapes,
} from './batch-tensors.js';
import { EngineError, EngineErrorCode } from './engine-error.js';
import { perSampleAccuracy, perSampleLoss } from './losses.js';
import type { LossName } from './model-spec.js';

/** Samples per forward pass when the caller gives none. */
export const DEFAULT_INFERENCE_BATCH = 256;

export interface EvaluateResult {
  /** Mean per-sample loss, without regularisation (as `model.evaluate`). */
  readonly loss: number;
  /** Fraction of samples classified right; undefined for meanSquaredError. */
  readonly accuracy: number | undefined;
}

export interface PredictResult {
  /** The model's outputs, sample-major. */
  readonly values: Float32Array;
  /** Shape of `values`: [n, ...per-sample output shape]. */
  readonly outputShape: number[];
}

function assertBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new EngineError(EngineErrorCode.SHAPE, `batchSize: expected a positive integer, got ${String(batchSize)}`);
  }
}

/**
 * Loss and accuracy of `n` samples. `x` and `y` as for `Trainer.step`;
 * `batchSize` samples per forward pass (default 256).
 */
export function evaluate(
  model: tfl.LayersModel,
  x: Float32Array,
  y: Float32Array,
  n: number,
  loss: LossName,
  batchSize: number = DEFAULT_INFERENCE_BATCH,
): EvaluateResult {
  assertSampleCount(n, 'evaluate');
  assertBatchSize(batchSize);
  const shapes = sampleShapes(model);
  const ySize = labelSize(shapes, loss);
  assertInputLength(shapes, x, n);
  assertLabelLength(shapes, loss, y, n);
  let lossSum = 0;
  let correct = 0;
  let hasAccuracy = false;
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    const sums = tf.tidy(() => {
      const xs = inputTensor(shapes, x.subarray(start * shapes.inputSize, (start + count) * shapes.inputSize), count);
      const ys = labelTensor(shapes, loss, y.subarray(start * ySize, (start + count) * ySize), count);
      const prediction = model.apply(xs, { training: false }) as tf.Tensor;
      const accuracy = perSampleAccuracy(loss, ys, prediction);
      const lossTotal = tf.sum(perSampleLoss(loss, ys, prediction));
      return accuracy === undefined ? tf.stack([lossTotal]) : tf.stack([lossTotal, tf.sum(accuracy)]);
    });
    const [batchLoss, batchCorrect] = sums.dataSync();
    sums.dispose();
    lossSum += batchLoss ?? NaN;
    if (batchCorrect !== undefined) {
      hasAccuracy = true;
      correct += batchCorrect;
    }
  }
  return { loss: lossSum / n, accuracy: hasAccuracy ? correct / n : undefined };
}

/** The model's outputs for `n` samples of `x`, `batchSize` per forward pass (default 256). */
export function predict(
  model: tfl.LayersModel,
  x: Float32Array,
  n: number,
  batchSize: number = DEFAULT_INFERENCE_BATCH,
): PredictResult {
  assertSampleCount(n, 'predict');
  assertBatchSize(batchSize);
  const shapes = sampleShapes(model);
  assertInputLength(shapes, x, n);
  const values = new Float32Array(n * shapes.outputSize);
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    const output = tf.tidy(() => {
      const xs = inputTensor(shapes, x.subarray(start * shapes.inputSize, (start + count) * shapes.inputSize), count);
      return model.apply(xs, { training: false }) as tf.Tensor;
    });
    values.set(output.dataSync() as Float32Array, start * shapes.outputSize);
    output.dispose();
  }
  return { values, outputShape: [n, ...shapes.output] };
}
