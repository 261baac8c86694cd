/**
 * The flat float32 layout of a model's weights, shared with the parameter
 * server: every weight (trainable or not) in `model.weights` order, packed
 * end to end. Names are the weights' `originalName` as tfjs saves them
 * (`dense_0/kernel`), not the process-unique variable names tfjs makes when
 * the same layer names are built twice (`dense_0/kernel_1`).
 */

import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { EngineError, EngineErrorCode } from './engine-error.js';

/** One weight in the flat array; structurally the protocol's `WeightEntry`. */
export interface WeightEntry {
  /** tfjs weight name, e.g. 'dense_0/kernel'. */
  readonly name: string;
  readonly shape: readonly number[];
  /** Offset in float32 elements into the flat array. */
  readonly offset: number;
  /** Element count (product of shape). */
  readonly size: number;
  /** Non-trainable entries (batch-norm moving stats) carry state, not gradients. */
  readonly trainable: boolean;
}

export interface WeightLayout {
  readonly entries: readonly WeightEntry[];
  /** Sum of the entries' sizes: the flat array's length. */
  readonly totalSize: number;
}

/** The layout of `model.weights`. */
export function weightLayout(model: tfl.LayersModel): WeightLayout {
  let offset = 0;
  const entries = model.weights.map((weight): WeightEntry => {
    const shape = [...weight.shape] as number[];
    const size = shape.reduce((product, dim) => product * dim, 1);
    const entry = { name: weight.originalName, shape, offset, size, trainable: weight.trainable };
    offset += size;
    return entry;
  });
  return { entries, totalSize: offset };
}

/** Throws `DTRAIN_ENGINE_SHAPE` unless the model's weights are exactly the layout's entries. */
export function assertLayoutMatches(model: tfl.LayersModel, layout: WeightLayout): void {
  const weights = model.weights;
  if (weights.length !== layout.entries.length) {
    throw new EngineError(
      EngineErrorCode.SHAPE,
      `weight layout has ${layout.entries.length} entries but the model has ${weights.length} weights`,
    );
  }
  weights.forEach((weight, index) => {
    const entry = layout.entries[index];
    const matches =
      entry !== undefined &&
      entry.name === weight.originalName &&
      entry.trainable === weight.trainable &&
      tf.util.arraysEqual(entry.shape as number[], weight.shape as number[]);
    if (!matches) {
      const describe = (name: string, shape: readonly (number | null)[], trainable: boolean): string =>
        `${name} [${shape.join(',')}]${trainable ? '' : ' (non-trainable)'}`;
      throw new EngineError(
        EngineErrorCode.SHAPE,
        `weight layout entry ${index} is ${entry === undefined ? 'missing' : describe(entry.name, entry.shape, entry.trainable)} but the model's weight ${index} is ${describe(weight.originalName, weight.shape, weight.trainable)}`,
      );
    }
  });
}

function assertFlatLength(flat: Float32Array, layout: WeightLayout, what: string): void {
  if (flat.length !== layout.totalSize) {
    throw new EngineError(
      EngineErrorCode.SHAPE,
      `${what}: expected ${layout.totalSize} float32 values (the weight layout's totalSize), got ${flat.length}`,
    );
  }
}

/** Every weight's value copied into one new flat array. */
export function readWeights(model: tfl.LayersModel, layout: WeightLayout): Float32Array {
  assertLayoutMatches(model, layout);
  const flat = new Float32Array(layout.totalSize);
  model.weights.forEach((weight, index) => {
    const entry = layout.entries[index] as WeightEntry;
    flat.set(weight.read().dataSync() as Float32Array, entry.offset);
  });
  return flat;
}

/** Sets every weight from a flat array; the model keeps no reference to `flat`. */
export function writeWeights(model: tfl.LayersModel, layout: WeightLayout, flat: Float32Array): void {
  assertLayoutMatches(model, layout);
  assertFlatLength(flat, layout, 'writeWeights');
  model.weights.forEach((weight, index) => {
    const entry = layout.entries[index] as WeightEntry;
    // slice, not subarray: the cpu backend keeps the array it is given, so a
    // view would let the caller's later writes change the model.
    const value = tf.tensor(flat.slice(entry.offset, entry.offset + entry.size), entry.shape as number[], 'float32');
    try {
      weight.write(value);
    } finally {
      value.dispose();
    }
  });
}
