/**
 * Tensors for a batch held in flat, sample-major float32 arrays. The sample
 * shapes come from the model (its one input and one output), so a worker
 * needs nothing but the arrays and a sample count.
 */

import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { EngineError, EngineErrorCode } from './engine-error.js';
import type { LossName } from './model-spec.js';

/** Per-sample shapes of a single-input, single-output model (no batch axis). */
export interface SampleShapes {
  readonly input: readonly number[];
  readonly output: readonly number[];
  /** Elements per input sample. */
  readonly inputSize: number;
  /** Elements per output sample. */
  readonly outputSize: number;
}

function knownShape(shape: readonly (number | null)[], what: string): number[] {
  const dims = shape.slice(1);
  if (dims.some((dim) => dim === null || dim <= 0)) {
    throw new EngineError(EngineErrorCode.SHAPE, `model ${what} shape [${shape.join(', ')}] has unknown dimensions`);
  }
  return dims as number[];
}

export function sampleShapes(model: tfl.LayersModel): SampleShapes {
  const [input] = model.inputs;
  const [output] = model.outputs;
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || input === undefined || output === undefined) {
    throw new EngineError(
      EngineErrorCode.SHAPE,
      `the engine trains single-input, single-output models; this one has ${model.inputs.length} inputs and ${model.outputs.length} outputs`,
    );
  }
  const inputShape = knownShape(input.shape, 'input');
  const outputShape = knownShape(output.shape, 'output');
  const size = (shape: number[]): number => shape.reduce((product, dim) => product * dim, 1);
  return { input: inputShape, output: outputShape, inputSize: size(inputShape), outputSize: size(outputShape) };
}

export function assertSampleCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n <= 0) {
    throw new EngineError(EngineErrorCode.SHAPE, `${what}: expected a positive integer sample count, got ${String(n)}`);
  }
}

/** Throws `DTRAIN_ENGINE_SHAPE` unless x holds exactly n input samples. */
export function assertInputLength(shapes: SampleShapes, x: Float32Array, n: number): void {
  const expected = n * shapes.inputSize;
  if (x.length !== expected) {
    throw new EngineError(
      EngineErrorCode.SHAPE,
      `x: expected ${n} samples × ${shapes.inputSize} values ([${shapes.input.join(', ')}]) = ${expected} float32 values, got ${x.length}`,
    );
  }
}

/** x as [n, ...input]; x must hold exactly n samples. */
export function inputTensor(shapes: SampleShapes, x: Float32Array, n: number): tf.Tensor {
  assertInputLength(shapes, x, n);
  return tf.tensor(x, [n, ...shapes.input], 'float32');
}

/** Values per label sample: a class index for the sparse loss, else the output's size. */
export function labelSize(shapes: SampleShapes, loss: LossName): number {
  return loss === 'sparseCategoricalCrossentropy' ? 1 : shapes.outputSize;
}

/** Throws `DTRAIN_ENGINE_SHAPE` unless y holds exactly n labels for the loss. */
export function assertLabelLength(shapes: SampleShapes, loss: LossName, y: Float32Array, n: number): void {
  const perSample = labelSize(shapes, loss);
  if (y.length !== n * perSample) {
    const what = loss === 'sparseCategoricalCrossentropy' ? 'one class index' : `${perSample} values ([${shapes.output.join(', ')}])`;
    throw new EngineError(
      EngineErrorCode.SHAPE,
      `y: expected ${n} samples × ${what} = ${n * perSample} float32 values for ${loss}, got ${y.length}`,
    );
  }
}

/** y as [n] (class indices) for the sparse loss, else [n, ...output]. */
export function labelTensor(shapes: SampleShapes, loss: LossName, y: Float32Array, n: number): tf.Tensor {
  assertLabelLength(shapes, loss, y, n);
  const shape = loss === 'sparseCategoricalCrossentropy' ? [n] : [n, ...shapes.output];
  return tf.tensor(y, shape, 'float32');
}
