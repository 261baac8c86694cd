import type { WeightEntry } from '@dtrain/protocol';
import { describe, expect, it } from 'vitest';
import { createOptimizer } from './create-optimizer.js';
import type { OptimizerConfig } from './optimizer-config.js';
import { ParameterServerError } from './parameter-server-error.js';
import { seededRandom, useTfjsCpu } from './testing/tfjs-cpu.js';

const tf = await useTfjsCpu();
type TfOptimizer = InstanceType<typeof tf.Optimizer>;

/** Two dense layers and a batch-norm moving mean, which no optimizer may touch. */
const layout: readonly WeightEntry[] = [
  { name: 'dense_1/kernel', shape: [6, 5], offset: 0, size: 30, trainable: true },
  { name: 'dense_1/bias', shape: [5], offset: 30, size: 5, trainable: true },
  { name: 'bn/moving_mean', shape: [5], offset: 35, size: 5, trainable: false },
  { name: 'dense_2/kernel', shape: [5, 3], offset: 40, size: 15, trainable: true },
  { name: 'dense_2/bias', shape: [3], offset: 55, size: 3, trainable: true },
];
const total = 58;
const STEPS = 20;

/**
 * Tolerance: none. The flat optimizers round every intermediate to float32 in
 * tfjs's op order, so weights and slots must be bit-for-bit tfjs's on the cpu
 * backend (NaN counts as equal to NaN).
 */

interface Case {
  readonly label: string;
  readonly config: OptimizerConfig;
  readonly reference: () => TfOptimizer;
  /** Gradients are ±[gradMin, 1)·gradScale (defaults 0 and 1). */
  readonly gradMin?: number;
  readonly gradScale?: number;
  /** The case drives the weights to NaN, as it does in tfjs. */
  readonly expectNaN?: boolean;
  /** At this step both optimizers switch to half the learning rate. */
  readonly halveLearningRateAt?: number;
}

const cases: readonly Case[] = [
  { label: 'sgd', config: { name: 'sgd', learningRate: 0.1 }, reference: () => tf.train.sgd(0.1) },
  {
    label: 'sgd with a learning-rate change',
    config: { name: 'sgd', learningRate: 0.05 },
    reference: () => tf.train.sgd(0.05),
    halveLearningRateAt: 7,
  },
  {
    label: 'momentum, default momentum 0.9',
    config: { name: 'momentum', learningRate: 0.01 },
    reference: () => tf.train.momentum(0.01, 0.9),
  },
  {
    label: 'momentum 0.5 with Nesterov',
    config: { name: 'momentum', learningRate: 0.02, momentum: 0.5, useNesterov: true },
    reference: () => tf.train.momentum(0.02, 0.5, true),
    halveLearningRateAt: 11,
  },
  { label: 'adam, defaults', config: { name: 'adam', learningRate: 0.001 }, reference: () => tf.train.adam() },
  {
    label: 'adam β1 0.8, β2 0.99, ε 1e-4',
    config: { name: 'adam', learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-4 },
    reference: () => tf.train.adam(0.01, 0.8, 0.99, 1e-4),
    halveLearningRateAt: 5,
  },
  { label: 'rmsprop, defaults', config: { name: 'rmsprop', learningRate: 0.01 }, reference: () => tf.train.rmsprop(0.01) },
  {
    label: 'rmsprop with momentum 0.6, decay 0.8',
    config: { name: 'rmsprop', learningRate: 0.005, decay: 0.8, momentum: 0.6 },
    reference: () => tf.train.rmsprop(0.005, 0.8, 0.6),
  },
  {
    label: 'rmsprop centered with momentum',
    config: { name: 'rmsprop', learningRate: 0.003, momentum: 0.3, centered: true },
    reference: () => tf.train.rmsprop(0.003, 0.9, 0.3, undefined, true),
    gradMin: 0.3,
  },
  {
    label: 'rmsprop centered, ε 1e-5',
    config: { name: 'rmsprop', learningRate: 0.001, decay: 0.95, epsilon: 1e-5, centered: true },
    reference: () => tf.train.rmsprop(0.001, 0.95, 0, 1e-5, true),
    gradMin: 0.3,
  },
  {
    // tfjs subtracts ε inside the root: tiny gradients make its argument negative.
    label: 'rmsprop centered, gradients near 0 (NaN, as in tfjs)',
    config: { name: 'rmsprop', learningRate: 0.001, centered: true },
    reference: () => tf.train.rmsprop(0.001, 0.9, 0, undefined, true),
    gradScale: 1e-4,
    expectNaN: true,
  },
];

