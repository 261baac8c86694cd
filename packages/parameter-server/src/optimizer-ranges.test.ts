import type { FlatRange, WeightEntry } from '@dtrain/protocol';
import { describe, expect, it } from 'vitest';
import { createOptimizer } from './create-optimizer.js';
import type { Optimizer, OptimizerState } from './optimizer.js';
import type { OptimizerConfig } from './optimizer-config.js';
import { assembleOptimizerState, splitOptimizerState } from './optimizer-state.js';
import { ParameterServerError } from './parameter-server-error.js';
import {
  CONFIG_VARIANTS,
  freshSeed,
  type ConfigVariant,
  randomFloat32Array,
  randomLayout,
  type Random,
} from './testing/random-inputs.js';
import { seededRandom } from './testing/tfjs-cpu.js';

/**
 * A shard's optimizer covers one range of the layout and takes a step's
 * gradient chunk by chunk, in any order. Whatever the split and the order,
 * the shards together must compute exactly what one whole-layout optimizer
 * does, and their states must join into (and split from) its state.
 */

const SHARD_COUNTS = [1, 2, 3, 5];
const STEPS = 4;

describe('optimizers over shard ranges, applied chunk by chunk, equal the whole-layout optimizer', () => {
  for (const variant of CONFIG_VARIANTS) {
    it(`${variant}: K = ${SHARD_COUNTS.join(', ')} shards at random boundaries, chunks of random sizes in random order`, () => {
      const seed = freshSeed();
      const random = seededRandom(seed);
      for (let trial = 0; trial < 6; trial++) {
        const size = Math.floor(random() * 300);
        const layout = randomLayout(random, size);
        const config = typicalConfig(random, variant);
        for (const k of SHARD_COUNTS) {
          const what = `seed ${seed}, trial ${trial}, K = ${k}, ${JSON.stringify(config)}`;
          const ranges = randomRanges(random, size, k);
          const whole = createOptimizer(config, layout);
          const shards = ranges.map((range) => createOptimizer(config, layout, range));
          const initial = randomFloat32Array(random, size, uniform);
          const wholeWeights = initial.slice();
          const shardWeights = ranges.map((r) => initial.slice(r.start, r.end));
          for (let step = 0; step < STEPS; step++) {
            if (step === 2) {
              whole.setLearningRate(whole.learningRate / 2);
              for (const shard of shards) shard.setLearningRate(shard.learningRate / 2);
            }
            const gradient = randomFloat32Array(random, size, uniform);
            whole.apply(wholeWeights, gradient);
            shards.forEach((shard, s) => {
              const { start, end } = ranges[s] as FlatRange;
              applyInRandomChunks(random, shard, shardWeights[s] as Float32Array, gradient.slice(start, end));
            });
            expectSameBits(concat(shardWeights, size), wholeWeights, `${what}, step ${step}: weights`);
          }
          const parts = shards.map((shard, s) => ({ range: ranges[s] as FlatRange, state: shard.getState() }));
          expectSameState(assembleOptimizerState(shuffled(random, parts), size), whole.getState(), what);
          splitOptimizerState(whole.getState(), ranges).forEach((state, s) => {
            expectSameState(state, (parts[s] as { state: OptimizerState }).state, `${what}, split ${s}`);
          });
          // Nothing outside a shard's trainable elements moved.
          for (const entry of layout.filter((e) => !e.trainable)) {
            expectSameBits(
              wholeWeights.subarray(entry.offset, entry.offset + entry.size),
              initial.subarray(entry.offset, entry.offset + entry.size),
              `${what}: ${entry.name} is not trainable`,
            );
          }
        }
      }
    });
  }

  it('a checkpoint written by K shards resumes on a different number of shards exactly', () => {
    const seed = freshSeed();
    const random = seededRandom(seed);
    for (const variant of CONFIG_VARIANTS) {
      const size = 50 + Math.floor(random() * 200);
      const layout = randomLayout(random, size);
      const config = typicalConfig(random, variant);
      const before = randomRanges(random, size, 3);
      const after = randomRanges(random, size, 2 + Math.floor(random() * 4));
      const what = `seed ${seed}, ${JSON.stringify(config)}, ${JSON.stringify(before)} → ${JSON.stringify(after)}`;
      const whole = createOptimizer(config, layout);
      const wholeWeights = randomFloat32Array(random, size, uniform);
      let shards = before.map((range) => createOptimizer(config, layout, range));
      let shardWeights = before.map((r) => wholeWeights.slice(r.start, r.end));
      const step = (ranges: FlatRange[]): void => {
        const gradient = randomFloat32Array(random, size, uniform);
        whole.apply(wholeWeights, gradient);
        shards.forEach((shard, s) => {
          const { start, end } = ranges[s] as FlatRange;
          applyInRandomChunks(random, shard, shardWeights[s] as Float32Array, gradient.slice(start, end));
        });
      };
      step(before);
      step(before);
      // Checkpoint: K = 3 states joined; resume: split for the new shards.
      const saved = assembleOptimizerState(
        shards.map((shard, s) => ({ range: before[s] as FlatRange, state: shard.getState() })),
        size,
      );
      const weights = concat(shardWeights, size);
      shards = after.map((range) => createOptimizer(config, layout, range));
      splitOptimizerState(saved, after).forEach((state, s) => (shards[s] as Optimizer).setState(state));
      shardWeights = after.map((r) => weights.slice(r.start, r.end));
      step(after);
      step(after);
      expectSameBits(concat(shardWeights, size), wholeWeights, `${what}: weights`);
      const parts = shards.map((shard, s) => ({ range: after[s] as FlatRange, state: shard.getState() }));
      expectSameState(assembleOptimizerState(parts, size), whole.getState(), what);
    }
  });
});

