/**
 * Helpers for kernels the engine writes by composing tfjs ops. Such a kernel
 * runs inside the engine's kernel scope (no gradient tape), receives its
 * inputs as tensors when called through an op, and may return a tensor.
 */

import * as tf from '@tensorflow/tfjs-core';
import { EngineError, EngineErrorCode } from './engine-error.js';

/** The input as a tensor; must be called inside `tf.tidy` (a wrapper it makes is disposed there). */
export function asTensor<R extends tf.Rank>(info: tf.TensorInfo | undefined, name: string): tf.Tensor<R> {
  if (info === undefined) throw new EngineError(EngineErrorCode.INTERNAL, `kernel input '${name}' is missing`);
  if (info instanceof tf.Tensor) return info as tf.Tensor<R>;
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor<R>;
}

/**
 * Shifts axes 1 and 2 of an NHWC tensor by `before` (padding when positive,
 * cropping when negative) and then pads or crops the end so the axes have
 * exactly `size` entries. Pads with `value` (default 0).
 */
export function fitSpatial(
  x: tf.Tensor4D,
  before: readonly [number, number],
  size: readonly [number, number],
  value = 0,
): tf.Tensor4D {
  const [, h, w] = x.shape;
  const afterH = size[0] - h - before[0];
  const afterW = size[1] - w - before[1];
  let out = x;
  if (before[0] > 0 || before[1] > 0 || afterH > 0 || afterW > 0) {
    out = tf.pad(
      out,
      [
        [0, 0],
        [Math.max(before[0], 0), Math.max(afterH, 0)],
        [Math.max(before[1], 0), Math.max(afterW, 0)],
        [0, 0],
      ],
      value,
    );
  }
  if (before[0] < 0 || before[1] < 0 || afterH < 0 || afterW < 0) {
    out = tf.slice(out, [0, Math.max(-before[0], 0), Math.max(-before[1], 0), 0], [-1, size[0], size[1], -1]);
  }
  return out;
}

/**
 * Inserts `stride - 1` zero rows/columns between the rows/columns of an NHWC
 * tensor, so a strided convolution's output gradient lines up with its input.
 * The result has `(h - 1) * strideH + 1` rows.
 */
export function dilateSpatial(x: tf.Tensor4D, strides: readonly [number, number]): tf.Tensor4D {
  const [sh, sw] = strides;
  if (sh === 1 && sw === 1) return x;
  const [b, h, w, c] = x.shape;
  const spread = tf.pad(tf.reshape(x, [b, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  const dilated = tf.reshape<tf.Rank.R4>(spread, [b, h * sh, w * sw, c]);
  return tf.slice(dilated, [0, 0, 0, 0], [-1, (h - 1) * sh + 1, (w - 1) * sw + 1, -1]);
}
