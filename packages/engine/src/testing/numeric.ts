/**
 * Test support only (excluded from the build): random inputs and float
 * comparisons for checking kernels and gradients across backends.
 */

import { expect } from 'vitest';

/** Uniform values in [-1, 1). Fresh per call: kernel properties must hold for any input. */
export function randomArray(length: number): Float32Array {
  return Float32Array.from({ length }, () => Math.random() * 2 - 1);
}

/** Small deterministic PRNG (mulberry32), for data whose result must be reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Tolerance {
  /** Relative tolerance per element; default 1e-4 (float32 sums of a few thousand terms). */
  readonly rtol?: number;
  /** Absolute floor, as a fraction of the largest |expected| value; default 1e-5. */
  readonly atolScale?: number;
}

/**
 * Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise, with atol
 * scaled to the data so values that cancel to ~0 are compared sensibly.
 * Reports the worst element.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: Tolerance = {}): void {
  const { rtol = 1e-4, atolScale = 1e-5 } = tolerance;
  expect(actual.length).toBe(expected.length);
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++) maxAbs = Math.max(maxAbs, Math.abs(expected[i] as number));
  const atol = atolScale * maxAbs + 1e-12;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `element ${worst} of ${expected.length}: got ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol.toExponential(2)})`,
    );
  }
}