describe('the chunked step', () => {
  const layout: readonly WeightEntry[] = [
    { name: 'a', shape: [4], offset: 0, size: 4, trainable: true },
    { name: 'b', shape: [3], offset: 4, size: 3, trainable: false },
    { name: 'c', shape: [5], offset: 7, size: 5, trainable: true },
  ];

  it('covers the layout elements [start, end) with local indices', () => {
    const shard = createOptimizer({ name: 'sgd', learningRate: 1 }, layout, { start: 2, end: 9 });
    expect(shard.range).toEqual({ start: 2, end: 9 });
    expect(shard.size).toBe(7);
    const w = new Float32Array(7);
    shard.apply(w, Float32Array.from({ length: 7 }, (_, i) => i + 1));
    // Local 0-1 are flat 2-3 (trainable), 2-4 flat 4-6 (not), 5-6 flat 7-8 (trainable).
    expect([...w]).toEqual([-1, -2, 0, 0, 0, -6, -7]);
    expect(createOptimizer({ name: 'adam', learningRate: 1 }, layout, { start: 2, end: 9 }).getState().arrays['m']).toHaveLength(7);
  });

  it('rejects a range outside the layout', () => {
    for (const range of [{ start: -1, end: 3 }, { start: 5, end: 4 }, { start: 0, end: 13 }, { start: 0.5, end: 3 }]) {
      const error = catchError(() => createOptimizer({ name: 'sgd', learningRate: 1 }, layout, range));
      expect(error).toBeInstanceOf(ParameterServerError);
      expect(error).toMatchObject({
        code: 'DTRAIN_PS_LAYOUT',
        message: `optimizer range [${range.start}, ${range.end}) is not a range of integers within the layout's 12 elements`,
      });
    }
  });

  it('refuses a chunk that overlaps one already applied, changing nothing', () => {
    const adam = createOptimizer({ name: 'adam', learningRate: 0.1 }, layout);
    const w = new Float32Array(12).fill(1);
    const g = new Float32Array(12).fill(0.5);
    adam.beginStep();
    adam.applyChunk(w, g, 6, 10);
    const after = w.slice();
    for (const [from, to] of [
      [0, 7],
      [9, 12],
      [7, 8],
    ] as const) {
      const error = catchError(() => adam.applyChunk(w, g, from, to));
      expect(error).toBeInstanceOf(ParameterServerError);
      expect(error).toMatchObject({
        code: 'DTRAIN_PS_LAYOUT',
        message: `optimizer chunk [${from}, ${to}) overlaps [6, 10), already applied in this step`,
      });
    }
    expect(w).toEqual(after);
    expect(catchError(() => adam.applyChunk(w, g, 10, 13))).toMatchObject({
      code: 'DTRAIN_PS_LAYOUT',
      message: 'optimizer chunk [10, 13) is not a range of integers within [0, 12)',
    });
  });

  it('does not end a step with elements left out, and lets the missing chunk finish it', () => {
    const momentum = createOptimizer({ name: 'momentum', learningRate: 0.1 }, layout);
    const w = new Float32Array(12);
    const g = new Float32Array(12).fill(1);
    momentum.beginStep();
    momentum.applyChunk(w, g, 8, 12);
    momentum.applyChunk(w, g, 0, 3);
    expect(catchError(() => momentum.endStep())).toMatchObject({
      code: 'DTRAIN_PS_LAYOUT',
      message: 'optimizer step covers 7 of 12 elements: [3, 8) was not applied',
    });
    momentum.applyChunk(w, g, 3, 8);
    momentum.endStep();
    expect(momentum.iterations).toBe(1);
  });

  it('refuses calls out of order, and state access during a step', () => {
    const rmsprop = createOptimizer({ name: 'rmsprop', learningRate: 0.1 }, layout);
    const w = new Float32Array(12);
    const g = new Float32Array(12);
    const code = 'DTRAIN_PS_OPTIMIZER_STATE';
    expect(catchError(() => rmsprop.applyChunk(w, g, 0, 12))).toMatchObject({
      code,
      message: 'rmsprop optimizer: applyChunk called outside a step (call beginStep first)',
    });
    expect(catchError(() => rmsprop.endStep())).toMatchObject({
      code,
      message: 'rmsprop optimizer: endStep called outside a step (call beginStep first)',
    });
    const state = rmsprop.getState();
    rmsprop.beginStep();
    expect(catchError(() => rmsprop.beginStep())).toMatchObject({
      code,
      message: 'rmsprop optimizer: beginStep called while a step is open (endStep was not called)',
    });
    expect(catchError(() => rmsprop.apply(w, g))).toMatchObject({ code });
    expect(catchError(() => rmsprop.getState())).toMatchObject({
      code,
      message: 'rmsprop optimizer: getState called during a step: the slots are half updated',
    });
    expect(catchError(() => rmsprop.setState(state))).toMatchObject({
      code,
      message: 'rmsprop optimizer state: setState called during a step',
    });
  });

  it('keeps the learning rate of the step in progress when it is changed between chunks', () => {
    const a = createOptimizer({ name: 'sgd', learningRate: 0.5 }, 8);
    const b = createOptimizer({ name: 'sgd', learningRate: 0.5 }, 8);
    const wa = new Float32Array(8);
    const wb = new Float32Array(8);
    const g = new Float32Array(8).fill(1);
    a.beginStep();
    a.applyChunk(wa, g, 0, 4);
    a.setLearningRate(0.25);
    a.applyChunk(wa, g, 4, 8);
    a.endStep();
    b.apply(wb, g);
    expect(wa).toEqual(wb);
    a.apply(wa, g);
    expect([...wa]).toEqual(new Array(8).fill(-0.75));
    expect(a.learningRate).toBe(0.25);
  });

  it('accepts empty chunks and an empty range', () => {
    const empty = createOptimizer({ name: 'adam', learningRate: 0.1 }, layout, { start: 5, end: 5 });
    empty.beginStep();
    empty.applyChunk(new Float32Array(0), new Float32Array(0), 0, 0);
    empty.endStep();
    expect(empty.getState()).toMatchObject({ iterations: 1, arrays: { m: new Float32Array(0), v: new Float32Array(0) } });
  });

  it('rejects an adam state whose accumulated betas are outside [0, 1]', () => {
    const adam = createOptimizer({ name: 'adam', learningRate: 0.1 }, 2);
    const state = adam.getState();
    expect(catchError(() => adam.setState({ ...state, scalars: { accBeta1: 0.9, accBeta2: 1.5 } }))).toMatchObject({
      code: 'DTRAIN_PS_OPTIMIZER_STATE',
      message: 'adam optimizer state: scalar accBeta2 must be in [0, 1], got 1.5',
    });
  });
});

