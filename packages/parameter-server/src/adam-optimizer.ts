import { FlatOptimizer } from './optimizer.js';
import type { ResolvedOptimizerConfig } from './optimizer.js';

/** See the note on rounding in `optimizer.ts`. */
const f32 = Math.fround;

type AdamConfig = Extract<ResolvedOptimizerConfig, { name: 'adam' }>;

/**
 * tfjs `AdamOptimizer`. Per step, with accBeta_k = β_k^t kept as float32:
 * m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
 * w ← w − lr · (m / (1−accBeta1)) / (√(v / (1−accBeta2)) + ε).
 * Note ε is added after the square root of the bias-corrected v, and the bias
 * corrections use accBeta from before this step's multiplication (tfjs starts
 * accBeta at β, so step 1 divides by 1−β).
 */
export class AdamOptimizer extends FlatOptimizer {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly oneMinusBeta1: number;
  private readonly oneMinusBeta2: number;
  private accBeta1: number;
  private accBeta2: number;
  private oneMinusAccBeta1 = 1;
  private oneMinusAccBeta2 = 1;

  constructor(config: AdamConfig, size: number, ranges: Uint32Array) {
    super(config, size, ranges, ['m', 'v']);
    this.m = this.slots['m'] as Float32Array;
    this.v = this.slots['v'] as Float32Array;
    this.beta1 = f32(config.beta1);
    this.beta2 = f32(config.beta2);
    this.epsilon = f32(config.epsilon);
    // tfjs computes 1 − β in double from the config value, then makes it a float32 scalar.
    this.oneMinusBeta1 = f32(1 - config.beta1);
    this.oneMinusBeta2 = f32(1 - config.beta2);
    this.accBeta1 = this.beta1;
    this.accBeta2 = this.beta2;
  }

  protected override beginStep(): void {
    this.oneMinusAccBeta1 = f32(1 - this.accBeta1);
    this.oneMinusAccBeta2 = f32(1 - this.accBeta2);
  }

  protected override endStep(): void {
    this.accBeta1 = f32(this.accBeta1 * this.beta1);
    this.accBeta2 = f32(this.accBeta2 * this.beta2);
  }

  protected override getScalars(): Readonly<Record<string, number>> {
    return { accBeta1: this.accBeta1, accBeta2: this.accBeta2 };
  }

  protected override setScalars(scalars: Readonly<Record<string, number>>): void {
    this.accBeta1 = scalars['accBeta1'] as number;
    this.accBeta2 = scalars['accBeta2'] as number;
  }

  protected updateRange(w: Float32Array, g: Float32Array, start: number, end: number): void {
    const { m, v, beta1, beta2, epsilon, oneMinusBeta1, oneMinusBeta2, oneMinusAccBeta1, oneMinusAccBeta2 } = this;
    const negLr = f32(-this.lr);
    for (let i = start; i < end; i++) {
      const gi = g[i] as number;
      const mi = f32(f32((m[i] as number) * beta1) + f32(gi * oneMinusBeta1));
      const vi = f32(f32((v[i] as number) * beta2) + f32(f32(gi * gi) * oneMinusBeta2));
      m[i] = mi;
      v[i] = vi;
      const mHat = f32(mi / oneMinusAccBeta1);
      const vHat = f32(vi / oneMinusAccBeta2);
      const step = f32(mHat / f32(f32(Math.sqrt(vHat)) + epsilon));
      w[i] = f32(step * negLr) + (w[i] as number);
    }
  }
}
