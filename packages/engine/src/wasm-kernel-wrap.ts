/**
 * Replacing one of the wasm backend's own kernels with a wrapper around it,
 * reversibly. The wrapper keeps the original's setup and dispose functions,
 * so it works whether it is installed before or after the backend
 * initialises (setup binds the wasm function the original calls).
 */

import * as tf from '@tensorflow/tfjs-core';

const ORIGINAL = Symbol('dtrain.originalKernelFunc');
type MarkedKernelFunc = tf.KernelFunc & { [ORIGINAL]?: tf.KernelFunc };

/** The kernel function as the wasm backend registered it, wrapped or not now. */
export function originalWasmKernel(kernelName: string): tf.KernelFunc | undefined {
  const current = tf.getKernel(kernelName, 'wasm');
  if (current === undefined) return undefined;
  return (current.kernelFunc as MarkedKernelFunc)[ORIGINAL] ?? current.kernelFunc;
}

export function isWasmKernelWrapped(kernelName: string): boolean {
  const current = tf.getKernel(kernelName, 'wasm');
  return current !== undefined && (current.kernelFunc as MarkedKernelFunc)[ORIGINAL] !== undefined;
}

/**
 * Installs `makeWrapper(original)` as the wasm kernel `kernelName`, or (with
 * `enabled` false) puts the original back. Idempotent; a no-op when the wasm
 * backend has no such kernel.
 */
export function setWasmKernelWrapper(
  kernelName: string,
  makeWrapper: (original: tf.KernelFunc) => tf.KernelFunc,
  enabled: boolean,
): void {
  const current = tf.getKernel(kernelName, 'wasm');
  const original = originalWasmKernel(kernelName);
  if (current === undefined || original === undefined) return;
  if (isWasmKernelWrapped(kernelName) === enabled) return;
  let kernelFunc: MarkedKernelFunc = original;
  if (enabled) {
    kernelFunc = makeWrapper(original);
    kernelFunc[ORIGINAL] = original;
  }
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ ...current, kernelFunc });
}