let caseCounter = 0;
describe('optimizers match tfjs on the cpu backend', () => {
  for (const [kernels, c] of (['wasm-simd', 'js'] as const).flatMap((k) => cases.map((c) => [k, c] as const))) {
    it(`${c.label}: ${STEPS} steps (${kernels})`, async () => {
      const seed = (Math.random() * 2 ** 32) >>> 0;
      const random = seededRandom(seed);
      const uniform = (): number => random() * 2 - 1;
      const prefix = `case${caseCounter++}`;

      const initial = Float32Array.from({ length: total }, uniform);
      const ours = createOptimizer(c.config, layout, undefined, { simd: kernels === 'wasm-simd' });
      // Both the WebAssembly SIMD kernels (the default on node) and the JS loops (the fallback).
      expect(ours.kernels).toBe(kernels);
      const weights = initial.slice();
      const reference = c.reference();
      const variables = new Map(
        layout
          .filter((e) => e.trainable)
          .map((e) => [
            e.name,
            tf.variable(tf.tensor(initial.subarray(e.offset, e.offset + e.size), [...e.shape]), true, `${prefix}/${e.name}`),
          ]),
      );

      for (let step = 0; step < STEPS; step++) {
        if (step === c.halveLearningRateAt) {
          const lr = ours.learningRate / 2;
          ours.setLearningRate(lr);
          // Only sgd and momentum have tfjs's setLearningRate; adam and rmsprop read the field each step.
          if ('setLearningRate' in reference) (reference as { setLearningRate(lr: number): void }).setLearningRate(lr);
          else (reference as unknown as { learningRate: number }).learningRate = lr;
        }
        const gradMin = c.gradMin ?? 0;
        const gradient = Float32Array.from({ length: total }, () => {
          const magnitude = (gradMin + random() * (1 - gradMin)) * (c.gradScale ?? 1);
          return random() < 0.5 ? -magnitude : magnitude;
        });
        ours.apply(weights, gradient);
        const grads = layout
          .filter((e) => e.trainable)
          .map((e) => ({
            name: `${prefix}/${e.name}`,
            tensor: tf.tensor(gradient.subarray(e.offset, e.offset + e.size), [...e.shape]),
          }));
        reference.applyGradients(grads);
        tf.dispose(grads.map((g) => g.tensor));
      }

      for (const entry of layout) {
        const mine = weights.subarray(entry.offset, entry.offset + entry.size);
        if (!entry.trainable) {
          expect(mine, `${entry.name} is not trainable`).toEqual(initial.subarray(entry.offset, entry.offset + entry.size));
          continue;
        }
        const theirs = (variables.get(entry.name) as ReturnType<typeof tf.variable>).dataSync() as Float32Array;
        expectBitwiseEqual(mine, theirs, `seed ${seed}, ${entry.name}`);
      }

      // The slots too, so a checkpoint holds what tfjs would hold.
      const slots = await reference.getWeights();
      const state = ours.getState();
      expect(state.iterations).toBe(STEPS);
      const slotNames = new Set<string>();
      for (const { name, tensor } of slots.slice(1)) {
        const [, entryName, slot] = /^case\d+\/(.+)\/([^/]+)$/.exec(name) ?? [];
        const entry = layout.find((e) => e.name === entryName);
        expect(entry, `tfjs slot ${name}`).toBeDefined();
        slotNames.add(slot as string);
        const mine = (state.arrays[slot as string] as Float32Array).subarray(entry!.offset, entry!.offset + entry!.size);
        expectBitwiseEqual(mine, (await tensor.data()) as Float32Array, `seed ${seed}, slot ${name}`);
      }
      expect([...slotNames].sort()).toEqual(Object.keys(state.arrays).sort());
      expect(weights.some(Number.isNaN), 'weights went NaN').toBe(c.expectNaN ?? false);

      reference.dispose();
      tf.dispose([...variables.values()]);
    });
  }
});

