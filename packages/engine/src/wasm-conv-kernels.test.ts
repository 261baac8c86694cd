/**
 * The convolution gradient kernels the engine registers for wasm, against
 * the cpu backend's own kernels on fresh random inputs, to float tolerance
 * (rtol 1e-4, atol 1e-5 of the largest value: float32 sums of up to a few
 * thousand terms taken in a different order).
 */

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { expectClose } from './testing/numeric.js';
import { expectWasmMatchesCpu, random, type Pad } from './testing/backends.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('Conv2DBackpropFilter on wasm', () => {
  const cases: { x: [number, number, number, number]; filter: [number, number, number, number]; strides: number | [number, number]; pad: Pad }[] = [
    { x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'valid' },
    { x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
    { x: [3, 8, 9, 2], filter: [3, 2, 2, 5], strides: 2, pad: 'same' },
    { x: [2, 8, 8, 2], filter: [3, 3, 2, 3], strides: 2, pad: 'valid' }, // a row and column the filter never reaches
    { x: [2, 9, 6, 3], filter: [4, 3, 3, 2], strides: [2, 1], pad: 'valid' },
    { x: [1, 10, 11, 1], filter: [5, 5, 1, 3], strides: 3, pad: 'same' },
    { x: [4, 6, 6, 2], filter: [2, 2, 2, 4], strides: 2, pad: 'same' }, // even filter: asymmetric 'same' padding
    { x: [2, 5, 6, 2], filter: [3, 3, 2, 2], strides: 1, pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
  ];
  for (const { x, filter, strides, pad } of cases) {
    it(`x ${x.join('x')}, filter ${filter.join('x')}, strides ${String(strides)}, pad ${JSON.stringify(pad)}`, async () => {
      const info = tf.backend_util.computeConv2DInfo(x, filter, strides, 1, pad);
      const xValues = random(x);
      const dyValues = random(info.outShape);
      await expectWasmMatchesCpu(() =>
        tf.tidy(() =>
          tf.engine().runKernel(
            'Conv2DBackpropFilter',
            { x: tf.tensor(xValues, x), dy: tf.tensor(dyValues, info.outShape) },
            { strides, pad, dataFormat: 'NHWC', filterShape: filter } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor,
        ),
      );
    });
  }
});

describe('Conv2DBackpropInput on wasm (replacement)', () => {
  const cases: { x: [number, number, number, number]; filter: [number, number, number, number]; strides: number | [number, number]; pad: Pad }[] = [
    { x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'valid' },
    { x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
    { x: [3, 8, 9, 2], filter: [3, 2, 2, 5], strides: 2, pad: 'same' },
    { x: [2, 8, 8, 2], filter: [3, 3, 2, 3], strides: 2, pad: 'valid' },
    { x: [2, 9, 6, 3], filter: [4, 3, 3, 2], strides: [2, 1], pad: 'valid' },
    { x: [1, 10, 11, 1], filter: [5, 5, 1, 3], strides: 3, pad: 'same' },
    { x: [4, 6, 6, 2], filter: [2, 2, 2, 4], strides: 2, pad: 'same' },
    { x: [2, 5, 6, 2], filter: [3, 3, 2, 2], strides: 1, pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
    { x: [1, 6, 6, 2], filter: [3, 3, 2, 2], strides: 1, pad: [[0, 0], [4, 3], [0, 5], [0, 0]] }, // padding wider than the filter
  ];
  for (const { x, filter, strides, pad } of cases) {
    it(`x ${x.join('x')}, filter ${filter.join('x')}, strides ${String(strides)}, pad ${JSON.stringify(pad)}`, async () => {
      const info = tf.backend_util.computeConv2DInfo(x, filter, strides, 1, pad);
      const filterValues = random(filter);
      const dyValues = random(info.outShape);
      await expectWasmMatchesCpu(() =>
        tf.tidy(() =>
          tf.engine().runKernel(
            'Conv2DBackpropInput',
            { dy: tf.tensor(dyValues, info.outShape), filter: tf.tensor(filterValues, filter) },
            { strides, pad, dataFormat: 'NHWC', inputShape: x } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor,
        ),
      );
    });
  }
});

const depthwiseCases: {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  dilations: number;
  pad: Pad;
}[] = [
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 1], strides: 1, dilations: 1, pad: 'valid' },
  { x: [2, 7, 7, 3], filter: [3, 3, 3, 2], strides: 1, dilations: 1, pad: 'same' },
  { x: [3, 8, 9, 2], filter: [3, 2, 2, 3], strides: 2, dilations: 1, pad: 'same' },
  { x: [2, 8, 8, 4], filter: [3, 3, 4, 1], strides: 2, dilations: 1, pad: 'valid' },
  { x: [2, 9, 6, 2], filter: [4, 3, 2, 2], strides: [2, 1], dilations: 1, pad: 'valid' },
  { x: [1, 10, 11, 1], filter: [5, 5, 1, 4], strides: 3, dilations: 1, pad: 'same' },
];

/**
 * tfjs's gradients never pass dilation > 1 (they assert it is 1) and the cpu
 * kernels ignore it, so dilated cases are checked by the adjoint identity
 * instead: ⟨dy, conv(x, f)⟩ = ⟨dx, x⟩ = ⟨df, f⟩, with the forward wasm kernel.
 */
const dilatedDepthwiseCases: typeof depthwiseCases = [
  { x: [2, 9, 9, 2], filter: [3, 3, 2, 2], strides: 1, dilations: 2, pad: 'valid' },
  { x: [2, 9, 8, 3], filter: [3, 2, 3, 1], strides: 1, dilations: 2, pad: 'same' },
  { x: [1, 12, 12, 2], filter: [2, 3, 2, 3], strides: 1, dilations: 3, pad: 'same' },
];

describe('DepthwiseConv2dNativeBackpropFilter on wasm', () => {
  for (const { x, filter, strides, dilations, pad } of depthwiseCases) {
    it(`x ${x.join('x')}, filter ${filter.join('x')}, strides ${String(strides)}, dilation ${dilations}, pad ${String(pad)}`, async () => {
      const info = tf.backend_util.computeConv2DInfo(x, filter, strides, dilations, pad, undefined, true);
      const xValues = random(x);
      const dyValues = random(info.outShape);
      await expectWasmMatchesCpu(() =>
        tf.tidy(() =>
          tf.engine().runKernel(
            'DepthwiseConv2dNativeBackpropFilter',
            { x: tf.tensor(xValues, x), dy: tf.tensor(dyValues, info.outShape) },
            { strides, dilations, pad, filterShape: filter } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor,
        ),
      );
    });
  }
});

describe('DepthwiseConv2dNativeBackpropInput on wasm', () => {
  for (const { x, filter, strides, dilations, pad } of depthwiseCases) {
    it(`x ${x.join('x')}, filter ${filter.join('x')}, strides ${String(strides)}, dilation ${dilations}, pad ${String(pad)}`, async () => {
      const info = tf.backend_util.computeConv2DInfo(x, filter, strides, dilations, pad, undefined, true);
      const filterValues = random(filter);
      const dyValues = random(info.outShape);
      await expectWasmMatchesCpu(() =>
        tf.tidy(() =>
          tf.engine().runKernel(
            'DepthwiseConv2dNativeBackpropInput',
            { dy: tf.tensor(dyValues, info.outShape), filter: tf.tensor(filterValues, filter) },
            { strides, dilations, pad, inputShape: x } as unknown as tf.NamedAttrMap,
          ) as tf.Tensor,
        ),
      );
    });
  }
});

describe('dilated depthwise gradients on wasm (adjoint identity)', () => {
  for (const { x, filter, strides, dilations, pad } of dilatedDepthwiseCases) {
    it(`x ${x.join('x')}, filter ${filter.join('x')}, dilation ${dilations}, pad ${String(pad)}`, async () => {
      await initBackend('wasm');
      const info = tf.backend_util.computeConv2DInfo(x, filter, strides, dilations, pad, undefined, true);
      const [forward, viaInput, viaFilter] = tf.tidy(() => {
        const xs = tf.tensor4d(random(x), x);
        const fs = tf.tensor4d(random(filter), filter);
        const dy = tf.tensor4d(random(info.outShape), info.outShape);
        const attrs = { strides, dilations, pad } as const;
        const dx = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: fs }, { ...attrs, inputShape: x } as unknown as tf.NamedAttrMap) as tf.Tensor;
        const df = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: xs, dy }, { ...attrs, filterShape: filter } as unknown as tf.NamedAttrMap) as tf.Tensor;
        const y = tf.depthwiseConv2d(xs, fs, strides, pad, 'NHWC', dilations);
        return [tf.sum(tf.mul(dy, y)), tf.sum(tf.mul(dx, xs)), tf.sum(tf.mul(df, fs))].map((t) => t.dataSync()[0] as number);
      });
      expectClose([viaInput as number, viaFilter as number], [forward as number, forward as number]);
    });
  }
});
