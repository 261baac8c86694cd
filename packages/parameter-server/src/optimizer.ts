import type { OptimizerConfig, OptimizerName } from './optimizer-config.js';
import { ParameterServerError } from './parameter-server-error.js';

type WithDefaults<C> = C extends unknown ? Required<C> : never;

/** An optimizer config with every tfjs default filled in. */
export type ResolvedOptimizerConfig = WithDefaults<OptimizerConfig>;

/**
 * Everything an optimizer needs to continue exactly where it stopped; what a
 * checkpoint stores. Slot and scalar names are tfjs's (`m`, `v`, `rms`, …).
 */
export interface OptimizerState {
  readonly name: OptimizerName;
  /** Steps applied so far (tfjs `iterations`). */
  readonly iterations: number;
  /** The learning rate in effect, after any `setLearningRate`. */
  readonly learningRate: number;
  /** Scalar state, e.g. adam's `accBeta1`/`accBeta2` (float32 values, as tfjs keeps them). */
  readonly scalars: Readonly<Record<string, number>>;
  /** Per-element state over the whole flat layout (zero in non-trainable ranges). */
  readonly arrays: Readonly<Record<string, Float32Array>>;
}

/**
 * One of tfjs's optimizers over a flat float32 weight array: same update rule,
 * same defaults, no tensors. State arrays are allocated once; a step allocates
 * nothing.
 *
 * Rounding: the update rules round every intermediate to float32 (`f32`) in
 * the order tfjs's ops do, because each tfjs kernel on the cpu backend stores
 * its result in a Float32Array. That makes a step bit-for-bit equal to tfjs on
 * the cpu backend, so a checkpoint or a comparison run never drifts by an ulp.
 */
export interface Optimizer {
  readonly config: ResolvedOptimizerConfig;
  /** The learning rate in effect (the config's until `setLearningRate`). */
  readonly learningRate: number;
  /** Steps applied so far. */
  readonly iterations: number;
  /** For scaling the rate when the number of workers changes; state is kept. */
  setLearningRate(learningRate: number): void;
  /**
   * One optimizer step, in place, on the trainable ranges of `weights`.
   * Both arrays have the full layout length; non-trainable ranges are not touched.
   */
  apply(weights: Float32Array, gradient: Float32Array): void;
  /** A copy of the state; later steps do not change it. */
  getState(): OptimizerState;
  /** Restores a state from {@link getState} (copied in). */
  setState(state: OptimizerState): void;
}

/**
 * The shared part of the flat optimizers: trainable ranges, slots, learning
 * rate, iteration count and state checks. Subclasses write the update rule.
 */
export abstract class FlatOptimizer implements Optimizer {
  readonly config: ResolvedOptimizerConfig;
  protected lr: number;
  private iterationCount = 0;
  private readonly size: number;
  private readonly ranges: Uint32Array;
  protected readonly slots: Readonly<Record<string, Float32Array>>;

  constructor(config: ResolvedOptimizerConfig, size: number, ranges: Uint32Array, slotNames: readonly string[]) {
    this.config = config;
    this.lr = config.learningRate;
    this.size = size;
    this.ranges = ranges;
    this.slots = Object.fromEntries(slotNames.map((name) => [name, new Float32Array(size)]));
  }

  get learningRate(): number {
    return this.lr;
  }

  get iterations(): number {
    return this.iterationCount;
  }

  setLearningRate(learningRate: number): void {
    assertLearningRate(learningRate, 'learningRate');
    this.lr = learningRate;
  }

  apply(weights: Float32Array, gradient: Float32Array): void {
    if (weights.length !== this.size || gradient.length !== this.size) {
      throw new ParameterServerError(
        'DTRAIN_PS_LAYOUT',
        `optimizer expects ${this.size} elements, got weights of ${weights.length} and a gradient of ${gradient.length}`,
      );
    }
    this.beginStep();
    const ranges = this.ranges;
    for (let r = 0; r < ranges.length; r += 2) {
      this.updateRange(weights, gradient, ranges[r] as number, ranges[r + 1] as number);
    }
    this.endStep();
    this.iterationCount += 1;
  }

  getState(): OptimizerState {
    const arrays: Record<string, Float32Array> = {};
    for (const [name, slot] of Object.entries(this.slots)) arrays[name] = slot.slice();
    return {
      name: this.config.name,
      iterations: this.iterationCount,
      learningRate: this.lr,
      scalars: { ...this.getScalars() },
      arrays,
    };
  }

  setState(state: OptimizerState): void {
    const fail = (what: string): never => {
      throw new ParameterServerError('DTRAIN_PS_OPTIMIZER_STATE', `${this.config.name} optimizer state: ${what}`);
    };
    if (state.name !== this.config.name) fail(`saved by a different optimizer (${String(state.name)})`);
    if (!Number.isSafeInteger(state.iterations) || state.iterations < 0) {
      fail(`iterations must be a non-negative integer, got ${state.iterations}`);
    }
    if (!(Number.isFinite(state.learningRate) && state.learningRate > 0)) {
      fail(`learningRate must be a finite number > 0, got ${state.learningRate}`);
    }
    const expectedScalars = Object.keys(this.getScalars()).sort();
    const givenScalars = Object.keys(state.scalars).sort();
    if (expectedScalars.join() !== givenScalars.join()) {
      fail(`scalars should be [${expectedScalars.join(', ')}], got [${givenScalars.join(', ')}]`);
    }
    for (const [name, value] of Object.entries(state.scalars)) {
      if (!Number.isFinite(value)) fail(`scalar ${name} must be finite, got ${value}`);
    }
    const expectedSlots = Object.keys(this.slots).sort();
    const givenSlots = Object.keys(state.arrays).sort();
    if (expectedSlots.join() !== givenSlots.join()) {
      fail(`arrays should be [${expectedSlots.join(', ')}], got [${givenSlots.join(', ')}]`);
    }
    for (const [name, array] of Object.entries(state.arrays)) {
      if (!(array instanceof Float32Array) || array.length !== this.size) {
        fail(`array ${name} must be a Float32Array of ${this.size} elements, got ${describeArray(array)}`);
      }
    }
    for (const [name, slot] of Object.entries(this.slots)) slot.set(state.arrays[name] as Float32Array);
    this.setScalars(state.scalars);
    this.iterationCount = state.iterations;
    this.lr = state.learningRate;
  }

  /** Called once per step before the ranges, e.g. to derive bias corrections. */
  protected beginStep(): void {}

  /** Called once per step after the ranges, e.g. to advance accumulated betas. */
  protected endStep(): void {}

  /** Scalar state; the keys are fixed for a given optimizer. */
  protected getScalars(): Readonly<Record<string, number>> {
    return {};
  }

  /** Restores scalars; keys and finiteness are already checked. */
  protected setScalars(_scalars: Readonly<Record<string, number>>): void {}

  /** The update rule on elements [start, end). */
  protected abstract updateRange(weights: Float32Array, gradient: Float32Array, start: number, end: number): void;
}

/** @throws ParameterServerError `DTRAIN_PS_CONFIG` unless a finite number > 0. */
export function assertLearningRate(value: number, field: string): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw new ParameterServerError('DTRAIN_PS_CONFIG', `optimizer.${field} must be a finite number > 0, got ${String(value)}`);
  }
}

function describeArray(value: unknown): string {
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of ${(value as Float32Array).length} elements`;
  return typeof value;
}
