/**
 * The element format of gradient chunks on the wire (`cluster.wire`):
 * float32 (exact, 4 bytes), or a 16-bit format at half the bytes — bfloat16
 * (float32's 8-bit exponent and range, 8 bits of mantissa) or float16 (IEEE
 * half: 5-bit exponent, 11 bits of mantissa, largest finite 65504, values
 * below about 6e-8 flush to zero).
 *
 * A worker sending 16 bits keeps an error-feedback residual: what rounding
 * dropped from one step's value is added to the next step's before it is
 * rounded, so over many steps the server receives the sum of the float32
 * gradients to within one rounding step of the last value (the residual
 * never grows beyond half a unit in the last place). The server widens to
 * float32 on arrival; weights and optimizer state stay float32. Weights
 * may travel server → worker in 16 bits too (`cluster.wireWeights`): each
 * version rounded afresh from the server's float32 weights.
 */

export type WireFormat = 'float32' | 'bfloat16' | 'float16';

export const WIRE_FORMATS: readonly WireFormat[] = ['float32', 'bfloat16', 'float16'];

/** Bytes per element on the wire. */
export function wireElementBytes(format: WireFormat): 2 | 4 {
  return format === 'float32' ? 4 : 2;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → bfloat16 bits, rounded to nearest even; NaN stays NaN (quiet), ±Infinity stays. */
export function toBfloat16(value: number): number {
  f32[0] = value;
  const bits = u32[0] as number;
  // NaN: keep it NaN (rounding could carry it into Infinity).
  if ((bits & 0x7fff_ffff) > 0x7f80_0000) return ((bits >>> 16) | 0x0040) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bfloat16 bits → the float32 value. */
export function fromBfloat16(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0] as number;
}

/** float32 → IEEE float16 bits, rounded to nearest even; overflow → ±Infinity, NaN stays NaN. */
export function toFloat16(value: number): number {
  f32[0] = value;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7f_ffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200);
  // Re-biased exponent: float32 bias 127, float16 bias 15.
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa with its implicit 1 into place, round to nearest even.
    if (e < -10) return sign;
    const m = mantissa | 0x80_0000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let out = m >>> shift;
    if (rest > half || (rest === half && (out & 1) === 1)) out += 1;
    return sign | out;
  }
  let out = sign | (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa moves into the exponent, which is exactly the rounded value (up to Infinity).
  if (rest > 0x1000 || (rest === 0x1000 && (out & 1) === 1)) out += 1;
  return out;
}

/** Every float16 bit pattern's float32 value: 256 KiB, built on first use; decoding is then one lookup per element. */
let float16Table: Float32Array | undefined;

function halfTable(): Float32Array {
  if (float16Table !== undefined) return float16Table;
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits += 1) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >>> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    table[bits] =
      exponent === 0
        ? sign * mantissa * 2 ** -24
        : exponent === 0x1f
          ? mantissa === 0
            ? sign * Number.POSITIVE_INFINITY
            : Number.NaN
          : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  float16Table = table;
  return table;
}

/** float16 bits → the float32 value. */
export function fromFloat16(bits: number): number {
  return halfTable()[bits & 0xffff] as number;
}

/**
 * Rounds `values[i] + residual[i]` to the 16-bit `format` into `out[i]` and
 * leaves in `residual[i]` what the rounding dropped (error feedback). All
 * three arrays have the same length. A non-finite sum is sent as is and
 * clears its residual (the shard rejects the push; nothing is carried over).
 */
export function encode16WithFeedback(format: Exclude<WireFormat, 'float32'>, values: Float32Array, residual: Float32Array, out: Uint16Array): void {
  if (values.length !== residual.length || values.length !== out.length) {
    throw new RangeError(`encode16WithFeedback: lengths differ (values ${values.length}, residual ${residual.length}, out ${out.length})`);
  }
  if (format === 'bfloat16') {
    // Inlined toBfloat16/fromBfloat16 over a reused word: this loop runs over the whole model every step.
    for (let i = 0; i < values.length; i += 1) {
      f32[0] = (values[i] as number) + (residual[i] as number);
      const wanted = f32[0] as number;
      const bits = u32[0] as number;
      let half: number;
      if ((bits & 0x7fff_ffff) > 0x7f80_0000) half = ((bits >>> 16) | 0x0040) & 0xffff;
      else half = ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
      out[i] = half;
      u32[0] = half << 16;
      const sent = f32[0] as number;
      residual[i] = Number.isFinite(wanted) ? wanted - sent : 0;
    }
    return;
  }
  const table = halfTable();
  for (let i = 0; i < values.length; i += 1) {
    f32[0] = (values[i] as number) + (residual[i] as number);
    const wanted = f32[0] as number;
    const half = toFloat16(wanted);
    out[i] = half;
    const sent = table[half] as number;
    // Beyond float16's range the value is sent as ±Infinity (the push is rejected as non-finite): carry nothing.
    residual[i] = Number.isFinite(sent) && Number.isFinite(wanted) ? wanted - sent : 0;
  }
}

/**
 * Rounds `values` to the 16-bit `format` into `out` (same length), to
 * nearest even, without feedback: for weights server → worker
 * (`cluster.wireWeights`), where the server keeps the float32 weights and
 * each version is rounded afresh, so no error accumulates.
 */
export function encode16(format: Exclude<WireFormat, 'float32'>, values: Float32Array, out: Uint16Array): void {
  if (values.length !== out.length) throw new RangeError(`encode16: lengths differ (values ${values.length}, out ${out.length})`);
  if (format === 'bfloat16') for (let i = 0; i < values.length; i += 1) out[i] = toBfloat16(values[i] as number);
  else for (let i = 0; i < values.length; i += 1) out[i] = toFloat16(values[i] as number);
}

/** Widens 16-bit `format` elements into float32 `out` (same length). */
export function decode16(format: Exclude<WireFormat, 'float32'>, values: Uint16Array, out: Float32Array): void {
  if (values.length !== out.length) throw new RangeError(`decode16: lengths differ (values ${values.length}, out ${out.length})`);
  if (format === 'bfloat16') {
    const words = new Uint32Array(out.buffer, out.byteOffset, out.length);
    for (let i = 0; i < values.length; i += 1) words[i] = (values[i] as number) << 16;
    return;
  }
  const table = halfTable();
  for (let i = 0; i < values.length; i += 1) out[i] = table[values[i] as number] as number;
}
