/**
 * Test and bench support only (excluded from the build): the optimizers' update
 * rules written the straightforward way, one element per iteration, every
 * division a division, as they were before the loops were tuned (commit
 * b8665e4). They are checked bit-for-bit against tfjs in optimizers.test.ts;
 * the tuned optimizers are checked bit-for-bit against them on random inputs
 * of every magnitude, and the bench times the two side by side.
 */
import type { OptimizerState, ResolvedOptimizerConfig } from '../optimizer.js';

const f32 = Math.fround;

/** A whole-array optimizer with tfjs's rules; the state fields are public for tests. */
export class ReferenceOptimizer {
  readonly config: ResolvedOptimizerConfig;
  lr: number;
  iterations = 0;
  readonly slots: Record<string, Float32Array>;
  /** Adam's accumulated betas; unused by the others. */
  accBeta1: number;
  accBeta2: number;
  private readonly ranges: Uint32Array;

  /** @param ranges trainable ranges, flat [start0, end0, …]. */
  constructor(config: ResolvedOptimizerConfig, size: number, ranges: Uint32Array) {
    this.config = config;
    this.lr = config.learningRate;
    this.ranges = ranges;
    const names =
      config.name === 'momentum'
        ? ['momentum']
        : config.name === 'adam'
          ? ['m', 'v']
          : config.name === 'rmsprop'
            ? config.centered
              ? ['rms', 'momentum', 'mg']
              : ['rms', 'momentum']
            : [];
    this.slots = Object.fromEntries(names.map((name) => [name, new Float32Array(size)]));
    this.accBeta1 = config.name === 'adam' ? f32(config.beta1) : 0;
    this.accBeta2 = config.name === 'adam' ? f32(config.beta2) : 0;
  }

  apply(w: Float32Array, g: Float32Array): void {
    const c = this.config;
    const ranges = this.ranges;
    for (let r = 0; r < ranges.length; r += 2) {
      const start = ranges[r] as number;
      const end = ranges[r + 1] as number;
      switch (c.name) {
        case 'sgd':
          sgd(w, g, start, end, this.lr);
          break;
        case 'momentum':
          momentum(w, g, start, end, this.lr, c, this.slot('momentum'));
          break;
        case 'adam':
          adam(w, g, start, end, this.lr, c, this.slot('m'), this.slot('v'), this.accBeta1, this.accBeta2);
          break;
        case 'rmsprop':
          rmsprop(w, g, start, end, this.lr, c, this.slot('rms'), this.slot('momentum'), this.slots['mg']);
          break;
      }
    }
    if (c.name === 'adam') {
      this.accBeta1 = f32(this.accBeta1 * f32(c.beta1));
      this.accBeta2 = f32(this.accBeta2 * f32(c.beta2));
    }
    this.iterations += 1;
  }

  /** The state as {@link Optimizer.getState} reports it. */
  getState(): OptimizerState {
    return {
      name: this.config.name,
      iterations: this.iterations,
      learningRate: this.lr,
      scalars: this.config.name === 'adam' ? { accBeta1: this.accBeta1, accBeta2: this.accBeta2 } : {},
      arrays: Object.fromEntries(Object.entries(this.slots).map(([name, slot]) => [name, slot.slice()])),
    };
  }

  /** Copies a state in, unchecked. */
  setState(state: OptimizerState): void {
    for (const [name, slot] of Object.entries(this.slots)) slot.set(state.arrays[name] as Float32Array);
    this.accBeta1 = state.scalars['accBeta1'] ?? 0;
    this.accBeta2 = state.scalars['accBeta2'] ?? 0;
    this.iterations = state.iterations;
    this.lr = state.learningRate;
  }

  private slot(name: string): Float32Array {
    return this.slots[name] as Float32Array;
  }
}

function sgd(w: Float32Array, g: Float32Array, start: number, end: number, lr: number): void {
  const c = f32(-lr);
  for (let i = start; i < end; i++) w[i] = f32(c * (g[i] as number)) + (w[i] as number);
}

function momentum(
  w: Float32Array,
  g: Float32Array,
  start: number,
  end: number,
  lr: number,
  config: Extract<ResolvedOptimizerConfig, { name: 'momentum' }>,
  acc: Float32Array,
): void {
  const m = f32(config.momentum);
  const c = f32(-lr);
  if (config.useNesterov) {
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

function adam(
  w: Float32Array,
  g: Float32Array,
  start: number,
  end: number,
  lr: number,
  config: Extract<ResolvedOptimizerConfig, { name: 'adam' }>,
  m: Float32Array,
  v: Float32Array,
  accBeta1: number,
  accBeta2: number,
): void {
  const beta1 = f32(config.beta1);
  const beta2 = f32(config.beta2);
  const epsilon = f32(config.epsilon);
  const oneMinusBeta1 = f32(1 - config.beta1);
  const oneMinusBeta2 = f32(1 - config.beta2);
  const oneMinusAccBeta1 = f32(1 - accBeta1);
  const oneMinusAccBeta2 = f32(1 - accBeta2);
  const negLr = f32(-lr);
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

function rmsprop(
  w: Float32Array,
  g: Float32Array,
  start: number,
  end: number,
  lr32: number,
  config: Extract<ResolvedOptimizerConfig, { name: 'rmsprop' }>,
  ms: Float32Array,
  mom: Float32Array,
  mg: Float32Array | undefined,
): void {
  const decay = f32(config.decay);
  const momentum = f32(config.momentum);
  const epsilon = f32(config.epsilon);
  const oneMinusDecay = f32(1 - config.decay);
  const lr = f32(lr32);
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
