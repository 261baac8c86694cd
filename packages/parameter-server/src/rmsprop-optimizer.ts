import type { FlatRange } from '@dtrain/protocol';
import type { KernelMemory, Kernels } from './kernel-memory.js';
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
  /** This step's f32(lr). */
  private lr32 = 0;

  constructor(config: RmspropConfig, range: FlatRange, ranges: Uint32Array, memory: KernelMemory | undefined) {
    super(config, range, ranges, memory);
    this.ms = this.slots['rms'] as Float32Array;
    this.mom = this.slots['momentum'] as Float32Array;
    this.mg = this.slots['mg'];
    this.decay = f32(config.decay);
    this.momentum = f32(config.momentum);
    this.epsilon = f32(config.epsilon);
    this.oneMinusDecay = f32(1 - config.decay);
  }

  protected prepareStep(): void {
    this.lr32 = f32(this.lr);
  }

  protected updateRange(w: Float32Array, g: Float32Array, start: number, end: number): void {
    const { ms, mom, mg, decay, momentum, epsilon, oneMinusDecay, lr32 } = this;
    if (mg === undefined) plainRange(w, g, ms, mom, decay, momentum, epsilon, oneMinusDecay, lr32, start, end);
    else centeredRange(w, g, ms, mom, mg, decay, momentum, epsilon, oneMinusDecay, lr32, start, end);
  }

  protected runKernel(kernels: Kernels, w: number, g: number, index: number, count: number): void {
    const { ms, mom, mg, decay, momentum, epsilon, oneMinusDecay, lr32 } = this;
    const at = 4 * index;
    if (mg === undefined) kernels.rmsprop(w, g, ms.byteOffset + at, mom.byteOffset + at, count, decay, momentum, epsilon, oneMinusDecay, lr32);
    else kernels.rmspropCentered(w, g, ms.byteOffset + at, mom.byteOffset + at, mg.byteOffset + at, count, decay, momentum, epsilon, oneMinusDecay, lr32);
  }
}

/** The loop shapes are explained on FlatOptimizer.updateRange. */
function plainRange(
  w: Float32Array,
  g: Float32Array,
  ms: Float32Array,
  mom: Float32Array,
  decay: number,
  momentum: number,
  epsilon: number,
  oneMinusDecay: number,
  lr: number,
  start: number,
  end: number,
): void {
  let i = start;
  const stop = start + ((end - start) & 3);
  for (; i < stop; i++) {
    const gi = g[i] as number;
    const msi = f32(f32((ms[i] as number) * decay) + f32(f32(gi * gi) * oneMinusDecay));
    const step = f32(f32(gi * lr) / f32(Math.sqrt(f32(msi + epsilon))));
    const momi = f32(f32((mom[i] as number) * momentum) + step);
    ms[i] = msi;
    mom[i] = momi;
    w[i] = (w[i] as number) - momi;
  }
  for (; i < end; i += 4) {
    const g0 = g[i] as number;
    const g1 = g[i + 1] as number;
    const g2 = g[i + 2] as number;
    const g3 = g[i + 3] as number;
    const ms0 = f32(f32((ms[i] as number) * decay) + f32(f32(g0 * g0) * oneMinusDecay));
    const ms1 = f32(f32((ms[i + 1] as number) * decay) + f32(f32(g1 * g1) * oneMinusDecay));
    const ms2 = f32(f32((ms[i + 2] as number) * decay) + f32(f32(g2 * g2) * oneMinusDecay));
    const ms3 = f32(f32((ms[i + 3] as number) * decay) + f32(f32(g3 * g3) * oneMinusDecay));
    ms[i] = ms0;
    ms[i + 1] = ms1;
    ms[i + 2] = ms2;
    ms[i + 3] = ms3;
    const mom0 = f32(f32((mom[i] as number) * momentum) + f32(f32(g0 * lr) / f32(Math.sqrt(f32(ms0 + epsilon)))));
    const mom1 = f32(f32((mom[i + 1] as number) * momentum) + f32(f32(g1 * lr) / f32(Math.sqrt(f32(ms1 + epsilon)))));
    const mom2 = f32(f32((mom[i + 2] as number) * momentum) + f32(f32(g2 * lr) / f32(Math.sqrt(f32(ms2 + epsilon)))));
    const mom3 = f32(f32((mom[i + 3] as number) * momentum) + f32(f32(g3 * lr) / f32(Math.sqrt(f32(ms3 + epsilon)))));
    mom[i] = mom0;
    mom[i + 1] = mom1;
    mom[i + 2] = mom2;
    mom[i + 3] = mom3;
    w[i] = (w[i] as number) - mom0;
    w[i + 1] = (w[i + 1] as number) - mom1;
    w[i + 2] = (w[i + 2] as number) - mom2;
    w[i + 3] = (w[i + 3] as number) - mom3;
  }
}

