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
import { overwriteInPlace, readTensorInto, tensorFromValues, tensorMemory } from './tensor-memory.js';

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

/**
 * Every weight's value copied into `out` (length `layout.totalSize`), or into
 * a new flat array when `out` is not given; returns the array written.
 */
export function readWeights(model: tfl.LayersModel, layout: WeightLayout, out?: Float32Array): Float32Array {
  assertLayoutMatches(model, layout);
  const flat = out ?? new Float32Array(layout.totalSize);
  assertFlatLength(flat, layout, 'readWeights');
  const memory = tensorMemory();
  model.weights.forEach((weight, index) => {
    readTensorInto(weight.read(), flat, (layout.entries[index] as WeightEntry).offset, memory);
  });
  return flat;
}

/** A part of the flat layout, in float32 elements: `[start, end)`. */
export interface WeightRange {
  /** First element written; default 0. */
  readonly start?: number;
  /** One past the last element written; default `layout.totalSize`. */
  readonly end?: number;
}

function checkedRange(range: WeightRange | undefined, layout: WeightLayout): { start: number; end: number } {
  const start = range?.start ?? 0;
  const end = range?.end ?? layout.totalSize;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > layout.totalSize) {
    throw new EngineError(
      EngineErrorCode.SHAPE,
      `writeWeights: range: expected integers 0 <= start <= end <= ${layout.totalSize} (the weight layout's totalSize), got start ${start}, end ${end}`,
    );
  }
  return { start, end };
}

/**
 * Sets the weights from a flat array: all of them, or with `range` only the
 * elements `flat[start, end)` (a weight the range cuts keeps its other
 * values), e.g. as chunks of a broadcast arrive. The model keeps no
 * reference to `flat`.
 *
 * A weight whose memory is its own is overwritten in place (no allocation);
 * one whose data another tensor shares (a `tf.clone` on cpu, a reshape),
 * one with a constraint, and every weight on backends without direct memory
 * access get a new tensor instead, so other holders keep the old values.
 * On the cpu backend in-place writes start from the second write, into
 * memory an earlier write allocated; tfjs-cpu lets a contiguous `tf.slice`
 * and `dataSync()` see a tensor's memory without counting a reference, so a
 * slice of a weight, or the array its `dataSync()` returned, kept across a
 * cpu write shows the new values.
 */
export function writeWeights(model: tfl.LayersModel, layout: WeightLayout, flat: Float32Array, range?: WeightRange): void {
  assertLayoutMatches(model, layout);
  assertFlatLength(flat, layout, 'writeWeights');
  const { start, end } = checkedRange(range, layout);
  const memory = tensorMemory();
  model.weights.forEach((weight, index) => {
    const entry = layout.entries[index] as WeightEntry;
    const from = Math.max(start, entry.offset);
    const to = Math.min(end, entry.offset + entry.size);
    if (from >= to) return;
    const variable = weight.read();
    const values = flat.subarray(from, to);
    const offset = from - entry.offset;
    // An in-place write would skip the constraint LayerVariable.write applies.
    if (weight.constraint == null && overwriteInPlace(variable, values, offset, memory)) return;
    const value = tensorFromValues(variable, values, offset, memory);
    try {
      weight.write(value);
    } finally {
      value.dispose();
    }
  });
}
