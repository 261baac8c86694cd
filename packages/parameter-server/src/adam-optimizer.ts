import type { FlatRange } from '@dtrain/protocol';
import type { KernelMemory, Kernels } from './kernel-memory.js';
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
  /**
   * This step's c_k = f32(1 − accBeta_k) (the kernel divides by them, as
   * tfjs does), 1 / c_k in double (the JS loop multiplies: see
   * {@link prepareStep}), and f32(−lr).
   */
  private c1 = 1;
  private c2 = 1;
  private recip1 = 1;
  private recip2 = 1;
  private negLr = 0;

  constructor(config: AdamConfig, range: FlatRange, ranges: Uint32Array, memory: KernelMemory | undefined) {
    super(config, range, ranges, memory);
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

  /**
   * tfjs divides by the float32 c = f32(1 − accBeta) every element; the loop
   * multiplies by r = 1/c (in double) instead, which saves two of the three
   * divisions per element (the CPU's divider is several times slower than
   * its multipliers). It changes no bit: f32(x·r) = f32(x/c) for
   * every float32 x when c is a float32 in [0, 1] (accBeta in [0, 1], which
   * setState enforces). tfjs's f32(x/c) is the correctly rounded float32
   * quotient q = x/c (double then float32 rounding is: 53 ≥ 2·24 + 2). Then:
   * - x = ±0, ±∞, NaN, or c = 0 or a power of two: x·r and x/c are the same
   *   (r is exact or ∞; 0·∞ and 0/0 are both NaN).
   * - Otherwise p = x·r is within |q|·2^−51.9 of q (two double roundings, no
   *   overflow or underflow for float32 inputs), and no float32 rounding
   *   boundary μ = M·2^k (M odd; k = e − 24 in binade 2^e, k = −150 below
   *   2^−126) lies that close: with x = X·2^a, c = C·2^b (X, C odd, < 2^24,
   *   C ≥ 3), x − μ·c is a multiple of 2^min(a, k+b), non-zero (X = M·C
   *   needs M < 2^24, i.e. a subnormal μ, and a = k + b then makes c ≥ 2),
   *   so |q − μ| ≥ min(|q|·2^−24, 2^k/C) > |q|·2^−50 for a normal μ near q
   *   and > 2^−174 > 2^−126·2^−51.9 for a subnormal one. So p and q round to
   *   the same float32.
   * Also checked for every non-negative float32 x at six values of c, and on
   * random inputs in optimizer-exactness.test.ts.
   */
  protected prepareStep(): void {
    this.c1 = f32(1 - this.accBeta1);
    this.c2 = f32(1 - this.accBeta2);
    this.recip1 = 1 / this.c1;
    this.recip2 = 1 / this.c2;
    this.negLr = f32(-this.lr);
  }

  protected override finishStep(): void {
    this.accBeta1 = f32(this.accBeta1 * this.beta1);
    this.accBeta2 = f32(this.accBeta2 * this.beta2);
  }

  protected override getScalars(): Readonly<Record<string, number>> {
    return { accBeta1: this.accBeta1, accBeta2: this.accBeta2 };
  }

  protected override checkScalars(scalars: Readonly<Record<string, number>>): string | undefined {
    // β^t for β in [0, 1): never outside [0, 1]; prepareStep's proof relies on it.
    for (const name of ['accBeta1', 'accBeta2']) {
      const value = scalars[name] as number;
      if (!(value >= 0 && value <= 1)) return `scalar ${name} must be in [0, 1], got ${value}`;
    }
    return undefined;
  }

  protected override setScalars(scalars: Readonly<Record<string, number>>): void {
    this.accBeta1 = scalars['accBeta1'] as number;
    this.accBeta2 = scalars['accBeta2'] as number;
  }

  protected runKernel(kernels: Kernels, w: number, g: number, index: number, count: number): void {
    const at = 4 * index;
    const { m, v } = this;
    kernels.adam(w, g, m.byteOffset + at, v.byteOffset + at, count, this.beta1, this.beta2, this.oneMinusBeta1, this.oneMinusBeta2, this.c1, this.c2, this.epsilon, this.negLr);
  }

  /** The loop shape is explained on FlatOptimizer.updateRange. */
  protected updateRange(w: Float32Array, g: Float32Array, start: number, end: number): void {
    const { m, v, beta1, beta2, epsilon, oneMinusBeta1, oneMinusBeta2, recip1, recip2, negLr } = this;
    let i = start;
    const stop = start + ((end - start) & 3);
    for (; i < stop; i++) {
      const gi = g[i] as number;
      const mi = f32(f32((m[i] as number) * beta1) + f32(gi * oneMinusBeta1));
      const vi = f32(f32((v[i] as number) * beta2) + f32(f32(gi * gi) * oneMinusBeta2));
      m[i] = mi;
      v[i] = vi;
      const mHat = f32(mi * recip1);
      const vHat = f32(vi * recip2);
      const step = f32(mHat / f32(f32(Math.sqrt(vHat)) + epsilon));
      w[i] = f32(step * negLr) + (w[i] as number);
    }
    for (; i < end; i += 4) {
      const g0 = g[i] as number;
      const g1 = g[i + 1] as number;
      const g2 = g[i + 2] as number;
      const g3 = g[i + 3] as number;
      const m0 = f32(f32((m[i] as number) * beta1) + f32(g0 * oneMinusBeta1));
      const m1 = f32(f32((m[i + 1] as number) * beta1) + f32(g1 * oneMinusBeta1));
      const m2 = f32(f32((m[i + 2] as number) * beta1) + f32(g2 * oneMinusBeta1));
      const m3 = f32(f32((m[i + 3] as number) * beta1) + f32(g3 * oneMinusBeta1));
      const v0 = f32(f32((v[i] as number) * beta2) + f32(f32(g0 * g0) * oneMinusBeta2));
      const v1 = f32(f32((v[i + 1] as number) * beta2) + f32(f32(g1 * g1) * oneMinusBeta2));
      const v2 = f32(f32((v[i + 2] as number) * beta2) + f32(f32(g2 * g2) * oneMinusBeta2));
      const v3 = f32(f32((v[i + 3] as number) * beta2) + f32(f32(g3 * g3) * oneMinusBeta2));
      m[i] = m0;
      m[i + 1] = m1;
      m[i + 2] = m2;
      m[i + 3] = m3;
      v[i] = v0;
      v[i + 1] = v1;
      v[i + 2] = v2;
      v[i + 3] = v3;
      w[i] = f32(f32(f32(m0 * recip1) / f32(f32(Math.sqrt(f32(v0 * recip2))) + epsilon)) * negLr) + (w[i] as number);
      w[i + 1] = f32(f32(f32(m1 * recip1) / f32(f32(Math.sqrt(f32(v1 * recip2))) + epsilon)) * negLr) + (w[i + 1] as number);
      w[i + 2] = f32(f32(f32(m2 * recip1) / f32(f32(Math.sqrt(f32(v2 * recip2))) + epsilon)) * negLr) + (w[i + 2] as number);
      w[i + 3] = f32(f32(f32(m3 * recip1) / f32(f32(Math.sqrt(f32(v3 * recip2))) + epsilon)) * negLr) + (w[i + 3] as number);
    }
  }
}
