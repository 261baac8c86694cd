import { FlatOptimizer } from './optimizer.js';
import type { ResolvedOptimizerConfig } from './optimizer.js';

/** See the note on rounding in `optimizer.ts`. */
const f32 = Math.fround;

type RmspropConfig = Extract<ResolvedOptimizerConfig, { name: 'rmsprop' }>;

/**
 * tfjs `RMSPropOptimizer`. ms ← ρ·ms + (1−ρ)·g², then
 * plain:    mom ← μ·mom + lr·g / √(ms + ε)
 * centered: mg ← ρ·mg + (1−ρ)·g,  mom ← μ·mom + lr·g / √(ms − (mg² + ε))
 * and w ← w − mom. The centered form subtracts ε inside the root, as tfjs 4.22
 * does (TensorFlow adds it). Kept on purpose so a job matches tfjs step for
 * step; the price is tfjs's: with gradients near zero the root's argument can
 * go negative and a weight NaN, and the workers' next gradients are then
 * rejected as non-finite.
 */
export class RmspropOptimizer extends FlatOptimizer {
  private readonly ms: Float32Array;
  private readonly mom: Float32Array;
  private readonly mg: Float32Array | undefined;
  private readonly decay: number;
  private readonly momentum: number;
  private readonly epsilon: number;
  private readonly oneMinusDecay: number;

  constructor(config: RmspropConfig, size: number, ranges: Uint32Array) {
    super(config, size, ranges, config.centered ? ['rms', 'momentum', 'mg'] : ['rms', 'momentum']);
    this.ms = this.slots['rms'] as Float32Array;
    this.mom = this.slots['momentum'] as Float32Array;
    this.mg = this.slots['mg'];
    this.decay = f32(config.decay);
    this.momentum = f32(config.momentum);
    this.epsilon = f32(config.epsilon);
    this.oneMinusDecay = f32(1 - config.decay);
  }

  protected updateRange(w: Float32Array, g: Float32Array, start: number, end: number): void {
    const { ms, mom, mg, decay, momentum, epsilon, oneMinusDecay } = this;
    const lr = f32(this.lr);
    if (mg === undefined) {
      for (let i = start; i < end; i++) {
        const gi = g[i] as number;
        const msi = f32(f32((ms[i] as number) * decay) + f32(f32(gi * gi) * oneMinusDecay));
        const step = f32(f32(gi * lr) / f32(Math.sqrt(f32(msi + epsilon))));
        const momi = f32(f32((mom[i] as number) * momentum) + step);
        ms[i] = msi;
        mom[i] = momi;
        w[i] = (w[i] as number) - momi;
      }
    } else {
      for (let i = start; i < end; i++) {
        const gi = g[i] as number;
        const msi = f32(f32((ms[i] as number) * decay) + f32(f32(gi * gi) * oneMinusDecay));
        const mgi = f32(f32((mg[i] as number) * decay) + f32(gi * oneMinusDecay));
        const step = f32(f32(gi * lr) / f32(Math.sqrt(f32(msi - f32(f32(mgi * mgi) + epsilon)))));
        const momi = f32(f32((mom[i] as number) * momentum) + step);
        ms[i] = msi;
        mg[i] = mgi;
        mom[i] = momi;
        w[i] = (w[i] as number) - momi;
      }
    }
  }
}
