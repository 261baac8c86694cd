/**
 * The two gradients of a depthwise convolution for the wasm backend, which
 * has neither. Both are rewritten as one forward depthwise convolution (an
 * XNNPACK kernel) plus transposes, reshapes and a sum: no JS loop over data.
 *
 * Notation: x [B,H,W,C], filter [kh,kw,C,M], dy [B,Ho,Wo,C·M], stride s,
 * dilation d, xpad the input with the forward padding applied.
 */

import * as tf from '@tensorflow/tfjs-core';
import { asTensor, dilateSpatial, fitSpatial } from './kernel-tensors.js';

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
}

/**
 * dF[i,j,c,m] = Σ_b,p,q xpad[b, p·s + i·d, q·s + j·d, c] · dy[b,p,q,c·M+m].
 * With (c, b) pairs as the C·B channels of a one-image input and dy's (p, q)
 * as the taps of a [Ho,Wo,C·B,M] filter, that is a depthwise convolution whose
 * stride is the forward dilation and whose dilation is the forward stride;
 * summing the B axis of its [1,kh,kw,C·B·M] result leaves dF.
 */
function depthwiseBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  return tf.tidy(() => {
    const x = asTensor<tf.Rank.R4>(args.inputs['x'], 'x');
    const dy = asTensor<tf.Rank.R4>(args.inputs['dy'], 'dy');
    const [kh, kw, c, m] = attrs.filterShape;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape,
      attrs.filterShape,
      attrs.strides,
      attrs.dilations,
      attrs.pad,
      attrs.dimRoundingMode,
      true,
    );
    const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, outHeight: ho, outWidth: wo } = info;
    const b = x.shape[0];
    const reach: [number, number] = [(kh - 1) * dh + (ho - 1) * sh + 1, (kw - 1) * dw + (wo - 1) * sw + 1];
    const xPadded = fitSpatial(x, [info.padInfo.top, info.padInfo.left], reach);
    const image = tf.reshape<tf.Rank.R4>(tf.transpose(xPadded, [1, 2, 3, 0]), [1, reach[0], reach[1], c * b]);
    const taps = tf.reshape<tf.Rank.R4>(tf.transpose(tf.reshape(dy, [b, ho, wo, c, m]), [1, 2, 3, 0, 4]), [ho, wo, c * b, m]);
    const perPair = tf.depthwiseConv2d(image, taps, [dh, dw], 'valid', 'NHWC', [sh, sw]);
    return tf.sum(tf.reshape(perPair, [kh, kw, c, b, m]), 3);
  });
}

/**
 * dx[b,h,w,c] = Σ_i,j,m dyd[b, h + top − i·d, w + left − j·d, c·M+m] · F[i,j,c,m]
 * where dyd is dy with s − 1 zeros between rows and columns. Flipping the
 * filter turns that into a stride-1 depthwise convolution (dilation d) of dyd
 * padded by (kh − 1)·d − top, with C·M channels and multiplier 1; summing the
 * M axis of its [B,H,W,C·M] result leaves dx.
 */
function depthwiseBackpropInput(args: KernelArgs): tf.TensorInfo {
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  return tf.tidy(() => {
    const dy = asTensor<tf.Rank.R4>(args.inputs['dy'], 'dy');
    const filter = asTensor<tf.Rank.R4>(args.inputs['filter'], 'filter');
    const [kh, kw, c, m] = filter.shape;
    const [b, h, w] = attrs.inputShape;
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape,
      attrs.strides,
      attrs.dilations,
      attrs.pad,
      attrs.dimRoundingMode,
      true,
    );
    const { dilationHeight: dh, dilationWidth: dw } = info;
    const spread = dilateSpatial(dy, [info.strideHeight, info.strideWidth]);
    const before: [number, number] = [(kh - 1) * dh - info.padInfo.top, (kw - 1) * dw - info.padInfo.left];
    const padded = fitSpatial(spread, before, [h + (kh - 1) * dh, w + (kw - 1) * dw]);
    const flipped = tf.reshape<tf.Rank.R4>(tf.reverse(filter, [0, 1]), [kh, kw, c * m, 1]);
    const perChannel = tf.depthwiseConv2d(padded, flipped, 1, 'valid', 'NHWC', [dh, dw]);
    return tf.sum(tf.reshape(perChannel, [b, h, w, c, m]), 4);
  });
}

export const wasmDepthwiseBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilter as unknown as tf.KernelFunc,
};

export const wasmDepthwiseBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropInput as unknown as tf.KernelFunc,
};
