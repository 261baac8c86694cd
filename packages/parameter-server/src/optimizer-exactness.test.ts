import { describe, expect, it } from 'vitest';
import { buildOptimizer, createOptimizer, planOptimizer, resolveOptimizerConfig } from './create-optimizer.js';
import { KERNEL_BLOCK, KernelMemory, arrayBytes } from './kernel-memory.js';
import type { OptimizerConfig } from './optimizer-config.js';
import { optimizerMemoryBytes, type Optimizer, type OptimizerState } from './optimizer.js';
import { ReferenceOptimizer } from './testing/reference-optimizers.js';
import {
  CONFIG_VARIANTS,
  float32FromBits,
  freshSeed,
  randomConfig,
  randomFloat32,
  randomFloat32Array,
  randomLayout,
  randomNonNegativeFloat32,
  randomUnitFloat32,
  type Random,
} from './testing/random-inputs.js';
import { expectSameBits } from './testing/same-bits.js';
import { seededRandom } from './testing/tfjs-cpu.js';
import { trainableRanges } from './weight-layout.js';

/**
 * The optimizers' loops must give exactly the straightforward reference
 * loops' results, which optimizers.test.ts checks against tfjs: same bits for
 * every input, not just typical ones. Three ways of running them, each held
 * to that:
 * - `wasm-simd, in place`: the kernels on weights and gradient that lie in
 *   the optimizer's kernel memory (as a ParameterShard runs them);
 * - `wasm-simd, copied`: the kernels on arrays from outside, copied through
 *   the memory a block at a time (what createOptimizer gives by default);
 * - `js`: the tuned JS loops (unrolled, adam's bias corrections as
 *   multiplications), the fallback where WebAssembly SIMD is unavailable.
 *
 * NaN: bits must match, except that where they differ both must be NaN
 * (testing/same-bits.ts). The JS loops have so far always given the
 * reference's payloads; the kernels now and then give another (about 900
 * elements in one run of this file): x86's packed instructions do not
 * always propagate the same operand's NaN as the scalar code V8 emits.
 */
const ELEMENT_STEPS = 200_000;
/** The range test runs each path over fewer elements: chunking adds cases, not arithmetic. */
const RANGE_ELEMENT_STEPS = 100_000;

const PATHS = ['wasm-simd, in place', 'wasm-simd, copied', 'js'] as const;
type Path = (typeof PATHS)[number];

/** An optimizer run one of the three ways, with the arrays it is given. */
interface Subject {
  readonly optimizer: Optimizer;
  /** The weights the optimizer updates: in its kernel memory for `in place`. */
  readonly weights: Float32Array;
  /** Where each step's gradient is put before the step. */
  readonly gradient: Float32Array;
}

function subject(path: Path, config: OptimizerConfig, layout: Parameters<typeof createOptimizer>[1], range?: { start: number; end: number }): Subject {
  if (path !== 'wasm-simd, in place') {
    const optimizer = createOptimizer(config, layout, range, { simd: path !== 'js' });
    expect(optimizer.kernels).toBe(path === 'js' ? 'js' : 'wasm-simd');
    return { optimizer, weights: new Float32Array(optimizer.size), gradient: new Float32Array(optimizer.size) };
  }
  const plan = planOptimizer(config, layout, range);
  const memory = KernelMemory.create(2 * arrayBytes(plan.size, 4) + optimizerMemoryBytes(plan.config, plan.size));
  if (memory === undefined) throw new Error('no kernel memory on this engine');
  const weights = memory.float32(plan.size);
  const gradient = memory.float32(plan.size);
  return { optimizer: buildOptimizer(plan, memory), weights, gradient };
}

