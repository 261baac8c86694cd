import type { FlatRange } from '@dtrain/protocol';
import type { KernelMemory, Kernels } from './kernel-memory.js';
import { FlatOptimizer } from './optimizer.js';
import type { ResolvedOptimizerConfig } from './optimizer.js';

/** See the note on rounding in `optimizer.ts`. */
const f32 = Math.fround;

type SgdConfig = Extract<ResolvedOptimizerConfig, { name: 'sgd' }>;

/** tfjs `SGDOptimizer`: w ← w − lr·g. */
export class SgdOptimizer extends FlatOptimizer {
  /** This step's f32(−lr): tfjs keeps −lr as a float32 scalar `c` and computes add(mul(c, g), w). */
  private negLr = 0;

  constructor(config: SgdConfig, range: FlatRange, ranges: Uint32Array, memory: KernelMemory | undefined) {
    super(config, range, ranges, memory);
  }

  protected prepareStep(): void {
    this.negLr = f32(-this.lr);
  }

  /** sgd's JS loop beats its kernel when the arrays must be copied (see the bench). */
  protected override get copiesPay(): boolean {
    return false;
  }

  protected runKernel(kernels: Kernels, w: number, g: number, _index: number, count: number): void {
    kernels.sgd(w, g, count, this.negLr);
  }

  /** The loop shape is explained on FlatOptimizer.updateRange. */
  protected updateRange(w: Float32Array, g: Float32Array, start: number, end: number): void {
    const c = this.negLr;
    let i = start;
    const stop = start + ((end - start) & 3);
    for (; i < stop; i++) w[i] = f32(c * (g[i] as number)) + (w[i] as number);
    for (; i < end; i += 4) {
      const g0 = g[i] as number;
      const g1 = g[i + 1] as number;
      const g2 = g[i + 2] as number;
      const g3 = g[i + 3] as number;
      w[i] = f32(c * g0) + (w[i] as number);
      w[i + 1] = f32(c * g1) + (w[i + 1] as number);
      w[i + 2] = f32(c * g2) + (w[i + 2] as number);
      w[i + 3] = f32(c * g3) + (w[i + 3] as number);
    }
  }
}
