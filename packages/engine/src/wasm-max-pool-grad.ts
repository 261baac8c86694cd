/**
 * A replacement for the wasm backend's `MaxPoolGrad`, which is wrong in
 * tfjs 4.22: a window whose maximum is ≤ 0 gets no gradient at all (its
 * running maximum starts at FLT_MIN, the smallest positive float, instead of
 * −∞; `MaxPoolWithArgmax` shares the bug and returns 1.18e-38 as the maximum
 * of a negative window). Windows after tanh, elu, a linear layer or batch
 * norm routinely have negative maxima, so such a CNN would train on wrong
 * gradients.
 *
 * The replacement sends each window's gradient to the window's first maximum
 * in row-major order, as the cpu kernel and TensorFlow do, with kernels the
 * wasm backend has and gets right: the windows become rows of an [n, kh·kw]
 * matrix, `ArgMax` picks the first maximum of each row, and `ScatterNd`
 * (which sums duplicates, so overlapping windows add up) routes the gradient.
 * Windows that tile the input (stride = pool size, the usual case) are
 * gathered by one reshape + transpose; overlapping or gapped windows by rank-4
 * slices (the wasm `Slice` kernel falls back to a slow path above rank 4, and
 * `StridedSlice` and `GatherV2` are slow too). Padding is −∞, which never wins
 * a window that holds a real cell. On the bench CNN's first pool this runs
 * about as fast as the original kernel.
 */

import * as tf from '@tensorflow/tfjs-core';
import { asTensor, fitSpatial } from './kernel-tensors.js';
import { isWasmKernelWrapped, setWasmKernelWrapper } from './wasm-kernel-wrap.js';

interface PoolGeometry {
  readonly b: number;
  readonly c: number;
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly ho: number;
  readonly wo: number;
}

const int = (value: number): tf.Scalar => tf.scalar(value, 'int32');

/** Windows that tile [b, ho·kh, wo·kw, c] exactly: gradient per window cell, same layout. */
function routeTiled(padded: tf.Tensor4D, dy: tf.Tensor, g: PoolGeometry): tf.Tensor4D {
  const { b, c, kh, kw, ho, wo } = g;
  const n = b * ho * wo * c;
  const t = kh * kw;
  const windows = tf.reshape(tf.transpose(tf.reshape(padded, [b, ho, kh, wo, kw, c]), [0, 1, 3, 5, 2, 4]), [n, t]);
  const flatIndex = tf.add(tf.range(0, n * t, t, 'int32'), tf.argMax(windows, 1));
  const routed = tf.scatterND(tf.expandDims(flatIndex, 1), tf.reshape(dy, [n]), [n * t]);
  const back = tf.transpose(tf.reshape(routed, [b, ho, wo, c, kh, kw]), [0, 1, 4, 2, 5, 3]);
  return tf.reshape(back, [b, ho * kh, wo * kw, c]);
}

/** Any windows over `padded` [b, hp, wp, c] with hp, wp multiples of the strides. */
function routeGeneral(padded: tf.Tensor4D, dy: tf.Tensor, g: PoolGeometry): tf.Tensor4D {
  const { b, c, kh, kw, sh, sw, ho, wo } = g;
  const [, hp, wp] = padded.shape;
  const n = b * ho * wo * c;
  // Row i of every window is row block ⌊i/sh⌋ + p, phase i mod sh: a plain slice.
  const rowBlocks = tf.reshape(padded, [b, hp / sh, sh, wp * c]);
  const views: tf.Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    const rows = tf.reshape(tf.slice(rowBlocks, [0, Math.floor(i / sh), i % sh, 0], [b, ho, 1, wp * c]), [b * ho, wp / sw, sw, c]);
    for (let j = 0; j < kw; j++) {
      views.push(tf.reshape(tf.slice(rows, [0, Math.floor(j / sw), j % sw, 0], [b * ho, wo, 1, c]), [n]));
    }
  }
  const tap = tf.argMax(tf.transpose(tf.stack(views)), 1);
  const tapOffset = tf.mul(tf.add(tf.mul(tf.floorDiv(tap, int(kw)), int(wp)), tf.mod(tap, int(kw))), int(c));
  // Index arithmetic on shapes, not data: where window n starts in `padded`.
  const start = new Int32Array(n);
  let k = 0;
  for (let bi = 0; bi < b; bi++) {
    for (let p = 0; p < ho; p++) {
      for (let q = 0; q < wo; q++) {
        const cell = ((bi * hp + p * sh) * wp + q * sw) * c;
        for (let ci = 0; ci < c; ci++) start[k++] = cell + ci;
      }
    }
  }
  const target = tf.add(tf.tensor1d(start, 'int32'), tapOffset);
  return tf.reshape(tf.scatterND(tf.expandDims(target, 1), tf.reshape(dy, [n]), [b * hp * wp * c]), [b, hp, wp, c]);
}

function maxPoolGrad(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const attrs = args.attrs as unknown as tf.MaxPoolGradAttrs;
  return tf.tidy(() => {
    const x = asTensor<tf.Rank.R4>(args.inputs['input'], 'input');
    const dy = asTensor(args.inputs['dy'], 'dy');
    const info = tf.backend_util.computePool2DInfo(x.shape, attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const [b, h, w, c] = x.shape;
    const { top, left } = info.padInfo;
    const g: PoolGeometry = {
      b,
      c,
      kh: info.filterHeight,
      kw: info.filterWidth,
      sh: info.strideHeight,
      sw: info.strideWidth,
      ho: info.outHeight,
      wo: info.outWidth,
    };
    let dxPadded: tf.Tensor4D;
    if (g.sh === g.kh && g.sw === g.kw) {
      const padded = fitSpatial(x, [top, left], [g.ho * g.kh, g.wo * g.kw], -Infinity);
      dxPadded = routeTiled(padded, dy, g);
    } else {
      const reach = [(g.ho - 1) * g.sh + g.kh, (g.wo - 1) * g.sw + g.kw] as const;
      const hp = Math.ceil(Math.max(reach[0], top + h) / g.sh) * g.sh;
      const wp = Math.ceil(Math.max(reach[1], left + w) / g.sw) * g.sw;
      dxPadded = routeGeneral(fitSpatial(x, [top, left], [hp, wp], -Infinity), dy, g);
    }
    // A 'valid' pool may leave trailing rows/columns no window reads: zero.
    const [, hd, wd] = dxPadded.shape;
    const full = fitSpatial(dxPadded, [0, 0], [Math.max(hd, top + h), Math.max(wd, left + w)]);
    return tf.slice(full, [0, top, left, 0], [b, h, w, c]);
  });
}

/** Installs (enabled) or removes the replacement for the wasm `MaxPoolGrad`. Idempotent. */
export function setWasmMaxPoolGradFix(enabled: boolean): void {
  setWasmKernelWrapper(tf.MaxPoolGrad, () => maxPoolGrad as unknown as tf.KernelFunc, enabled);
}

export function wasmMaxPoolGradFixEnabled(): boolean {
  return isWasmKernelWrapped(tf.MaxPoolGrad);
}
