import type { FlatRange } from '@dtrain/protocol';
import { FlatOptimizer } from './optimizer.js';
import type { ResolvedOptimizerConfig } from './optimizer.js';

/** See the note on rounding in `optimizer.ts`. */
const f32 = Math.fround;

type SgdConfig = Extract<ResolvedOptimizerConfig, { name: 'sgd' }>;

/** tfjs `SGDOptimizer`: w ← w − lr·g. */
export class SgdOptimizer extends FlatOptimizer {
  /** This step's f32(−lr): tfjs keeps −lr as a float32 scalar `c` and computes add(mul(c, g), w). */
  private negLr = 0;

  constructor(config: SgdConfig, range: FlatRange, ranges: Uint32Array) {
    super(config, range, ranges, []);
  }

  protected prepareStep(): void {
    this.negLr = f32(-this.lr);
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
