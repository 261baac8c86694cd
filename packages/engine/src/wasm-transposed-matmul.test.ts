/**
 * The transpose-first wrapper around the wasm matmul kernels against the
 * original wasm kernel and the cpu backend, on fresh random inputs, to float
 * tolerance (rtol 1e-5 against the original, 1e-4 against cpu).
 */

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { registerWasmKernels } from './register-wasm-kernels.js';
import { expectClose } from './testing/numeric.js';
import { on, random } from './testing/backends.js';
import { wasmFastConv2dBackpropInputEnabled } from './wasm-conv2d-backprop-input.js';
import { wasmMaxPoolGradFixEnabled } from './wasm-max-pool-grad.js';
import { wasmTransposedMatMulEnabled } from './wasm-transposed-matmul.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('transposed matmul wrapper on wasm', () => {
  it('is installed by registerWasmKernels (with the kernel replacements) and removable', () => {
    expect(wasmTransposedMatMulEnabled()).toBe(true);
    expect(wasmMaxPoolGradFixEnabled()).toBe(true);
    expect(wasmFastConv2dBackpropInputEnabled()).toBe(true);
    registerWasmKernels({ transposedMatMul: false });
    expect(wasmTransposedMatMulEnabled()).toBe(false);
    registerWasmKernels();
    registerWasmKernels();
    expect(wasmTransposedMatMulEnabled()).toBe(true);
  });

  const shapes: { a: number[]; b: number[]; transposeA: boolean; transposeB: boolean }[] = [];
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) {
      const m = 13;
      const k = 37;
      const n = 9;
      shapes.push({ a: transposeA ? [k, m] : [m, k], b: transposeB ? [n, k] : [k, n], transposeA, transposeB });
      shapes.push({ a: transposeA ? [3, k, m] : [3, m, k], b: transposeB ? [3, n, k] : [3, k, n], transposeA, transposeB });
      shapes.push({ a: transposeA ? [1, k, m] : [1, m, k], b: transposeB ? [4, n, k] : [4, k, n], transposeA, transposeB });
    }
  }
  for (const { a, b, transposeA, transposeB } of shapes) {
    it(`BatchMatMul ${a.join('x')}${transposeA ? 'ᵀ' : ''} · ${b.join('x')}${transposeB ? 'ᵀ' : ''} equals the original wasm kernel and cpu`, async () => {
      const aValues = random(a);
      const bValues = random(b);
      const make = (): tf.Tensor => tf.tidy(() => tf.matMul(tf.tensor(aValues, a), tf.tensor(bValues, b), transposeA, transposeB));
      const wrapped = await on('wasm', make);
      registerWasmKernels({ transposedMatMul: false });
      const original = await on('wasm', make);
      registerWasmKernels({ transposedMatMul: true });
      expect(wrapped.shape).toEqual(original.shape);
      expectClose(wrapped.values, original.values, { rtol: 1e-5 });
      const cpu = await on('cpu', make);
      expectClose(wrapped.values, cpu.values);
    });
  }

  // The original wasm _FusedMatMul gets transposed products with a bias wrong
  // (tfjs 4.22: max error ~0.8 on these sizes); the wrapper never hands it a
  // transpose flag, so the reference here is cpu.
  it('_FusedMatMul with transposes, bias and relu equals cpu', async () => {
    const aValues = random([20, 7]);
    const bValues = random([11, 20]);
    const biasValues = random([11]);
    const make = (): tf.Tensor =>
      tf.tidy(() =>
        tf.fused.matMul({
          a: tf.tensor(aValues, [20, 7]),
          b: tf.tensor(bValues, [11, 20]),
          transposeA: true,
          transposeB: true,
          bias: tf.tensor(biasValues, [11]),
          activation: 'relu',
        }),
      );
    const wrapped = await on('wasm', make);
    const cpu = await on('cpu', make);
    expectClose(wrapped.values, cpu.values);
    expect(wrapped.values.some((value) => value === 0)).toBe(true);
  });
});