function centeredRange(
  w: Float32Array,
  g: Float32Array,
  ms: Float32Array,
  mom: Float32Array,
  mg: Float32Array,
  decay: number,
  momentum: number,
  epsilon: number,
  oneMinusDecay: number,
  lr: number,
  start: number,
  end: number,
): void {
  let i = start;
  const stop = start + ((end - start) & 3);
  for (; i < stop; i++) {
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
  for (; i < end; i += 4) {
    const g0 = g[i] as number;
    const g1 = g[i + 1] as number;
    const g2 = g[i + 2] as number;
    const g3 = g[i + 3] as number;
    const ms0 = f32(f32((ms[i] as number) * decay) + f32(f32(g0 * g0) * oneMinusDecay));
    const ms1 = f32(f32((ms[i + 1] as number) * decay) + f32(f32(g1 * g1) * oneMinusDecay));
    const ms2 = f32(f32((ms[i + 2] as number) * decay) + f32(f32(g2 * g2) * oneMinusDecay));
    const ms3 = f32(f32((ms[i + 3] as number) * decay) + f32(f32(g3 * g3) * oneMinusDecay));
    const mg0 = f32(f32((mg[i] as number) * decay) + f32(g0 * oneMinusDecay));
    const mg1 = f32(f32((mg[i + 1] as number) * decay) + f32(g1 * oneMinusDecay));
    const mg2 = f32(f32((mg[i + 2] as number) * decay) + f32(g2 * oneMinusDecay));
    const mg3 = f32(f32((mg[i + 3] as number) * decay) + f32(g3 * oneMinusDecay));
    ms[i] = ms0;
    ms[i + 1] = ms1;
    ms[i + 2] = ms2;
    ms[i + 3] = ms3;
    mg[i] = mg0;
    mg[i + 1] = mg1;
    mg[i + 2] = mg2;
    mg[i + 3] = mg3;
    const s0 = f32(f32(g0 * lr) / f32(Math.sqrt(f32(ms0 - f32(f32(mg0 * mg0) + epsilon)))));
    const s1 = f32(f32(g1 * lr) / f32(Math.sqrt(f32(ms1 - f32(f32(mg1 * mg1) + epsilon)))));
    const s2 = f32(f32(g2 * lr) / f32(Math.sqrt(f32(ms2 - f32(f32(mg2 * mg2) + epsilon)))));
    const s3 = f32(f32(g3 * lr) / f32(Math.sqrt(f32(ms3 - f32(f32(mg3 * mg3) + epsilon)))));
    const mom0 = f32(f32((mom[i] as number) * momentum) + s0);
    const mom1 = f32(f32((mom[i + 1] as number) * momentum) + s1);
    const mom2 = f32(f32((mom[i + 2] as number) * momentum) + s2);
    const mom3 = f32(f32((mom[i + 3] as number) * momentum) + s3);
    mom[i] = mom0;
    mom[i + 1] = mom1;
    mom[i + 2] = mom2;
    mom[i + 3] = mom3;
    w[i] = (w[i] as number) - mom0;
    w[i + 1] = (w[i + 1] as number) - mom1;
    w[i + 2] = (w[i + 2] as number) - mom2;
    w[i + 3] = (w[i + 3] as number) - mom3;
  }
}