describe('splitting and assembling optimizer state', () => {
  const config: OptimizerConfig = { name: 'rmsprop', learningRate: 0.01, centered: true };

  function steppedState(random: Random, size: number): OptimizerState {
    const optimizer = createOptimizer(config, size);
    const w = randomFloat32Array(random, size, uniform);
    for (let s = 0; s < 3; s++) optimizer.apply(w, randomFloat32Array(random, size, uniform));
    return optimizer.getState();
  }

  it('round-trips: assemble(split(state)) is the state, for any cut', () => {
    const seed = freshSeed();
    const random = seededRandom(seed);
    for (let trial = 0; trial < 20; trial++) {
      const size = Math.floor(random() * 100);
      const state = steppedState(random, size);
      const ranges = randomRanges(random, size, 1 + Math.floor(random() * 6));
      const parts = splitOptimizerState(state, ranges).map((s, i) => ({ range: ranges[i] as FlatRange, state: s }));
      expectSameState(assembleOptimizerState(shuffled(random, parts), size), state, `seed ${seed}, trial ${trial}`);
      parts.forEach(({ range, state: part }) => expect(part.arrays['rms']).toHaveLength(range.end - range.start));
    }
  });

  it('splits into views a shard copies in', () => {
    const state = steppedState(seededRandom(1), 10);
    const [part] = splitOptimizerState(state, [{ start: 2, end: 6 }]);
    expect((part as OptimizerState).arrays['rms']?.buffer).toBe(state.arrays['rms']?.buffer);
    const shard = createOptimizer(config, 10, { start: 2, end: 6 });
    shard.setState(part as OptimizerState);
    (state.arrays['rms'] as Float32Array).fill(0);
    expect(shard.getState().arrays['rms']?.every((x) => x > 0)).toBe(true);
  });

  it('names the part that does not fit', () => {
    const state = steppedState(seededRandom(2), 10);
    const [a, b] = splitOptimizerState(state, [
      { start: 0, end: 4 },
      { start: 4, end: 10 },
    ]) as [OptimizerState, OptimizerState];
    const cases: [Parameters<typeof assembleOptimizerState>[0], string][] = [
      [[{ range: { start: 0, end: 4 }, state: a }], 'no part covers [4, 10)'],
      [[{ range: { start: 4, end: 10 }, state: b }], 'no part covers [0, 4)'],
      [
        [
          { range: { start: 0, end: 4 }, state: a },
          { range: { start: 3, end: 10 }, state: b },
        ],
        'part [3, 10) overlaps the part before it, which ends at 4',
      ],
      [
        [
          { range: { start: 0, end: 4 }, state: a },
          { range: { start: 4, end: 10 }, state: { ...b, iterations: 2 } },
        ],
        'part [4, 10) disagrees with part [0, 4) on iterations (3 vs 2)',
      ],
      [
        [
          { range: { start: 0, end: 4 }, state: a },
          { range: { start: 4, end: 10 }, state: { ...b, learningRate: 1 } },
        ],
        'part [4, 10) disagrees with part [0, 4) on learningRate (0.01 vs 1)',
      ],
      [
        [
          { range: { start: 0, end: 5 }, state: a },
          { range: { start: 5, end: 10 }, state: b },
        ],
        'part [0, 5): array mg must be a Float32Array of 5 elements',
      ],
      [[], 'no parts to assemble'],
    ];
    for (const [parts, message] of cases) {
      const error = catchError(() => assembleOptimizerState(parts, 10));
      expect(error).toBeInstanceOf(ParameterServerError);
      expect(error).toMatchObject({ code: 'DTRAIN_PS_OPTIMIZER_STATE', message: `optimizer state: ${message}` });
    }
    expect(catchError(() => splitOptimizerState(state, [{ start: 8, end: 11 }]))).toMatchObject({
      code: 'DTRAIN_PS_OPTIMIZER_STATE',
      message: "optimizer state: range [8, 11) does not lie within the state's 10 elements",
    });
  });
});

