/**
 * The engine's replacement for the wasm `MaxPoolGrad` against the cpu
 * backend's kernel on fresh random inputs, including the windows the
 * original gets wrong (all values ≤ 0) and ties (the first maximum wins).
 */

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { expectWasmMatchesCpu, random } from './testing/backends.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('MaxPoolGrad on wasm (replacement)', () => {
  type Values = 'mixed' | 'negative' | 'ties';
  const cases: { x: [number, number, number, number]; pool: number | [number, number]; strides: number | [number, number]; pad: 'valid' | 'same'; values: Values }[] = [
    { x: [2, 8, 8, 3], pool: 2, strides: 2, pad: 'valid', values: 'mixed' },
    { x: [2, 8, 8, 3], pool: 2, strides: 2, pad: 'valid', values: 'negative' },
    { x: [2, 7, 9, 2], pool: 3, strides: 2, pad: 'valid', values: 'negative' },
    { x: [2, 4, 4, 3], pool: 2, strides: 1, pad: 'same', values: 'mixed' },
    { x: [2, 7, 7, 2], pool: 3, strides: 2, pad: 'same', values: 'negative' },
    { x: [3, 5, 6, 4], pool: [2, 3], strides: [2, 1], pad: 'same', values: 'mixed' },
    { x: [2, 9, 9, 3], pool: 3, strides: 3, pad: 'same', values: 'negative' },
    { x: [2, 7, 7, 2], pool: 2, strides: 3, pad: 'valid', values: 'mixed' }, // stride > pool: cells no window reads
    { x: [2, 6, 6, 2], pool: 2, strides: 2, pad: 'valid', values: 'ties' },
    { x: [1, 5, 5, 2], pool: 3, strides: 1, pad: 'same', values: 'ties' },
  ];
  for (const { x, pool, strides, pad, values } of cases) {
    it(`x ${x.join('x')}, pool ${String(pool)}, strides ${String(strides)}, ${pad}, ${values} values`, async () => {
      const size = x.reduce((a, b) => a * b, 1);
      // 'negative' is what the original wasm kernel drops; 'ties' needs the first maximum to win.
      const xValues =
        values === 'ties'
          ? Float32Array.from({ length: size }, () => Math.round(Math.random() * 2) - 1)
          : values === 'negative'
            ? Float32Array.from({ length: size }, () => -0.1 - Math.random())
            : random(x);
      await expectWasmMatchesCpu(() =>
        tf.tidy(() =>
          tf.grad((input: tf.Tensor) => {
            const pooled = tf.maxPool(input as tf.Tensor4D, pool, strides, pad);
            // Distinct weights per output cell, so a gradient sent to the wrong cell shows.
            return tf.sum(tf.mul(pooled, tf.reshape(tf.range(1, pooled.size + 1), pooled.shape)));
          })(tf.tensor4d(xValues, x)),
        ),
      );
    });
  }
});
