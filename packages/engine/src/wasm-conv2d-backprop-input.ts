/**
 * A faster `Conv2DBackpropInput` for the wasm backend. Its own kernel is a
 * plain loop: on the bench CNN it took 31 ms of a 42 ms step for the second
 * convolution's input gradient. The same gradient is a forward convolution
 * (an XNNPACK kernel): the output gradient with s − 1 zeros between rows and
 * columns (stride s), padded by kh − 1 − top, convolved with the filter
 * rotated by 180° and with its channel axes swapped ([kh,kw,Co,Ci]).
 *
 *   dx[b,h,w,ci] = Σ_i,j,co dyd[b, h + top − i, w + left − j, co] · W[i,j,ci,co]
 */

import * as tf from '@tensorflow/tfjs-core';
import { EngineError, EngineErrorCode } from './engine-error.js';
import { asTensor, dilateSpatial, fitSpatial } from './kernel-tensors.js';
import { isWasmKernelWrapped, setWasmKernelWrapper } from './wasm-kernel-wrap.js';

function conv2dBackpropInput(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  if (attrs.dataFormat === 'NCHW') {
    throw new EngineError(EngineErrorCode.KERNEL, 'Conv2DBackpropInput on wasm: only NHWC is supported');
  }
  return tf.tidy(() => {
    const dy = asTensor<tf.Rank.R4>(args.inputs['dy'], 'dy');
    const filter = asTensor<tf.Rank.R4>(args.inputs['filter'], 'filter');
    const [kh, kw] = filter.shape;
    const [, h, w] = attrs.inputShape;
    const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const spread = dilateSpatial(dy, [info.strideHeight, info.strideWidth]);
    const padded = fitSpatial(spread, [kh - 1 - info.padInfo.top, kw - 1 - info.padInfo.left], [h + kh - 1, w + kw - 1]);
    const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    return tf.conv2d(padded, rotated, 1, 'valid');
  });
}

/** Installs (enabled) or removes the replacement for the wasm `Conv2DBackpropInput`. Idempotent. */
export function setWasmFastConv2dBackpropInput(enabled: boolean): void {
  setWasmKernelWrapper(tf.Conv2DBackpropInput, () => conv2dBackpropInput as unknown as tf.KernelFunc, enabled);
}

export function wasmFastConv2dBackpropInputEnabled(): boolean {
  return isWasmKernelWrapped(tf.Conv2DBackpropInput);
}
