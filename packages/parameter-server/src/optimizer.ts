import type { FlatRange } from '@dtrain/protocol';
import { ChunkCoverage } from './chunk-coverage.js';
import { KERNEL_BLOCK, arrayBytes, type KernelKind, type KernelMemory, type Kernels } from './kernel-memory.js';
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
  /**
   * Per-element state over the optimizer's range (the whole flat layout unless
   * it was created for a shard's range); zero in non-trainable elements.
   */
  readonly arrays: Readonly<Record<string, Float32Array>>;
}

/**
 * One of tfjs's optimizers over a flat float32 weight array, or over one
 * contiguous range of it (a shard's): same update rule, same defaults, no
 * tensors. State arrays are allocated once; a step allocates nothing in
 * proportion to the model.
 *
 * Rounding: the update rules round every intermediate to float32 (`f32`) in
 * the order tfjs's ops do, because each tfjs kernel on the cpu backend stores
 * its result in a Float32Array. That makes a step bit-for-bit equal to tfjs on
 * the cpu backend, so a checkpoint or a comparison run never drifts by an ulp.
 *
 * Indices: every array passed in or out has {@link size} elements and index 0
 * is flat element `range.start`.
 *
 * Kernels: where the engine has WebAssembly SIMD the update loops run as
 * kernels (kernels.wat) four lanes at a time, with the same operations in
 * the same order, so the same bits; elsewhere as JS loops.
 *
 * A step is {@link beginStep}, {@link applyChunk} for each chunk, {@link endStep}
 * ({@link apply} does all three). Calls out of that order, and getState or
 * setState while a step is open, throw ParameterServerError
 * `DTRAIN_PS_OPTIMIZER_STATE`: they are bugs in the caller.
 */
export interface Optimizer {
  readonly config: ResolvedOptimizerConfig;
  /** The flat elements this optimizer updates: [start, end) of the layout. */
  readonly range: FlatRange;
  /** Elements in {@link range}: the length of every array passed in or out. */
  readonly size: number;
  /** The learning rate in effect (the config's until `setLearningRate`). */
  readonly learningRate: number;
  /** Steps completed so far. */
  readonly iterations: number;
  /**
   * What runs the update loops: WebAssembly SIMD kernels (the slots live in
   * a WebAssembly memory), or the JS loops where those are unavailable or
   * turned off. (sgd, which has no slots, runs its JS loop on arrays outside
   * that memory: copying them in would cost more than its kernel saves.)
   */
  readonly kernels: KernelKind;
  /**
   * For scaling the rate when the number of workers changes; state is kept.
   * Called during a step, it takes effect from the next {@link beginStep}.
   */
  setLearningRate(learningRate: number): void;
  /**
   * One whole optimizer step, in place, on the trainable elements of `weights`:
   * {@link beginStep}, {@link applyChunk} over [0, size), {@link endStep}.
   * Non-trainable elements are not touched.
   */
  apply(weights: Float32Array, gradient: Float32Array): void;
  /** Opens a step; its chunks follow, then {@link endStep}. */
  beginStep(): void;
  /**
   * Applies the open step to the trainable elements in [from, to) (local
   * indices) of the full local arrays `weights` and `gradient`. The chunks of
   * a step may come in any order and must together cover [0, size) exactly
   * once; the result is bit-for-bit that of {@link apply}.
   * @throws ParameterServerError `DTRAIN_PS_LAYOUT` if the chunk is out of
   *   bounds or overlaps one already applied in this step (nothing is changed).
   */
  applyChunk(weights: Float32Array, gradient: Float32Array, from: number, to: number): void;
  /**
   * Closes the step (e.g. advances adam's accumulated betas) and counts it.
   * @throws ParameterServerError `DTRAIN_PS_LAYOUT` unless the step's chunks
   *   covered [0, size); the step then stays open.
   */
  endStep(): void;
  /** A copy of the state over {@link range}; later steps do not change it. Not during a step. */
  getState(): OptimizerState;
  /**
   * The state with its arrays as views of the live slots, not copies: for
   * sending a big state out piece by piece without holding it twice. Valid
   * until the next step; never write to them. Not during a step.
   */
  viewState(): OptimizerState;
  /** Restores a state from {@link getState} of an optimizer over the same range (copied in). Not during a step. */
  setState(state: OptimizerState): void;
}

/** The per-element state arrays of an optimizer, by tfjs's names. */
export function optimizerSlotNames(config: ResolvedOptimizerConfig): readonly string[] {
  switch (config.name) {
    case 'sgd':
      return [];
    case 'momentum':
      return ['momentum'];
    case 'adam':
      return ['m', 'v'];
    case 'rmsprop':
      return config.centered ? ['rms', 'momentum', 'mg'] : ['rms', 'momentum'];
  }
}

/** Bytes of kernel memory an optimizer of `size` elements allocates: its slots and two copy blocks. */
export function optimizerMemoryBytes(config: ResolvedOptimizerConfig, size: number): number {
  return optimizerSlotNames(config).length * arrayBytes(size, 4) + 2 * arrayBytes(Math.min(size, KERNEL_BLOCK), 4);
}

