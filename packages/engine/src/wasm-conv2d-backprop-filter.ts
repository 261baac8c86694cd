/**
 * `Conv2DBackpropFilter` for the wasm backend, which has none.
 *
 * dW[i,j,ci,co] = Σ_b,p,q xpad[b, p·s + i, q·s + j, ci] · dy[b, p, q, co] is
 * itself a convolution once the batch axis plays the channel role: the input
 * transposed to [Ci, H, W, B] convolved with the output gradient transposed to
 * [Ho, Wo, B, Co] as the filter, the forward stride becoming the dilation.
 * That runs on XNNPACK's convolution instead of a JS loop.
 */

import * as tf from '@tensorflow/tfjs-core';
import { EngineError, EngineErrorCode } from './engine-error.js';
import { asTensor, fitSpatial } from './kernel-tensors.js';

function conv2dBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (attrs.dataFormat === 'NCHW') {
    throw new EngineError(EngineErrorCode.KERNEL, 'Conv2DBackpropFilter on wasm: only NHWC is supported');
  }
  return tf.tidy(() => {
    const x = asTensor<tf.Rank.R4>(args.inputs['x'], 'x');
    const dy = asTensor<tf.Rank.R4>(args.inputs['dy'], 'dy');
    const info = tf.backend_util.computeConv2DInfo(
      x.shape,
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outHeight: ho, outWidth: wo } = info;
    // Exactly the rows and columns some filter tap reads; the rest of the
    // padded input (a 'valid' remainder) would widen the result past kh×kw.
    const reach: [number, number] = [kh + (ho - 1) * sh, kw + (wo - 1) * sw];
    const xPadded = fitSpatial(x, [info.padInfo.top, info.padInfo.left], reach);
    const xT = tf.transpose(xPadded, [3, 1, 2, 0]);
    const dyT = tf.transpose(dy, [1, 2, 0, 3]);
    const dW = tf.conv2d(xT, dyT, 1, 'valid', 'NHWC', [sh, sw]);
    return tf.transpose(dW, [1, 2, 0, 3]);
  });
}

export const wasmConv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
};
