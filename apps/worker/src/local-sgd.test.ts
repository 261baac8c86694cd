import type { LocalStepsConfig, WeightEntry } from '@dtrain/protocol';
import { describe, expect, it } from 'vitest';
import { WorkerError } from './errors.js';
import { LocalSgd } from './local-sgd.js';

/** Two trainable entries around a non-trainable one (a batch-norm statistic, say): 5 elements. */
const LAYOUT: readonly WeightEntry[] = [
  { name: 'dense/kernel', shape: [2], offset: 0, size: 2, trainable: true },
  { name: 'bn/moving_mean', shape: [1], offset: 2, size: 1, trainable: false },
  { name: 'dense/bias', shape: [2], offset: 3, size: 2, trainable: true },
];

const local = (optimizer: Record<string, unknown>, innerState: 'keep' | 'reset' = 'keep', steps = 2): LocalStepsConfig => ({ steps, optimizer, innerState });

/** Runs `run` and returns the WorkerError it throws; fails the test on anything else. */
function workerError(run: () => unknown): WorkerError {
  try {
    run();
  } catch (error) {
    if (error instanceof WorkerError) return error;
    throw error;
  }
  throw new Error('expected a WorkerError, but nothing was thrown');
}

describe('LocalSgd', () => {
  it('takes inner sgd steps on its own copy and finishes with start − now (trainable) and the last values (non-trainable)', () => {
    const sgd = new LocalSgd(local({ name: 'sgd', learningRate: 0.5 }), LAYOUT);
    expect([sgd.steps, sgd.innerState, sgd.innerSteps]).toEqual([2, 'keep', 0]);
    const start = Float32Array.from([1, 2, 10, 3, 4]);
    sgd.begin(start);
    // The round works on copies: the caller's array is not touched, nor read again.
    start.fill(99);
    // Index 2 is the non-trainable entry: the trainer's output there is its new value, not a gradient.
    sgd.step(Float32Array.from([2, -4, 7, 1, 0.5]));
    // w − 0.5·g: [1 − 1, 2 + 2, 7, 3 − 0.5, 4 − 0.25]
    expect([...sgd.weights]).toEqual([0, 4, 7, 2.5, 3.75]);
    sgd.step(Float32Array.from([1, 1, 8, -2, 4]));
    // [0 − 0.5, 4 − 0.5, 8, 2.5 + 1, 3.75 − 2]
    expect([...sgd.weights]).toEqual([-0.5, 3.5, 8, 3.5, 1.75]);
    expect([...sgd.startWeights]).toEqual([1, 2, 10, 3, 4]);
    const out = new Float32Array(5).fill(Number.NaN);
    sgd.finish(out);
    // start − now: [1 − (−0.5), 2 − 3.5, ·, 3 − 3.5, 4 − 1.75]; the non-trainable entry: the last step's value.
    expect([...out]).toEqual([1.5, -1.5, 8, -0.5, 2.25]);
    expect(sgd.innerSteps).toBe(2);
  });

  it('starts each round from the weights given, not from where the last round ended', () => {
    const sgd = new LocalSgd(local({ name: 'sgd', learningRate: 0.5 }), LAYOUT);
    const out = new Float32Array(5);
    sgd.begin(Float32Array.from([1, 2, 10, 3, 4]));
    sgd.step(Float32Array.from([2, -4, 7, 1, 0.5]));
    sgd.finish(out);
    expect([...out]).toEqual([1, -2, 7, 0.5, 0.25]);
    sgd.begin(Float32Array.from([0, 0, 0, 0, 0]));
    sgd.step(Float32Array.from([2, 2, 5, 2, 2]));
    sgd.finish(out);
    expect([...out]).toEqual([1, 1, 5, 1, 1]);
    expect(sgd.innerSteps).toBe(2);
  });

  describe("innerState with adam (state that matters from the first step)", () => {
    const weights = Float32Array.from([1, 2, 10, 3, 4]);
    const first = Float32Array.from([0.5, -1, 3, 2, -0.25]);
    const second = Float32Array.from([-3, 4, 6, -1, 2]);

    /** Round 1 (two steps), then round 2's first step from the same weights with the same gradient: the weights after each first step. */
    function twoRounds(innerState: 'keep' | 'reset'): { round1: number[]; round2: number[]; sgd: LocalSgd } {
      const sgd = new LocalSgd(local({ name: 'adam', learningRate: 0.1 }, innerState), LAYOUT);
      const out = new Float32Array(5);
      sgd.begin(weights);
      sgd.step(first);
      const round1 = [...sgd.weights];
      sgd.step(second);
      sgd.finish(out);
      sgd.begin(weights);
      sgd.step(first);
      return { round1, round2: [...sgd.weights], sgd };
    }

    it("adam's first step moves each trainable weight by about lr against its gradient's sign", () => {
      const { round1 } = twoRounds('reset');
      const expected = [1 - 0.1, 2 + 0.1, 3, 3 - 0.1, 4 + 0.1];
      round1.forEach((value, i) => expect(value).toBeCloseTo(expected[i] as number, 5));
    });

    it("'reset': round 2's first step is round 1's first step, bit for bit", () => {
      const { round1, round2, sgd } = twoRounds('reset');
      expect(round2).toEqual(round1);
      // The iteration count is the optimizer's: reset restores it too.
      expect(sgd.innerSteps).toBe(1);
    });

    it("'keep': round 2's first step carries round 1's moments, so it differs", () => {
      const { round1, round2, sgd } = twoRounds('keep');
      expect(sgd.innerSteps).toBe(3);
      // The non-trainable entry is the gradient's value either way.
      expect([round1[2], round2[2]]).toEqual([3, 3]);
      for (const i of [0, 1, 3, 4]) expect(round2[i], `element ${i}`).not.toBe(round1[i]);
    });
  });

  it.each([
    ['an unknown optimizer', { name: 'lamb', learningRate: 0.1 }],
    ['no learning rate', { name: 'sgd' }],
    ['a negative learning rate', { name: 'momentum', learningRate: -1, momentum: 0.9 }],
  ])('refuses %s with DTRAIN_WORKER_REJECTED naming welcome.job.local.optimizer', (_label, optimizer) => {
    const error = workerError(() => new LocalSgd(local(optimizer), LAYOUT));
    expect(error.code).toBe('DTRAIN_WORKER_REJECTED');
    expect(error.message).toMatch(/^welcome\.job\.local\.optimizer: .+/);
  });

  it('refuses step and finish outside a round with DTRAIN_WORKER_STATE', () => {
    const sgd = new LocalSgd(local({ name: 'sgd', learningRate: 0.5 }), LAYOUT);
    expect(workerError(() => sgd.step(new Float32Array(5))).code).toBe('DTRAIN_WORKER_STATE');
    expect(workerError(() => sgd.finish(new Float32Array(5))).code).toBe('DTRAIN_WORKER_STATE');
    sgd.begin(new Float32Array(5));
    sgd.step(new Float32Array(5));
    sgd.finish(new Float32Array(5));
    // A finished round is over: another step needs another begin.
    expect(workerError(() => sgd.step(new Float32Array(5))).code).toBe('DTRAIN_WORKER_STATE');
    expect(sgd.innerSteps).toBe(1);
  });
});
