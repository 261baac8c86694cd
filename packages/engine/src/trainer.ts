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
import { LOSS_NAMES, perSampleAccuracy, perSampleLoss } from './losses.js';
import { readTensorInto, tensorMemory } from './tensor-memory.js';
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
   * The caller's `out` array when `step` was given one.
   */
  readonly gradients: Float32Array;
  /**
   * Fraction of the batch predicted right by the same training-mode forward
   * pass (dropout active), as `model.fit` reports `acc`; undefined for a
   * regression loss.
   */
  readonly accuracy: number | undefined;
}

export class Trainer {
  readonly model: tfl.LayersModel;
  readonly loss: LossName;
  readonly layout: WeightLayout;
  private readonly shapes: SampleShapes;
  /** The step's loss is read through here rather than a new array per step. */
  /** The step's loss, and the count of samples predicted right, read in one go. */
  private readonly scalars = new Float32Array(2);

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
   * indices for the sparse loss, else the output shape). The gradients go
   * into `out` when given (length `layout.totalSize`; the result's
   * `gradients` is then `out`, and on wasm and cpu nothing in proportion to
   * the model is allocated), else into a new array. Throws `DTRAIN_ENGINE_SHAPE` if
   * the lengths do not fit; `out` is then untouched, but undefined after any
   * other failure.
   */
  step(x: Float32Array, y: Float32Array, batchSize: number, out?: Float32Array): StepResult {
    assertSampleCount(batchSize, 'step');
    if (out !== undefined && out.length !== this.layout.totalSize) {
      throw new EngineError(
        EngineErrorCode.SHAPE,
        `step: out: expected ${this.layout.totalSize} float32 values (the weight layout's totalSize), got ${out.length}`,
      );
    }
    const weights = this.model.weights;
    // Keep the pre-step state alive while batch norm points its variables
    // at new tensors (clones share the data on cpu and copy it on wasm).
    const saved = weights.map((weight, index) =>
      (this.layout.entries[index] as WeightEntry).trainable ? undefined : tf.clone(weight.read()),
    );
    try {
      const { loss, grads, correct } = tf.tidy(() => this.compute(x, y, batchSize));
      // One read of the device for both scalars (each read is a sync point; on wasm a copy out of its heap).
      const scalars = correct === undefined ? loss : tf.stack([loss, correct]);
      try {
        const gradients = out ?? new Float32Array(this.layout.totalSize);
        const memory = tensorMemory();
        weights.forEach((weight, index) => {
          const entry = this.layout.entries[index] as WeightEntry;
          // Not trainable: the value batch norm just wrote, before it is put back below.
          const source = entry.trainable ? grads[(weight.read() as tf.Variable).name] : weight.read();
          // A weight the loss does not depend on has no gradient entry: zero.
          if (source === undefined) gradients.fill(0, entry.offset, entry.offset + entry.size);
          else readTensorInto(source, gradients, entry.offset, memory);
        });
        readTensorInto(scalars, this.scalars, 0, memory);
        const accuracy = correct === undefined ? undefined : (this.scalars[1] as number) / batchSize;
        return { loss: this.scalars[0] as number, gradients, accuracy };
      } finally {
        if (scalars !== loss) scalars.dispose();
        loss.dispose();
        correct?.dispose();
        tf.dispose(grads);
      }
    } finally {
      saved.forEach((value, index) => {
        if (value === undefined) return;
        weights[index]?.write(value);
        value.dispose();
      });
    }
  }

  private compute(x: Float32Array, y: Float32Array, batchSize: number): { loss: tf.Scalar; grads: tf.NamedTensorMap; correct: tf.Scalar | undefined } {
    const xs = inputTensor(this.shapes, x, batchSize);
    const ys = labelTensor(this.shapes, this.loss, y, batchSize);
    // LayerVariable.read() is the tf.Variable itself, typed as a Tensor.
    const trainable = this.model.trainableWeights.map((weight) => weight.read() as tf.Variable);
    let correct: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const prediction = this.model.apply(xs, { training: true }) as tf.Tensor;
      // From the prediction the gradients come from (a second forward pass would draw other dropout masks).
      // Kept past the gradient scope, which disposes everything but its result; disposed by step().
      const perSample = perSampleAccuracy(this.loss, ys, prediction);
      if (perSample !== undefined) correct = tf.keep(tf.sum(perSample) as tf.Scalar);
      let total = tf.mean(perSampleLoss(this.loss, ys, prediction));
      for (const penalty of this.model.calculateLosses()) total = tf.add(total, penalty);
      return total as tf.Scalar;
    }, trainable);
    return { loss: value, grads, correct };
  }
}

/** A trainer for `model` with the given loss; see `Trainer.step`. */
export function createTrainer(model: tfl.LayersModel, options: TrainerOptions): Trainer {
  return new Trainer(model, options);
}
