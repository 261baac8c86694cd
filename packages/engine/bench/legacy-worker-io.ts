/**
 * The worker's tensor I/O as it was before `Trainer.step(…, out)` and the
 * in-place `writeWeights`, kept verbatim (commit b8665e4) so the bench can
 * time old and new side by side in one run. Not part of the engine.
 *
 * - writeWeights: a `slice` per weight, a tensor from it, `LayerVariable.write`.
 * - step: the gradients `tf.concat`ed into one tensor, `dataSync` (a copy out
 *   of the wasm heap), then copied again into a new `Float32Array`.
 */

import { inputTensor, labelTensor, sampleShapes } from '../src/batch-tensors.js';
import { tf, type Trainer, type WeightEntry, type WeightLayout, type tfl } from '../src/index.js';
import { perSampleLoss } from '../src/losses.js';
import { assertLayoutMatches } from '../src/weight-layout.js';

export function legacyWriteWeights(model: tfl.LayersModel, layout: WeightLayout, flat: Float32Array): void {
  assertLayoutMatches(model, layout);
  if (flat.length !== layout.totalSize) throw new Error(`writeWeights: expected ${layout.totalSize} values, got ${flat.length}`);
  model.weights.forEach((weight, index) => {
    const entry = layout.entries[index] as WeightEntry;
    const value = tf.tensor(flat.slice(entry.offset, entry.offset + entry.size), entry.shape as number[], 'float32');
    try {
      weight.write(value);
    } finally {
      value.dispose();
    }
  });
}

function legacyCompute(trainer: Trainer, x: Float32Array, y: Float32Array, batchSize: number): [tf.Scalar, tf.Tensor1D] {
  const shapes = sampleShapes(trainer.model);
  const xs = inputTensor(shapes, x, batchSize);
  const ys = labelTensor(shapes, trainer.loss, y, batchSize);
  const trainable = trainer.model.trainableWeights.map((weight) => weight.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => {
    const prediction = trainer.model.apply(xs, { training: true }) as tf.Tensor;
    let total = tf.mean(perSampleLoss(trainer.loss, ys, prediction));
    for (const penalty of trainer.model.calculateLosses()) total = tf.add(total, penalty);
    return total as tf.Scalar;
  }, trainable);
  const parts = trainer.model.weights.map((weight, index) => {
    const entry = trainer.layout.entries[index] as WeightEntry;
    if (!entry.trainable) return tf.reshape(weight.read(), [-1]);
    const grad = grads[(weight.read() as tf.Variable).name];
    return grad === undefined ? tf.zeros([entry.size]) : tf.reshape(grad, [-1]);
  });
  return [value, tf.concat(parts) as tf.Tensor1D];
}

export function legacyStep(trainer: Trainer, x: Float32Array, y: Float32Array, batchSize: number): { loss: number; gradients: Float32Array } {
  const weights = trainer.model.weights;
  const saved = weights.map((weight, index) =>
    (trainer.layout.entries[index] as WeightEntry).trainable ? undefined : tf.clone(weight.read()),
  );
  try {
    const [lossValue, flat] = tf.tidy(() => legacyCompute(trainer, x, y, batchSize));
    try {
      const gradients = new Float32Array(trainer.layout.totalSize);
      gradients.set(flat.dataSync() as Float32Array);
      return { loss: (lossValue.dataSync() as Float32Array)[0] as number, gradients };
    } finally {
      lossValue.dispose();
      flat.dispose();
    }
  } finally {
    saved.forEach((value, index) => {
      if (value === undefined) return;
      weights[index]?.write(value);
      value.dispose();
    });
  }
}
