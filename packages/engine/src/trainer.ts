/**
 * One worker training step: loss and gradients of a batch as one flat array
 * in the weight layout, for the parameter server to average.
 *
 * The step computes what `model.fit` would before applying its optimizer:
 * forward in training mode (dropout active, batch norm on batch statistics),
 * loss = mean per-sample loss + the model's regularisation losses (L1/L2),
 * gradients of that total. tfjs-layers' batch norm updates its moving
 * mean/variance during the training-mode forward pass; those non-trainable
 * entries travel in the same flat array as their NEW values (the server
 * averages them), and the model's own copies are then put back, so a
 * worker's state comes only from the weights the server sends and a step
 * has no effect on the model.
 */

import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { assertSampleCount, inputTensor, labelTensor, sampleShapes, type SampleShapes } from './batch-tensors.js';
import { EngineError, EngineErrorCode } from './engine-error.js';
import { LOSS_NAMES, perSampleLoss } from './losses.js';
import type { LossName } from './model-spec.js';
import { assertLayoutMatches, weightLayout, type WeightEntry, type WeightLayout } from './weight-layout.js';

export interface TrainerOptions {
  /** The loss to minimise. */
  readonly loss: LossName;
  /** The flat layout gradients are written in; default `weightLayout(model)`. */
  readonly layout?: WeightLayout;
}

export interface StepResult {
  /** Mean loss of the batch plus regularisation losses, as `model.fit` reports it. */
  readonly loss: number;
  /**
   * `layout.totalSize` values: for trainable entries the gradient of `loss`,
   * for non-trainable entries (batch-norm moving statistics) their new value.
   */
  readonly gradients: Float32Array;
}

export class Trainer {
  readonly model: tfl.LayersModel;
  readonly loss: LossName;
  readonly layout: WeightLayout;
  private readonly shapes: SampleShapes;

  constructor(model: tfl.LayersModel, options: TrainerOptions) {
    if (!LOSS_NAMES.includes(options.loss)) {
      throw new EngineError(
        EngineErrorCode.MODEL_SPEC,
        `loss: expected one of ${LOSS_NAMES.join(', ')}, got ${JSON.stringify(options.loss)}`,
      );
    }
    this.model = model;
    this.loss = options.loss;
    this.layout = options.layout ?? weightLayout(model);
    assertLayoutMatches(model, this.layout);
    this.shapes = sampleShapes(model);
    if (model.trainableWeights.length === 0) {
      throw new EngineError(EngineErrorCode.MODEL_SPEC, 'model: has no trainable weights to compute gradients for');
    }
  }

  /**
   * Loss and flat gradients for one batch. `x` holds `batchSize` samples of
   * the model's input shape, sample-major; `y` holds their labels (class
   * indices for the sparse loss, else the output shape). Throws
   * `DTRAIN_ENGINE_SHAPE` if the lengths do not fit.
   */
  step(x: Float32Array, y: Float32Array, batchSize: number): StepResult {
    assertSampleCount(batchSize, 'step');
    const weights = this.model.weights;
    // Clones share the data (no copy); they keep the pre-step state alive
    // while batch norm points its variables at new tensors.
    const saved = weights.map((weight, index) =>
      (this.layout.entries[index] as WeightEntry).trainable ? undefined : tf.clone(weight.read()),
    );
    try {
      const [lossValue, flat] = tf.tidy(() => this.compute(x, y, batchSize));
      try {
        const gradients = new Float32Array(this.layout.totalSize);
        // A copy: on the cpu backend dataSync hands out the tensor's own array.
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

  private compute(x: Float32Array, y: Float32Array, batchSize: number): [tf.Scalar, tf.Tensor1D] {
    const xs = inputTensor(this.shapes, x, batchSize);
    const ys = labelTensor(this.shapes, this.loss, y, batchSize);
    // LayerVariable.read() is the tf.Variable itself, typed as a Tensor.
    const trainable = this.model.trainableWeights.map((weight) => weight.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => {
      const prediction = this.model.apply(xs, { training: true }) as tf.Tensor;
      let total = tf.mean(perSampleLoss(this.loss, ys, prediction));
      for (const penalty of this.model.calculateLosses()) total = tf.add(total, penalty);
      return total as tf.Scalar;
    }, trainable);
    const parts = this.model.weights.map((weight, index) => {
      const entry = this.layout.entries[index] as WeightEntry;
      if (!entry.trainable) return tf.reshape(weight.read(), [-1]);
      // A weight the loss does not depend on has no gradient entry: zero.
      const grad = grads[(weight.read() as tf.Variable).name];
      return grad === undefined ? tf.zeros([entry.size]) : tf.reshape(grad, [-1]);
    });
    return [value, tf.concat(parts) as tf.Tensor1D];
  }
}

/** A trainer for `model` with the given loss; see `Trainer.step`. */
export function createTrainer(model: tfl.LayersModel, options: TrainerOptions): Trainer {
  return new Trainer(model, options);
}