/**
 * The shared part of the flat optimizers: trainable ranges, slots, learning
 * rate, iteration count, the chunked step and state checks, and the choice
 * between kernels and JS loops. Subclasses write the update rule twice: as a
 * JS loop and as a call of its kernel.
 *
 * Memory, with kernels: the slots live in the optimizer's {@link KernelMemory}
 * for good (getState and setState copy out and in). The weights and gradient
 * passed to a step are addressed in place when they lie in that memory too
 * (a ParameterShard allocates its weights and accumulator there); otherwise
 * each block of {@link KERNEL_BLOCK} elements is copied in, updated and its
 * weights copied back out: ~1.2 ms more per 1M elements (adam 2.1 → 3.3 ms
 * in the bench), still 4x faster than adam's JS loop.
 */
export abstract class FlatOptimizer implements Optimizer {
  readonly config: ResolvedOptimizerConfig;
  readonly range: FlatRange;
  readonly size: number;
  readonly kernels: KernelKind;
  protected lr: number;
  private iterationCount = 0;
  /** Trainable ranges in local indices, flat [start0, end0, …], sorted and disjoint. */
  private readonly ranges: Uint32Array;
  protected readonly slots: Readonly<Record<string, Float32Array>>;
  private readonly coverage: ChunkCoverage;
  private stepOpen = false;
  private readonly memory: KernelMemory | undefined;
  /** Where blocks of weights and gradients from outside {@link memory} are copied for the kernels. */
  private readonly weightsBlock: Float32Array;
  private readonly gradientBlock: Float32Array;

  /**
   * @param range the flat elements covered; `ranges` are the trainable ones
   *   within it, already local (shifted by `range.start`).
   * @param memory where the slots live and the kernels run, with
   *   {@link optimizerMemoryBytes} free; undefined for the JS loops.
   */
  constructor(config: ResolvedOptimizerConfig, range: FlatRange, ranges: Uint32Array, memory: KernelMemory | undefined) {
    this.config = config;
    this.lr = config.learningRate;
    this.range = { start: range.start, end: range.end };
    this.size = range.end - range.start;
    this.ranges = ranges;
    this.memory = memory;
    this.kernels = memory === undefined ? 'js' : 'wasm-simd';
    const allocate = (length: number): Float32Array => memory?.float32(length) ?? new Float32Array(length);
    this.slots = Object.fromEntries(optimizerSlotNames(config).map((name) => [name, allocate(this.size)]));
    const block = memory === undefined ? 0 : Math.min(this.size, KERNEL_BLOCK);
    this.weightsBlock = allocate(block);
    this.gradientBlock = allocate(block);
    this.coverage = new ChunkCoverage();
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
    // Checked before the step opens, so a wrong call leaves no step half begun.
    this.checkLengths(weights, gradient);
    this.beginStep();
    this.applyChunk(weights, gradient, 0, this.size);
    this.endStep();
  }

  beginStep(): void {
    if (this.stepOpen) throw this.stepError('beginStep called while a step is open (endStep was not called)');
    this.coverage.clear();
    this.prepareStep();
    this.stepOpen = true;
  }

