/**
 * The shard's accumulator loops in plain JS: the fallback where the
 * WebAssembly SIMD kernels (kernels.wat: addScaled, mean) do not run, and
 * the reference the kernels are tested against.
 */

/**
 * sum[at + i] += n · values[i]; returns false when any value is NaN or ±Inf
 * (x − x is 0 for finite x and NaN otherwise: one add per element, no branch).
 */
export function addScaled(sum: Float64Array, at: number, values: Float32Array, n: number): boolean {
  let probe = 0;
  const length = values.length;
  for (let i = 0; i < length; i++) {
    const x = values[i] as number;
    probe += x - x;
    sum[at + i] = (sum[at + i] as number) + n * x;
  }
  return probe === 0;
}

/** mean[i] = sum[i] / samples for i in [lo, hi), ascending (see the note on ParameterShard's mean, which is written over the sum's own memory). */
export function meanInPlace(sum: Float64Array, mean: Float32Array, lo: number, hi: number, samples: number): void {
  for (let i = lo; i < hi; i++) mean[i] = (sum[i] as number) / samples;
}
