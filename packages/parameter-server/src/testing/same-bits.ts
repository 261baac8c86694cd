/**
 * Test support only (excluded from the build): bit-for-bit comparison of
 * float32 arrays where a NaN's payload does not count. tfjs does not fix
 * payloads either: they depend on which operand a CPU instruction
 * propagates, which differs between the JS engine's scalar code and
 * WebAssembly's packed instructions.
 */
import { expect } from 'vitest';

const actualBits = new Uint32Array(1);
const expectedBits = new Uint32Array(1);
const actualFloat = new Float32Array(actualBits.buffer);
const expectedFloat = new Float32Array(expectedBits.buffer);

/** Same bit patterns, except that two NaNs may differ in payload. */
export function expectSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === e[i]) continue;
    actualBits[0] = a[i] as number;
    expectedBits[0] = e[i] as number;
    if (!(Number.isNaN(actualFloat[0]) && Number.isNaN(expectedFloat[0]))) {
      expect.fail(`${what}[${i}]: got ${actualFloat[0]} (0x${(a[i] as number).toString(16)}), expected ${expectedFloat[0]} (0x${(e[i] as number).toString(16)})`);
    }
  }
}