for (const path of PATHS) {
  describe(`optimizer loops (${path}) equal the reference loops bit for bit`, () => {
    for (const variant of CONFIG_VARIANTS) {
      it(`${variant}: random layouts, hyperparameters, states, weights and gradients of every magnitude`, () => {
        const seed = freshSeed();
        const random = seededRandom(seed);
        let elementSteps = 0;
        for (let trial = 0; elementSteps < ELEMENT_STEPS; trial++) {
          // Mostly short arrays so every remainder of the four-way loops comes up often.
          const size = random() < 0.8 ? Math.floor(random() * 40) : Math.floor(random() * 5000);
          const layout = randomLayout(random, size);
          const config = randomConfig(random, variant);
          const what = `seed ${seed}, trial ${trial}, ${JSON.stringify(config)}`;
          const tuned = subject(path, config, layout);
          const reference = new ReferenceOptimizer(resolveOptimizerConfig(config), size, trainableRanges(layout));
          const state = randomState(random, tuned.optimizer.getState());
          tuned.optimizer.setState(state);
          reference.setState(state);
          tuned.weights.set(randomFloat32Array(random, size));
          const referenceWeights = tuned.weights.slice();
          for (let step = 0; step < 3; step++) {
            if (random() < 0.3) {
              const learningRate = 10 ** (random() * 12 - 9);
              tuned.optimizer.setLearningRate(learningRate);
              reference.lr = learningRate;
            }
            const gradient = randomFloat32Array(random, size);
            tuned.gradient.set(gradient);
            tuned.optimizer.apply(tuned.weights, tuned.gradient);
            reference.apply(referenceWeights, gradient);
            expectSameBits(tuned.weights, referenceWeights, `${what}, step ${step}: weights`);
            expectSameState(tuned.optimizer.getState(), reference, 0, `${what}, step ${step}`);
            elementSteps += size;
          }
        }
      });

      it(`${variant}: over a shard's range, chunk by chunk in random order, and across copy blocks`, () => {
        const seed = freshSeed();
        const random = seededRandom(seed);
        let elementSteps = 0;
        for (let trial = 0; elementSteps < RANGE_ELEMENT_STEPS; trial++) {
          // The first trial spans several of the blocks the `copied` path goes through.
          const size = trial === 0 ? 2 * KERNEL_BLOCK + Math.floor(random() * KERNEL_BLOCK) : Math.floor(random() * 3000);
          const layout = randomLayout(random, size);
          const a = Math.floor(random() * (size + 1));
          const b = Math.floor(random() * (size + 1));
          const range = { start: Math.min(a, b), end: Math.max(a, b) };
          const config = randomConfig(random, variant);
          const what = `seed ${seed}, trial ${trial}, range [${range.start}, ${range.end}) of ${size}, ${JSON.stringify(config)}`;
          const tuned = subject(path, config, layout, range);
          const reference = new ReferenceOptimizer(resolveOptimizerConfig(config), size, trainableRanges(layout));
          const state = randomState(random, reference.getState());
          reference.setState(state);
          tuned.optimizer.setState({
            ...state,
            arrays: Object.fromEntries(Object.entries(state.arrays).map(([name, array]) => [name, array.slice(range.start, range.end)])),
          });
          const referenceWeights = randomFloat32Array(random, size);
          tuned.weights.set(referenceWeights.subarray(range.start, range.end));
          // Chunks as small as one element, and as big as the range (several blocks in trial 0).
          const chunkMax = trial === 0 ? 3 * KERNEL_BLOCK : 1 + Math.floor(random() * 600);
          for (let step = 0; step < 3; step++) {
            const gradient = randomFloat32Array(random, size);
            tuned.gradient.set(gradient.subarray(range.start, range.end));
            applyInRandomChunks(random, tuned.optimizer, tuned.weights, tuned.gradient, chunkMax);
            reference.apply(referenceWeights, gradient);
            expectSameBits(tuned.weights, referenceWeights.subarray(range.start, range.end), `${what}, step ${step}: weights`);
            expectSameState(tuned.optimizer.getState(), reference, range.start, `${what}, step ${step}`);
            elementSteps += range.end - range.start + 1;
          }
        }
      });
    }
  });
}

describe("adam's bias corrections: f32(x · (1/c)) = f32(x / c)", () => {
  it('for random float32 x of any bit pattern and float32 c in [0, 1]', () => {
    const seed = freshSeed();
    const random = seededRandom(seed);
    const f32 = Math.fround;
    for (let n = 0; n < 1_000_000; n++) {
      const x = float32FromBits(Math.floor(random() * 2 ** 32));
      // Bit patterns 0 … 0x3f800000 are exactly the float32 values in [0, 1], subnormals included;
      // every other draw is a c as adam makes it, f32(1 − accBeta).
      const c =
        n % 2 === 0 ? float32FromBits(Math.floor(random() * (0x3f800000 + 1))) : f32(1 - randomUnitFloat32(random));
      if (!Object.is(f32(x * (1 / c)), f32(x / c))) {
        expect.fail(`seed ${seed}: x ${x}, c ${c}: ${f32(x * (1 / c))} by the reciprocal, ${f32(x / c)} by division`);
      }
    }
  });
});

/** A state of the optimizer's shape with random contents of every magnitude. */
function randomState(random: Random, shape: OptimizerState): OptimizerState {
  const arrays = Object.fromEntries(
    Object.entries(shape.arrays).map(([name, array]) => [
      name,
      randomFloat32Array(random, array.length, name === 'v' || name === 'rms' ? randomNonNegativeFloat32 : randomFloat32),
    ]),
  );
  const scalars = Object.fromEntries(Object.keys(shape.scalars).map((name) => [name, randomUnitFloat32(random)]));
  return {
    name: shape.name,
    iterations: Math.floor(random() * 1000),
    learningRate: 10 ** (random() * 12 - 9),
    scalars,
    arrays,
  };
}

/** The step in chunks of 1 … `chunkMax` elements, applied in random order. */
function applyInRandomChunks(random: Random, optimizer: Optimizer, weights: Float32Array, gradient: Float32Array, chunkMax: number): void {
  const chunks: [number, number][] = [];
  for (let at = 0; at < optimizer.size; ) {
    const to = Math.min(optimizer.size, at + 1 + Math.floor(random() * chunkMax));
    chunks.push([at, to]);
    at = to;
  }
  for (let i = chunks.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [chunks[i], chunks[j]] = [chunks[j] as [number, number], chunks[i] as [number, number]];
  }
  optimizer.beginStep();
  for (const [from, to] of chunks) optimizer.applyChunk(weights, gradient, from, to);
  optimizer.endStep();
}

/** The optimizer's state equals the reference's from element `offset` on. */
function expectSameState(state: OptimizerState, reference: ReferenceOptimizer, offset: number, what: string): void {
  for (const [name, slot] of Object.entries(reference.slots)) {
    const got = state.arrays[name] as Float32Array;
    expectSameBits(got, slot.subarray(offset, offset + got.length), `${what}: slot ${name}`);
  }
  expect(state.scalars, what).toEqual(reference.getState().scalars);
}
