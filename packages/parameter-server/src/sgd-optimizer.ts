import { FlatOptimizer } from './optimizer.js';
import type { ResolvedOptimizerConfig } from './optimizer.js';

/** See the note on rounding in `optimizer.ts`. */
const f32 = Math.fround;

type SgdConfig = Extract<ResolvedOptimizerConfig, { name: 'sgd' }>;

/** tfjs `SGDOptimizer`: w ← w − lr·g. */
export class SgdOptimizer extends FlatOptimizer {
  constructor(config: SgdConfig, size: number, ranges: Uint32Array) {
    super(config, size, ranges, []);
  }

  protected updateRange(w: Float32Array, g: Float32Array, start: number, end: number): void {
    // tfjs keeps −lr as a float32 scalar `c` and computes add(mul(c, g), w).
    const c = f32(-this.lr);
    for (let i = start; i < end; i++) w[i] = f32(c * (g[i] as number)) + (w[i] as number);
  }
}
