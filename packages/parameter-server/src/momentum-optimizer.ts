import type { FlatRange } from '@dtrain/protocol';
import type { KernelMemory, Kernels } from './kernel-memory.js';
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
  /** This step's f32(−lr). */
  private negLr = 0;

  constructor(config: MomentumConfig, range: FlatRange, ranges: Uint32Array, memory: KernelMemory | undefined) {
    super(config, range, ranges, memory);
    this.accumulation = this.slots['momentum'] as Float32Array;
    this.m = f32(config.momentum);
    this.nesterov = config.useNesterov;
  }

  protected prepareStep(): void {
    this.negLr = f32(-this.lr);
  }

  protected updateRange(w: Float32Array, g: Float32Array, start: number, end: number): void {
    if (this.nesterov) nesterovRange(w, g, this.accumulation, this.m, this.negLr, start, end);
    else momentumRange(w, g, this.accumulation, this.m, this.negLr, start, end);
  }

  protected runKernel(kernels: Kernels, w: number, g: number, index: number, count: number): void {
    const acc = this.accumulation.byteOffset + 4 * index;
    if (this.nesterov) kernels.nesterov(w, g, acc, count, this.m, this.negLr);
    else kernels.momentum(w, g, acc, count, this.m, this.negLr);
  }
}

/** The loop shapes are explained on FlatOptimizer.updateRange. */
function momentumRange(w: Float32Array, g: Float32Array, acc: Float32Array, m: number, c: number, start: number, end: number): void {
  let i = start;
  const stop = start + ((end - start) & 3);
  for (; i < stop; i++) {
    const a = f32(f32(m * (acc[i] as number)) + (g[i] as number));
    acc[i] = a;
    w[i] = f32(c * a) + (w[i] as number);
  }
  for (; i < end; i += 4) {
    const a0 = f32(f32(m * (acc[i] as number)) + (g[i] as number));
    const a1 = f32(f32(m * (acc[i + 1] as number)) + (g[i + 1] as number));
    const a2 = f32(f32(m * (acc[i + 2] as number)) + (g[i + 2] as number));
    const a3 = f32(f32(m * (acc[i + 3] as number)) + (g[i + 3] as number));
    acc[i] = a0;
    acc[i + 1] = a1;
    acc[i + 2] = a2;
    acc[i + 3] = a3;
    w[i] = f32(c * a0) + (w[i] as number);
    w[i + 1] = f32(c * a1) + (w[i + 1] as number);
    w[i + 2] = f32(c * a2) + (w[i + 2] as number);
    w[i + 3] = f32(c * a3) + (w[i + 3] as number);
  }
}

function nesterovRange(w: Float32Array, g: Float32Array, acc: Float32Array, m: number, c: number, start: number, end: number): void {
  let i = start;
  const stop = start + ((end - start) & 3);
  for (; i < stop; i++) {
    const gi = g[i] as number;
    const a = f32(f32(m * (acc[i] as number)) + gi);
    acc[i] = a;
    w[i] = f32(c * f32(gi + f32(a * m))) + (w[i] as number);
  }
  for (; i < end; i += 4) {
    const g0 = g[i] as number;
    const g1 = g[i + 1] as number;
    const g2 = g[i + 2] as number;
    const g3 = g[i + 3] as number;
    const a0 = f32(f32(m * (acc[i] as number)) + g0);
    const a1 = f32(f32(m * (acc[i + 1] as number)) + g1);
    const a2 = f32(f32(m * (acc[i + 2] as number)) + g2);
    const a3 = f32(f32(m * (acc[i + 3] as number)) + g3);
    acc[i] = a0;
    acc[i + 1] = a1;
    acc[i + 2] = a2;
    acc[i + 3] = a3;
    w[i] = f32(c * f32(g0 + f32(a0 * m))) + (w[i] as number);
    w[i + 1] = f32(c * f32(g1 + f32(a1 * m))) + (w[i + 1] as number);
    w[i + 2] = f32(c * f32(g2 + f32(a2 * m))) + (w[i + 2] as number);
    w[i + 3] = f32(c * f32(g3 + f32(a3 * m))) + (w[i + 3] as number);
  }
}