function expectBitwiseEqual(mine: Float32Array, theirs: Float32Array, what: string): void {
  expect(mine.length, what).toBe(theirs.length);
  for (let i = 0; i < mine.length; i++) {
    if (!Object.is(mine[i], theirs[i])) {
      const diff = Math.abs((mine[i] as number) - (theirs[i] as number));
      expect.fail(`${what}[${i}]: ours ${mine[i]}, tfjs ${theirs[i]} (|Δ| ${diff.toExponential(2)})`);
    }
  }
}

describe('optimizer details', () => {
  it('adam keeps accBeta as tfjs does and restores state exactly', () => {
    const config: OptimizerConfig = { name: 'adam', learningRate: 0.01 };
    const a = createOptimizer(config, 4);
    const b = createOptimizer(config, 4);
    const wa = Float32Array.of(1, 2, 3, 4);
    const wb = wa.slice();
    a.apply(wa, Float32Array.of(0.1, -0.2, 0.3, -0.4));
    a.apply(wa, Float32Array.of(0.5, 0.1, -0.1, 0.2));
    const state = a.getState();
    // tfjs starts accBeta at β and multiplies after each step: β³ after two steps, in float32.
    const b1 = Math.fround(0.9);
    const b2 = Math.fround(0.999);
    expect(state.scalars).toEqual({
      accBeta1: Math.fround(Math.fround(b1 * b1) * b1),
      accBeta2: Math.fround(Math.fround(b2 * b2) * b2),
    });
    b.setState(state);
    wb.set(wa);
    a.apply(wa, Float32Array.of(0.3, 0.3, -0.3, 0.3));
    b.apply(wb, Float32Array.of(0.3, 0.3, -0.3, 0.3));
    expect(wb).toEqual(wa);
    expect(b.iterations).toBe(3);
    // getState is a copy: stepping on does not change what was saved.
    expect(state.iterations).toBe(2);
  });

  it('sgd with a bare size updates every element: w − lr·g', () => {
    const sgd = createOptimizer({ name: 'sgd', learningRate: 0.5 }, 3);
    const w = Float32Array.of(1, 1, 1);
    sgd.apply(w, Float32Array.of(2, -2, 0.5));
    expect([...w]).toEqual([0, 2, 0.75]);
  });

  it('rejects invalid configs naming the field', () => {
    const bad: [unknown, string][] = [
      [{ name: 'sgd', learningRate: -1 }, 'optimizer.learningRate must be a finite number > 0, got -1'],
      [{ name: 'adam', learningRate: 0.1, beta1: 1 }, 'optimizer.beta1 must be a number in [0, 1), got 1'],
      [{ name: 'rmsprop', learningRate: 0.1, epsilon: Infinity }, 'optimizer.epsilon must be a finite number ≥ 0, got Infinity'],
      [{ name: 'adagrad', learningRate: 0.1 }, 'optimizer.name must be one of sgd, momentum, adam, rmsprop, got "adagrad"'],
    ];
    for (const [config, message] of bad) {
      const error = catchError(() => createOptimizer(config as OptimizerConfig, 2));
      expect(error).toBeInstanceOf(ParameterServerError);
      expect(error).toMatchObject({ code: 'DTRAIN_PS_CONFIG', message });
    }
  });

  it('rejects state of another optimizer or size', () => {
    const adam = createOptimizer({ name: 'adam', learningRate: 0.1 }, 3);
    const momentum = createOptimizer({ name: 'momentum', learningRate: 0.1 }, 3);
    expect(catchError(() => momentum.setState(adam.getState()))).toMatchObject({
      code: 'DTRAIN_PS_OPTIMIZER_STATE',
      message: 'momentum optimizer state: saved by a different optimizer (adam)',
    });
    const short = { ...adam.getState(), arrays: { m: new Float32Array(2), v: new Float32Array(3) } };
    const error = catchError(() => adam.setState(short));
    expect(error).toBeInstanceOf(ParameterServerError);
    expect(error).toMatchObject({
      code: 'DTRAIN_PS_OPTIMIZER_STATE',
      message: 'adam optimizer state: array m must be a Float32Array of 3 elements, got Float32Array of 2 elements',
    });
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
