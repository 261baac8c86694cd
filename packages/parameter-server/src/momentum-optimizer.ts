import { FlatOptimizer } from './optimizer.js';
import type { ResolvedOptimizerConfig } from './optimizer.js';

/** See the note on rounding in `optimizer.ts`. */
const f32 = Math.fround;

type MomentumConfig = Extract<ResolvedOptimizerConfig, { name: 'momentum' }>;

/**
 * tfjs `MomentumOptimizer`: a ← m·a + g, then w ← w − lr·a, or with Nesterov
 * w ← w − lr·(g + m·a). Slot `momentum` is tfjs's accumulation.
 */
export class MomentumOptimizer extends FlatOptimizer {
  private readonly accumulation: Float32Array;
  private readonly m: number;
  private readonly nesterov: boolean;

  constructor(config: MomentumConfig, size: number, ranges: Uint32Array) {
    super(config, size, ranges, ['momentum']);
    this.accumulation = this.slots['momentum'] as Float32Array;
    this.m = f32(config.momentum);
    this.nesterov = config.useNesterov;
  }

  protected updateRange(w: Float32Array, g: Float32Array, start: number, end: number): void {
    const acc = this.accumulation;
    const m = this.m;
    const c = f32(-this.lr);
    if (this.nesterov) {
      for (let i = start; i < end; i++) {
        const gi = g[i] as number;
        const a = f32(f32(m * (acc[i] as number)) + gi);
        acc[i] = a;
        w[i] = f32(c * f32(gi + f32(a * m))) + (w[i] as number);
      }
    } else {
      for (let i = start; i < end; i++) {
        const a = f32(f32(m * (acc[i] as number)) + (g[i] as number));
        acc[i] = a;
        w[i] = f32(c * a) + (w[i] as number);
      }
    }
  }
}
