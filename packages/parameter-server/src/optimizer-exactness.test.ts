import { describe, expect, it } from 'vitest';
import { createOptimizer, resolveOptimizerConfig } from './create-optimizer.js';
import type { OptimizerState } from './optimizer.js';
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
import { seededRandom } from './testing/tfjs-cpu.js';
import { trainableRanges } from './weight-layout.js';

/**
 * The tuned loops (unrolled, adam's bias corrections as multiplications) must
 * give exactly the straightforward loops' results, which optimizers.test.ts
 * checks against tfjs: same bits for every input, not just typical ones. NaN
 * counts as equal to NaN (its payload is not something tfjs fixes either).
 */
const ELEMENT_STEPS = 300_000;

describe('tuned optimizer loops equal the reference loops bit for bit', () => {
  for (const variant of CONFIG_VARIANTS) {
    it(`${variant}: random layouts, hyperparameters, states, weights and gradients of every magnitude`, () => {
      const seed = freshSeed();
      const random = seededRandom(seed);
      let elementSteps = 0;
      for (let trial = 0; elementSteps < ELEMENT_STEPS; trial++) {
        // Mostly short arrays so every remainder of the four-way unrolling comes up often.
        const size = random() < 0.8 ? Math.floor(random() * 40) : Math.floor(random() * 5000);
        const layout = randomLayout(random, size);
        const config = randomConfig(random, variant);
        const what = `seed ${seed}, trial ${trial}, ${JSON.stringify(config)}`;
        const tuned = createOptimizer(config, layout);
        const reference = new ReferenceOptimizer(resolveOptimizerConfig(config), size, trainableRanges(layout));
        const state = randomState(random, tuned.getState());
        tuned.setState(state);
        reference.setState(state);
        const tunedWeights = randomFloat32Array(random, size);
        const referenceWeights = tunedWeights.slice();
        for (let step = 0; step < 3; step++) {
          if (random() < 0.3) {
            const learningRate = 10 ** (random() * 12 - 9);
            tuned.setLearningRate(learningRate);
            reference.lr = learningRate;
          }
          const gradient = randomFloat32Array(random, size);
          tuned.apply(tunedWeights, gradient);
          reference.apply(referenceWeights, gradient);
          expectSameBits(tunedWeights, referenceWeights, `${what}, step ${step}: weights`);
          const got = tuned.getState();
          for (const [name, slot] of Object.entries(reference.slots)) {
            expectSameBits(got.arrays[name] as Float32Array, slot, `${what}, step ${step}: slot ${name}`);
          }
          expect(got.scalars, what).toEqual(reference.getState().scalars);
          elementSteps += size;
        }
      }
    });
  }
});

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

function expectSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) expect.fail(`${what}[${i}]: tuned ${actual[i]}, reference ${expected[i]}`);
  }
}
