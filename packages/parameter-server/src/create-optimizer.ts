import type { FlatRange, WeightEntry } from '@dtrain/protocol';
import { AdamOptimizer } from './adam-optimizer.js';
import { KernelMemory } from './kernel-memory.js';
import { MomentumOptimizer } from './momentum-optimizer.js';
import type { OptimizerConfig } from './optimizer-config.js';
import { assertLearningRate, optimizerMemoryBytes } from './optimizer.js';
import type { FlatOptimizer, Optimizer, ResolvedOptimizerConfig } from './optimizer.js';
import { ParameterServerError } from './parameter-server-error.js';
import { RmspropOptimizer } from './rmsprop-optimizer.js';
import { SgdOptimizer } from './sgd-optimizer.js';
import { localRanges, trainableRanges, validateLayout } from './weight-layout.js';

/**
 * tfjs's float32 backend epsilon (`ENGINE.backend.epsilon()` on cpu, wasm and
 * webgl with float32 textures), which tfjs's adam and rmsprop use when none is given.
 */
export const FLOAT32_EPSILON = 1e-7;

/**
 * Fills in tfjs's defaults (momentum 0.9 where tfjs requires it) and checks ranges.
 * @throws ParameterServerError `DTRAIN_PS_CONFIG` naming the field.
 */
export function resolveOptimizerConfig(config: OptimizerConfig): ResolvedOptimizerConfig {
  if (config === null || typeof config !== 'object') {
    throw configError(`optimizer must be an object, got ${config === null ? 'null' : typeof config}`);
  }
  assertLearningRate(config.learningRate, 'learningRate');
  switch (config.name) {
    case 'sgd':
      return { name: 'sgd', learningRate: config.learningRate };
    case 'momentum': {
      const resolved = {
        name: 'momentum',
        learningRate: config.learningRate,
        momentum: config.momentum ?? 0.9,
        useNesterov: config.useNesterov ?? false,
      } as const;
      assertRange(resolved.momentum, 'momentum', 0, Infinity);
      assertBoolean(resolved.useNesterov, 'useNesterov');
      return resolved;
    }
    case 'adam': {
      const resolved = {
        name: 'adam',
        learningRate: config.learningRate,
        beta1: config.beta1 ?? 0.9,
        beta2: config.beta2 ?? 0.999,
        epsilon: config.epsilon ?? FLOAT32_EPSILON,
      } as const;
      // β = 1 would make tfjs's bias correction divide by zero on step 1.
      assertRange(resolved.beta1, 'beta1', 0, 1, true);
      assertRange(resolved.beta2, 'beta2', 0, 1, true);
      assertRange(resolved.epsilon, 'epsilon', 0, Infinity);
      return resolved;
    }
    case 'rmsprop': {
      const resolved = {
        name: 'rmsprop',
        learningRate: config.learningRate,
        decay: config.decay ?? 0.9,
        momentum: config.momentum ?? 0,
        epsilon: config.epsilon ?? FLOAT32_EPSILON,
        centered: config.centered ?? false,
      } as const;
      assertRange(resolved.decay, 'decay', 0, 1);
      assertRange(resolved.momentum, 'momentum', 0, Infinity);
      assertRange(resolved.epsilon, 'epsilon', 0, Infinity);
      assertBoolean(resolved.centered, 'centered');
      return resolved;
    }
    default:
      throw configError(
        `optimizer.name must be one of sgd, momentum, adam, rmsprop, got ${JSON.stringify((config as { name: unknown }).name)}`,
      );
  }
}

export interface CreateOptimizerOptions {
  /**
   * Run the update loops as WebAssembly SIMD kernels where the engine has
   * them (bit-for-bit the same results, several times faster); `false`
   * always runs the JS loops. Default true.
   */
  readonly simd?: boolean;
}

/**
 * Builds the optimizer for a flat weight array. With a layout only trainable
 * entries are updated; with a bare element count every element is.
 *
 * With `range`, the optimizer covers flat elements [start, end) only (a
 * shard's): its slots have end − start elements, arrays passed to it use
 * indices local to the range (0 = flat element `start`), and it updates the
 * layout's trainable elements within the range. Without, the whole layout.
 *
 * With kernels, the slots live in a WebAssembly memory of the optimizer's
 * own (see FlatOptimizer); where none can be had (no SIMD, more than 4 GiB
 * of slots) it runs the JS loops: {@link Optimizer.kernels} says which.
 * @throws ParameterServerError `DTRAIN_PS_CONFIG` or `DTRAIN_PS_LAYOUT`.
 */