/** Typical hyperparameters: these tests are about ranges and chunks, not magnitudes (see optimizer-exactness.test.ts). */
function typicalConfig(random: Random, variant: ConfigVariant): OptimizerConfig {
  const learningRate = 10 ** -(1 + random() * 3);
  switch (variant) {
    case 'sgd':
      return { name: 'sgd', learningRate };
    case 'momentum':
    case 'nesterov':
      return { name: 'momentum', learningRate, momentum: 0.9, useNesterov: variant === 'nesterov' };
    case 'adam':
      return { name: 'adam', learningRate, beta1: 0.8 + random() * 0.15, beta2: 0.999 };
    default:
      return {
        name: 'rmsprop',
        learningRate,
        decay: 0.9,
        momentum: variant.endsWith('momentum') ? 0.5 : 0,
        centered: variant.startsWith('centered'),
      };
  }
}

function uniform(random: Random): number {
  return Math.fround(random() * 2 - 1);
}

/** K ranges that tile [0, size) at random cut points; some may be empty. */
function randomRanges(random: Random, size: number, k: number): FlatRange[] {
  const cuts = Array.from({ length: k - 1 }, () => Math.floor(random() * (size + 1))).sort((a, b) => a - b);
  const bounds = [0, ...cuts, size];
  return Array.from({ length: k }, (_, i) => ({ start: bounds[i] as number, end: bounds[i + 1] as number }));
}

/** One step of `optimizer` as chunks of random sizes over [0, size), applied in random order. */
function applyInRandomChunks(random: Random, optimizer: Optimizer, weights: Float32Array, gradient: Float32Array): void {
  const chunks: [number, number][] = [];
  for (let at = 0; at < optimizer.size; ) {
    const to = Math.min(optimizer.size, at + 1 + Math.floor(random() * 40));
    chunks.push([at, to]);
    at = to;
  }
  optimizer.beginStep();
  for (const [from, to] of shuffled(random, chunks)) optimizer.applyChunk(weights, gradient, from, to);
  optimizer.endStep();
}

function shuffled<T>(random: Random, values: readonly T[]): T[] {
  const out = [...values];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function concat(parts: readonly Float32Array[], size: number): Float32Array {
  const out = new Float32Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function expectSameState(actual: OptimizerState, expected: OptimizerState, what: string): void {
  expect({ ...actual, arrays: Object.keys(actual.arrays).sort() }, what).toEqual({
    ...expected,
    arrays: Object.keys(expected.arrays).sort(),
  });
  for (const [name, array] of Object.entries(expected.arrays)) {
    expectSameBits(actual.arrays[name] as Float32Array, array, `${what}: array ${name}`);
  }
}

function expectSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) expect.fail(`${what}[${i}]: ${actual[i]}, expected ${expected[i]}`);
  }
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
