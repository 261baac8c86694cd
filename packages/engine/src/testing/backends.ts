/**
 * Test support only (excluded from the build): running the same computation
 * on the wasm and cpu backends and comparing, for the engine's wasm kernels.
 */

import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import type { BackendName } from '../backend-choice.js';
import { availableBackends, initBackend } from '../init-backend.js';
import { expectClose, randomArray, type Tolerance } from './numeric.js';

export type Pad = 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];

/** Runs `make` on a backend and returns a copy of the result's values and its shape. */
export async function on(backend: 'wasm' | 'cpu', make: () => tf.Tensor): Promise<{ values: Float32Array; shape: number[] }> {
  await initBackend(backend);
  const numTensors = tf.memory().numTensors;
  const out = make();
  const result = { values: (out.dataSync() as Float32Array).slice(), shape: out.shape };
  out.dispose();
  // A kernel that leaked would leave tensors behind on either backend.
  expect(tf.memory().numTensors).toBe(numTensors);
  return result;
}

/** `make` on wasm equals `make` on cpu, to float tolerance (default rtol 1e-4, see expectClose). */
export async function expectWasmMatchesCpu(make: () => tf.Tensor, tolerance?: Tolerance): Promise<void> {
  const wasm = await on('wasm', make);
  const cpu = await on('cpu', make);
  expect(wasm.shape).toEqual(cpu.shape);
  expectClose(wasm.values, cpu.values, tolerance);
}

/** Fresh uniform values in [-1, 1) for a tensor of this shape. */
export function random(shape: readonly number[]): Float32Array {
  return randomArray(shape.reduce((a, b) => a * b, 1));
}

/**
 * Every backend the engine supports and whether it loads here, for
 * `describe.each` + `describe.skipIf(!available)`: a backend missing on this
 * machine shows up as skipped tests and one warning line, never silently.
 */
export async function backendsToTest(suite: string): Promise<{ name: BackendName; available: boolean }[]> {
  const available = await availableBackends();
  const all: BackendName[] = ['tensorflow', 'wasm', 'cpu'];
  for (const name of all) {
    if (available.includes(name)) continue;
    const why = name === 'tensorflow' ? 'neither @tensorflow/tfjs-node nor -gpu loads here' : 'it does not initialise here';
    console.warn(`[engine] SKIPPING ${suite} on '${name}': ${why}.`);
  }
  return all.map((name) => ({ name, available: available.includes(name) }));
}
