/**
 * The engine's losses and accuracies, defined exactly as tfjs-layers defines
 * them (`losses.ts`, `metrics.ts`) so a distributed run reports the numbers
 * `model.fit` / `model.evaluate` would. tfjs-layers does not export its
 * sparse categorical loss, hence the restatement; a test checks every loss
 * against `model.evaluate` of a model compiled with the same name.
 */

import * as tf from '@tensorflow/tfjs-core';
import type { LossName } from './model-spec.js';

export const LOSS_NAMES: readonly LossName[] = [
  'categoricalCrossentropy',
  'sparseCategoricalCrossentropy',
  'binaryCrossentropy',
  'meanSquaredError',
];

/** tfjs-layers' fuzz factor for clipping probabilities (`backend.epsilon()`). */
const EPSILON = 1e-7;

function categoricalCrossentropy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  const lastAxis = yPred.rank - 1;
  const normalised = tf.div(yPred, tf.sum(yPred, lastAxis, true));
  const clipped = tf.clipByValue(normalised, EPSILON, 1 - EPSILON);
  return tf.neg(tf.sum(tf.mul(tf.cast(yTrue, 'float32'), tf.log(clipped)), lastAxis));
}

function sparseCategoricalCrossentropy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  const classes = tf.cast(tf.floor(tf.reshape(yTrue, [-1])), 'int32');
  const clipped = tf.clipByValue(yPred, EPSILON, 1 - EPSILON);
  const numClasses = yPred.shape[yPred.rank - 1] ?? 1;
  const oneHot = tf.reshape(tf.oneHot(classes, numClasses), yPred.shape);
  return categoricalCrossentropy(oneHot, clipped);
}

function binaryCrossentropy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  // tfjs-layers goes back to logits and uses the stable sigmoid form.
  const clipped = tf.clipByValue(yPred, EPSILON, 1 - EPSILON);
  const logits = tf.log(tf.div(clipped, tf.sub(1, clipped)));
  const perElement = tf.add(
    tf.sub(tf.relu(logits), tf.mul(logits, yTrue)),
    tf.log1p(tf.exp(tf.neg(tf.abs(logits)))),
  );
  return tf.mean(perElement, -1);
}

function meanSquaredError(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.mean(tf.square(tf.sub(yPred, yTrue)), -1);
}

const LOSSES: Readonly<Record<LossName, (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor>> = {
  categoricalCrossentropy,
  sparseCategoricalCrossentropy,
  binaryCrossentropy,
  meanSquaredError,
};

/** Per-sample loss, shape [n] (tfjs-layers reduces the last axis). */
export function perSampleLoss(loss: LossName, yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return LOSSES[loss](yTrue, yPred);
}

/**
 * Per-sample accuracy in {0, 1} (binary: the fraction of outputs right), or
 * undefined for a regression loss. Argmax for categorical and sparse labels,
 * threshold 0.5 for binary, as tfjs-layers' accuracy metrics.
 */
export function perSampleAccuracy(loss: LossName, yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor | undefined {
  switch (loss) {
    case 'categoricalCrossentropy':
      return tf.cast(tf.equal(tf.argMax(yTrue, -1), tf.argMax(yPred, -1)), 'float32');
    case 'sparseCategoricalCrossentropy':
      return tf.cast(tf.equal(tf.cast(tf.reshape(yTrue, [-1]), 'int32'), tf.argMax(yPred, -1)), 'float32');
    case 'binaryCrossentropy':
      return tf.mean(tf.cast(tf.equal(yTrue, tf.cast(tf.greater(yPred, 0.5), 'float32')), 'float32'), -1);
    case 'meanSquaredError':
      return undefined;
  }
}