  applyChunk(weights: Float32Array, gradient: Float32Array, from: number, to: number): void {
    if (!this.stepOpen) throw this.stepError('applyChunk called outside a step (call beginStep first)');
    this.checkLengths(weights, gradient);
    if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && from >= 0 && from <= to && to <= this.size)) {
      throw new ParameterServerError(
        'DTRAIN_PS_LAYOUT',
        `optimizer chunk [${from}, ${to}) is not a range of integers within [0, ${this.size})`,
      );
    }
    const overlap = this.coverage.add(from, to);
    if (overlap !== undefined) {
      throw new ParameterServerError(
        'DTRAIN_PS_LAYOUT',
        `optimizer chunk [${from}, ${to}) overlaps [${overlap.start}, ${overlap.end}), already applied in this step`,
      );
    }
    const ranges = this.ranges;
    // The first trainable range that ends after `from`; ranges are sorted, so a binary search.
    let lo = 0;
    let hi = ranges.length >> 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((ranges[2 * mid + 1] as number) <= from) lo = mid + 1;
      else hi = mid;
    }
    for (let r = 2 * lo; r < ranges.length; r += 2) {
      const start = ranges[r] as number;
      if (start >= to) break;
      const end = ranges[r + 1] as number;
      this.update(weights, gradient, start > from ? start : from, end < to ? end : to);
    }
  }

  endStep(): void {
    if (!this.stepOpen) throw this.stepError('endStep called outside a step (call beginStep first)');
    if (this.coverage.covered !== this.size) {
      const gap = this.coverage.firstGap(this.size) as FlatRange;
      throw new ParameterServerError(
        'DTRAIN_PS_LAYOUT',
        `optimizer step covers ${this.coverage.covered} of ${this.size} elements: [${gap.start}, ${gap.end}) was not applied`,
      );
    }
    this.finishStep();
    this.iterationCount += 1;
    this.stepOpen = false;
  }

  getState(): OptimizerState {
    const view = this.viewState();
    const arrays: Record<string, Float32Array> = {};
    for (const [name, slot] of Object.entries(view.arrays)) arrays[name] = slot.slice();
    return { ...view, arrays };
  }

  viewState(): OptimizerState {
    if (this.stepOpen) throw this.stepError('getState called during a step: the slots are half updated');
    const arrays: Record<string, Float32Array> = {};
    for (const [name, slot] of Object.entries(this.slots)) arrays[name] = slot;
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
    if (this.stepOpen) fail('setState called during a step');
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
    const scalarProblem = this.checkScalars(state.scalars);
    if (scalarProblem !== undefined) fail(scalarProblem);
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

  /**
   * Called once per step before its chunks: derive everything the update rule
   * needs for the whole step (the learning rate is read here, once).
   */
  protected abstract prepareStep(): void;

  /** Called once per step after its chunks, e.g. to advance accumulated betas. */
  protected finishStep(): void {}

  /** Scalar state; the keys are fixed for a given optimizer. */
  protected getScalars(): Readonly<Record<string, number>> {
    return {};
  }

  /** Optimizer-specific checks of finite scalars with the right keys; a message if they don't fit. */
  protected checkScalars(_scalars: Readonly<Record<string, number>>): string | undefined {
    return undefined;
  }

  /** Restores scalars; keys, finiteness and {@link checkScalars} are already checked. */
  protected setScalars(_scalars: Readonly<Record<string, number>>): void {}

  /**
   * The update rule on local elements [start, end), all trainable.
   *
   * The loops share one shape, for speed on V8 without changing a bit: the
   * (end − start) mod 4 odd elements first, one at a time, then the rest
   * four per iteration. Unrolling matters because V8's optimized code
   * reloads and re-checks each typed array's map, length and data pointer
   * on every iteration (node 20's disassembly shows them inside the loop);
   * four elements share those checks and give the CPU four independent
   * chains of float operations to overlap. The odd elements go first because a loop after
   * the unrolled one would have no type feedback when the function is
   * optimized mid-loop, and its code would deoptimize on every call. Each
   * element still sees exactly the reference's operations in the same order.
   */
  protected abstract updateRange(weights: Float32Array, gradient: Float32Array, start: number, end: number): void;

  /**
   * The update rule on local elements [index, index + count), all trainable,
   * by this optimizer's kernel: `w` and `g` are the byte addresses of element
   * `index` of the weights and the gradient in the kernel memory (the slots'
   * are the subclass's to add).
   */
  protected abstract runKernel(kernels: Kernels, w: number, g: number, index: number, count: number): void;

  /**
   * Whether copying weights and gradient through the kernel memory beats the
   * JS loop on arrays outside it. It does for every rule with slots; for
   * sgd, which reads two arrays and writes one, the copies cost more than
   * its kernel saves (see the bench).
   */
  protected get copiesPay(): boolean {
    return true;
  }

  /** The update rule on local elements [start, end), all trainable: by kernel or JS loop (see the class comment). */
  private update(weights: Float32Array, gradient: Float32Array, start: number, end: number): void {
    const memory = this.memory;
    if (memory === undefined) {
      this.updateRange(weights, gradient, start, end);
      return;
    }
    const kernels = memory.kernels;
    const weightsHeld = memory.holds(weights);
    const gradientHeld = memory.holds(gradient);
    if (weightsHeld && gradientHeld) {
      this.runKernel(kernels, weights.byteOffset + 4 * start, gradient.byteOffset + 4 * start, start, end - start);
      return;
    }
    if (!this.copiesPay) {
      this.updateRange(weights, gradient, start, end);
      return;
    }
    const wBlock = this.weightsBlock;
    const gBlock = this.gradientBlock;
    const block = wBlock.length;
    for (let from = start; from < end; from += block) {
      const to = Math.min(end, from + block);
      let w = weights.byteOffset + 4 * from;
      let g = gradient.byteOffset + 4 * from;
      if (!weightsHeld) {
        wBlock.set(weights.subarray(from, to));
        w = wBlock.byteOffset;
      }
      if (!gradientHeld) {
        gBlock.set(gradient.subarray(from, to));
        g = gBlock.byteOffset;
      }
      this.runKernel(kernels, w, g, from, to - from);
      if (!weightsHeld) weights.set(to - from === block ? wBlock : wBlock.subarray(0, to - from), from);
    }
  }

  private checkLengths(weights: Float32Array, gradient: Float32Array): void {
    if (weights.length !== this.size || gradient.length !== this.size) {
      throw new ParameterServerError(
        'DTRAIN_PS_LAYOUT',
        `optimizer expects ${this.size} elements, got weights of ${weights.length} and a gradient of ${gradient.length}`,
      );
    }
  }

  private stepError(message: string): ParameterServerError {
    return new ParameterServerError('DTRAIN_PS_OPTIMIZER_STATE', `${this.config.name} optimizer: ${message}`);
  }
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
