/**
 * Average-pools square grey images by an integer factor (28×28 → 14×14 with
 * factor 2), rounding to integers so the CSV stays small and exact.
 */
export function downsampleImages(pixels: Float32Array, count: number, side: number, factor: number): { values: Uint8Array; side: number } {
  if (!Number.isInteger(factor) || factor < 1 || side % factor !== 0) {
    throw new Error(`downsample: factor ${factor} must be a positive integer dividing the side ${side}`);
  }
  if (pixels.length !== count * side * side) throw new Error(`downsample: expected ${count * side * side} pixels, got ${pixels.length}`);
  const out = side / factor;
  const values = new Uint8Array(count * out * out);
  const area = factor * factor;
  for (let n = 0; n < count; n += 1) {
    const image = n * side * side;
    for (let r = 0; r < out; r += 1) {
      for (let c = 0; c < out; c += 1) {
        let sum = 0;
        for (let dr = 0; dr < factor; dr += 1) {
          const row = image + (r * factor + dr) * side + c * factor;
          for (let dc = 0; dc < factor; dc += 1) sum += pixels[row + dc] ?? 0;
        }
        values[n * out * out + r * out + c] = Math.round(sum / area);
      }
    }
  }
  return { values, side: out };
}
