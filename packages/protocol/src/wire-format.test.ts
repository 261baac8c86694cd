import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode16, encode16WithFeedback, fromBfloat16, fromFloat16, toBfloat16, toFloat16, wireElementBytes } from './wire-format.js';

const isNaN16 = (format: 'bfloat16' | 'float16', bits: number): boolean => Number.isNaN(format === 'bfloat16' ? fromBfloat16(bits) : fromFloat16(bits));
const to = (format: 'bfloat16' | 'float16', x: number): number => (format === 'bfloat16' ? toBfloat16(x) : toFloat16(x));
const from = (format: 'bfloat16' | 'float16', bits: number): number => (format === 'bfloat16' ? fromBfloat16(bits) : fromFloat16(bits));

/** The representable neighbours of a finite 16-bit pattern (the next one up and down in value). */
function neighbours(format: 'bfloat16' | 'float16', bits: number): number[] {
  const v = from(format, bits);
  const out: number[] = [];
  for (const b of [bits - 1, bits + 1, bits ^ 0x8000]) {
    if (b < 0 || b > 0xffff || isNaN16(format, b)) continue;
    const n = from(format, b);
    if (Number.isFinite(n) && n !== v) out.push(n);
  }
  return out;
}

describe.each(['bfloat16', 'float16'] as const)('%s', (format) => {
  it('every bit pattern widens and narrows back to itself (NaN stays NaN)', () => {
    for (let bits = 0; bits < 65536; bits += 1) {
      const value = from(format, bits);
      if (Number.isNaN(value)) expect(isNaN16(format, to(format, value))).toBe(true);
      else expect(to(format, value)).toBe(bits);
    }
  });

  it('rounds a float32 to the nearest representable value', () => {
    const max = format === 'bfloat16' ? 3e38 : 65000;
    fc.assert(
      fc.property(fc.float({ min: Math.fround(-max), max: Math.fround(max), noNaN: true }), (x) => {
        const bits = to(format, x);
        const got = from(format, bits);
        const error = Math.abs(got - x);
        for (const n of neighbours(format, bits)) expect(error).toBeLessThanOrEqual(Math.abs(n - x));
      }),
      { numRuns: 5000 },
    );
  });

  it('keeps ±Infinity and NaN, and float16 overflows to Infinity', () => {
    expect(from(format, to(format, Number.POSITIVE_INFINITY))).toBe(Number.POSITIVE_INFINITY);
    expect(from(format, to(format, Number.NEGATIVE_INFINITY))).toBe(Number.NEGATIVE_INFINITY);
    expect(Number.isNaN(from(format, to(format, Number.NaN)))).toBe(true);
    if (format === 'float16') expect(fromFloat16(toFloat16(70000))).toBe(Number.POSITIVE_INFINITY);
  });

  it('error feedback: over many steps the values sent sum to the float32 values within one rounding step', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 200 }), fc.integer(), (length, steps, seed) => {
        let s = seed >>> 0;
        const random = (): number => {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          return s / 2 ** 32;
        };
        const residual = new Float32Array(length);
        const out = new Uint16Array(length);
        const sent = new Float32Array(length);
        const sumSent = new Float64Array(length);
        const sumTrue = new Float64Array(length);
        const values = new Float32Array(length);
        for (let step = 0; step < steps; step += 1) {
          // Gradients of mixed scales, as a model's are.
          for (let i = 0; i < length; i += 1) values[i] = (random() - 0.5) * 10 ** Math.floor(random() * 6 - 4);
          encode16WithFeedback(format, values, residual, out);
          decode16(format, out, sent);
          for (let i = 0; i < length; i += 1) {
            sumSent[i] = (sumSent[i] as number) + (sent[i] as number);
            sumTrue[i] = (sumTrue[i] as number) + (values[i] as number);
          }
        }
        for (let i = 0; i < length; i += 1) {
          // What is still owed is the residual, at most half a unit of the last value sent; float32 sums add their own rounding.
          const last = Math.abs(sent[i] as number);
          const ulp = format === 'bfloat16' ? 2 ** -7 : 2 ** -10;
          const step = Math.max(last * ulp, format === 'float16' ? 2 ** -24 : 1e-38);
          expect(Math.abs((sumSent[i] as number) + (residual[i] as number) - (sumTrue[i] as number))).toBeLessThanOrEqual(1e-6 * steps * Math.max(1, Math.abs(sumTrue[i] as number)) + step);
          expect(Math.abs(residual[i] as number)).toBeLessThanOrEqual(step);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('decode16 widens a whole array as fromX does one value', () => {
    const bits = Uint16Array.from({ length: 4096 }, (_, i) => (i * 16 + 7) & 0xffff);
    const out = new Float32Array(bits.length);
    decode16(format, bits, out);
    bits.forEach((b, i) => {
      const want = from(format, b);
      if (Number.isNaN(want)) expect(Number.isNaN(out[i])).toBe(true);
      else expect(out[i]).toBe(Math.fround(want));
    });
  });
});

it('16-bit formats take half the bytes', () => {
  expect([wireElementBytes('float32'), wireElementBytes('bfloat16'), wireElementBytes('float16')]).toEqual([4, 2, 2]);
});
