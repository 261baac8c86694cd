/**
 * The one place the engine adds kernels to tfjs. `initBackend` calls
 * `registerWasmKernels` after the wasm backend has initialised; nothing is
 * registered on import.
 */

import * as tf from '@tensorflow/tfjs-core';
import { wasmConv2dBackpropFilterConfig } from './wasm-conv2d-backprop-filter.js';
import { wasmDepthwiseBackpropFilterConfig, wasmDepthwiseBackpropInputConfig } from './wasm-depthwise-backprop.js';
import { setWasmFastConv2dBackpropInput } from './wasm-conv2d-backprop-input.js';
import { setWasmMaxPoolGradFix } from './wasm-max-pool-grad.js';
import { setWasmTransposedMatMul } from './wasm-transposed-matmul.js';
import { wasmUnsortedSegmentSumConfig } from './wasm-unsorted-segment-sum.js';

/** Gradient kernels the wasm backend lacks and training the spec's layer types needs. */
export const WASM_GRADIENT_KERNELS: readonly tf.KernelConfig[] = [
  wasmConv2dBackpropFilterConfig, // conv2d weights
  wasmDepthwiseBackpropFilterConfig, // depthwiseConv2d weights
  wasmDepthwiseBackpropInputConfig, // anything below a depthwiseConv2d
  wasmUnsortedSegmentSumConfig, // embedding (the gradient of gather)
];

export interface WasmKernelOptions {
  /**
   * Wrap the wasm matmul kernels so transposed operands are materialised
   * first (see wasm-transposed-matmul.ts); ~3x faster MLP training steps.
   * Default true; false restores the original kernels.
   */
  readonly transposedMatMul?: boolean;
}

/**
 * Registers the engine's kernels for backend 'wasm': the missing gradient
 * kernels above; replacements for two of the backend's own kernels,
 * `MaxPoolGrad` (wrong for windows whose maximum is ≤ 0, see
 * wasm-max-pool-grad.ts) and `Conv2DBackpropInput` (a slow loop, see
 * wasm-conv2d-backprop-input.ts); and, by default, the transposed-matmul
 * wrapper. Idempotent; a gradient kernel the wasm backend gains in a later
 * tfjs version is left alone (its own wins). Call after `tf.setBackend('wasm')`
 * resolved: the wrappers need the backend's own kernels registered.
 */
export function registerWasmKernels(options: WasmKernelOptions = {}): void {
  for (const config of WASM_GRADIENT_KERNELS) {
    if (tf.getKernel(config.kernelName, 'wasm') === undefined) tf.registerKernel(config);
  }
  // Not optional: without it a max pool over non-positive values trains on wrong gradients.
  setWasmMaxPoolGradFix(true);
  setWasmFastConv2dBackpropInput(true);
  setWasmTransposedMatMul(options.transposedMatMul ?? true);
}
