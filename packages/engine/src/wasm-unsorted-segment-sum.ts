/**
 * `UnsortedSegmentSum` for the wasm backend, which has none; it is the
 * gradient of `gather`, so an embedding layer cannot train without it.
 *
 * Summing rows into their segment is a scatter that accumulates duplicates,
 * which is what the wasm `ScatterNd` kernel does. ScatterNd does not bounds-
 * check its indices, while TensorFlow drops rows whose segment id is negative
 * or ≥ numSegments: those rows are zeroed and sent to segment 0 first.
 */

import * as tf from '@tensorflow/tfjs-core';
import { asTensor } from './kernel-tensors.js';

function unsortedSegmentSum(args: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const { numSegments } = args.attrs as unknown as tf.UnsortedSegmentSumAttrs;
  return tf.tidy(() => {
    const x = asTensor(args.inputs['x'], 'x');
    const ids = tf.cast(asTensor(args.inputs['segmentIds'], 'segmentIds'), 'int32');
    const idRank = ids.rank;
    const inRange = tf.logicalAnd(tf.greaterEqual(ids, 0), tf.less(ids, numSegments));
    const safeIds = tf.where(inRange, ids, tf.zerosLike(ids));
    const rowMask = tf.reshape(tf.cast(inRange, x.dtype), [...ids.shape, ...x.shape.slice(idRank).map(() => 1)]);
    const updates = tf.mul(x, rowMask);
    return tf.scatterND(tf.expandDims(safeIds, -1), updates, [numSegments, ...x.shape.slice(idRank)]);
  });
}

export const wasmUnsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
};