export function createOptimizer(
  config: OptimizerConfig,
  layout: readonly WeightEntry[] | number,
  range?: FlatRange,
  options: CreateOptimizerOptions = {},
): Optimizer {
  const plan = planOptimizer(config, layout, range);
  const memory = options.simd === false ? undefined : KernelMemory.create(optimizerMemoryBytes(plan.config, plan.size));
  return buildOptimizer(plan, memory);
}

/** What an optimizer is built from, checked: see {@link planOptimizer}. */
export interface OptimizerPlan {
  readonly config: ResolvedOptimizerConfig;
  /** The flat elements covered. */
  readonly range: FlatRange;
  /** Elements covered. */
  readonly size: number;
  /** Trainable ranges, local to `range`: flat [start0, end0, …]. */
  readonly ranges: Uint32Array;
}

/**
 * Resolves and checks the arguments of {@link createOptimizer}, for a caller
 * that sizes a kernel memory before building the optimizer in it.
 * @throws ParameterServerError `DTRAIN_PS_CONFIG` or `DTRAIN_PS_LAYOUT`.
 */
export function planOptimizer(config: OptimizerConfig, layout: readonly WeightEntry[] | number, range?: FlatRange): OptimizerPlan {
  const resolved = resolveOptimizerConfig(config);
  let total: number;
  let ranges: Uint32Array;
  if (typeof layout === 'number') {
    if (!Number.isSafeInteger(layout) || layout < 0) {
      throw new ParameterServerError('DTRAIN_PS_LAYOUT', `optimizer size must be a non-negative integer, got ${layout}`);
    }
    total = layout;
    ranges = total === 0 ? new Uint32Array(0) : Uint32Array.of(0, total);
  } else {
    total = validateLayout(layout);
    ranges = trainableRanges(layout);
  }
  const covered: FlatRange = range === undefined ? { start: 0, end: total } : range;
  const { start, end } = covered;
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start <= end && end <= total)) {
    throw new ParameterServerError(
      'DTRAIN_PS_LAYOUT',
      `optimizer range [${start}, ${end}) is not a range of integers within the layout's ${total} elements`,
    );
  }
  if (range !== undefined) ranges = localRanges(ranges, covered);
  return { config: resolved, range: { start, end }, size: end - start, ranges };
}

/**
 * The optimizer of a plan: with `memory` (at least {@link optimizerMemoryBytes}
 * free) its slots live there and its loops run as kernels, without it as JS.
 */
export function buildOptimizer(plan: OptimizerPlan, memory: KernelMemory | undefined): FlatOptimizer {
  const { config, range, ranges } = plan;
  switch (config.name) {
    case 'sgd':
      return new SgdOptimizer(config, range, ranges, memory);
    case 'momentum':
      return new MomentumOptimizer(config, range, ranges, memory);
    case 'adam':
      return new AdamOptimizer(config, range, ranges, memory);
    case 'rmsprop':
      return new RmspropOptimizer(config, range, ranges, memory);
  }
}

function assertRange(value: unknown, field: string, min: number, max: number, maxExclusive = false): void {
  const ok =
    typeof value === 'number' && !Number.isNaN(value) && value >= min && (maxExclusive ? value < max : value <= max);
  if (!ok || (max === Infinity && value === Infinity)) {
    const range = max === Infinity ? `a finite number ≥ ${min}` : `a number in [${min}, ${max}${maxExclusive ? ')' : ']'}`;
    throw configError(`optimizer.${field} must be ${range}, got ${String(value)}`);
  }
}

function assertBoolean(value: unknown, field: string): void {
  if (typeof value !== 'boolean') throw configError(`optimizer.${field} must be a boolean, got ${String(value)}`);
}

function configError(message: string): ParameterServerError {
  return new ParameterServerError('DTRAIN_PS_CONFIG', message);
}
