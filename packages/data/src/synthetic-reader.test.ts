import { describe, expect, it } from 'vitest';
import type { Dataset } from './dataset.js';
import { generateSynthetic, syntheticReader } from './synthetic-reader.js';
import { expectDataError, freshSeed } from './test-support.testkit.js';

/** Softmax regression by full-batch gradient descent; returns [first loss, last loss, model]. */
function trainSoftmax(ds: Dataset, steps: number, rate: number): { first: number; last: number; predict: (x: Float32Array) => number } {
  const d = ds.featureShape.reduce((a, b) => a * b, 1);
  const k = ds.numClasses as number;
  const w = new Float64Array(d * k);
  const probs = (s: number, source: Float32Array): number[] => {
    const logits = Array.from({ length: k }, (_, c) => {
      let z = 0;
      for (let f = 0; f < d; f++) z += (source[s * d + f] as number) * (w[f * k + c] as number);
      return z;
    });
    const max = Math.max(...logits);
    const e = logits.map((z) => Math.exp(z - max));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  };
  let first = NaN;
  let last = NaN;
  for (let step = 0; step < steps; step++) {
    const grad = new Float64Array(d * k);
    let loss = 0;
    for (let s = 0; s < ds.numSamples; s++) {
      const p = probs(s, ds.features);
      const y = ds.labels[s] as number;
      loss -= Math.log(Math.max(p[y] as number, 1e-12));
      for (let c = 0; c < k; c++) {
        const g = (p[c] as number) - (c === y ? 1 : 0);
        for (let f = 0; f < d; f++) grad[f * k + c] = (grad[f * k + c] as number) + g * (ds.features[s * d + f] as number);
      }
    }
    loss /= ds.numSamples;
    if (step === 0) first = loss;
    last = loss;
    for (let i = 0; i < w.length; i++) w[i] = (w[i] as number) - (rate * (grad[i] as number)) / ds.numSamples;
  }
  const predict = (x: Float32Array): number => {
    const p = probs(0, x);
    return p.indexOf(Math.max(...p));
  };
  return { first, last, predict };
}

describe('synthetic reader', () => {
  it('generates a classification task that softmax regression learns, for any seed', () => {
    const seed = freshSeed();
    const train = generateSynthetic({ numSamples: 600, featureShape: [8], numClasses: 4, seed });
    const { first, last, predict } = trainSoftmax(train, 60, 2);
    expect(first).toBeCloseTo(Math.log(4), 5);
    expect(last).toBeLessThan(0.6 * first);
    // Held-out samples from the same hidden map.
    const test = generateSynthetic({ numSamples: 300, featureShape: [8], numClasses: 4, seed, firstSample: 600 });
    let correct = 0;
    for (let s = 0; s < test.numSamples; s++) {
      if (predict(test.features.subarray(s * 8, (s + 1) * 8)) === test.labels[s]) correct++;
    }
    expect(correct / test.numSamples).toBeGreaterThan(0.7);
  });

  it('generates a regression task whose targets a linear fit explains up to the noise', () => {
    const seed = freshSeed();
    const ds = generateSynthetic({ numSamples: 400, featureShape: [2, 3], seed, noise: 0.1 });
    expect(ds.labelEncoding).toBe('value');
    expect(ds.numClasses).toBeUndefined();
    // Gradient descent on w and b for mean squared error.
    const w = new Float64Array(6);
    let b = 0;
    const mse = (): number => {
      let sum = 0;
      for (let s = 0; s < ds.numSamples; s++) {
        let p = b;
        for (let f = 0; f < 6; f++) p += (w[f] as number) * (ds.features[s * 6 + f] as number);
        sum += (p - (ds.labels[s] as number)) ** 2;
      }
      return sum / ds.numSamples;
    };
    const before = mse();
    for (let step = 0; step < 200; step++) {
      const gw = new Float64Array(6);
      let gb = 0;
      for (let s = 0; s < ds.numSamples; s++) {
        let p = b;
        for (let f = 0; f < 6; f++) p += (w[f] as number) * (ds.features[s * 6 + f] as number);
        const e = p - (ds.labels[s] as number);
        gb += e;
        for (let f = 0; f < 6; f++) gw[f] = (gw[f] as number) + e * (ds.features[s * 6 + f] as number);
      }
      b -= (0.2 * gb) / ds.numSamples;
      for (let f = 0; f < 6; f++) w[f] = (w[f] as number) - (0.2 * (gw[f] as number)) / ds.numSamples;
    }
    expect(mse()).toBeLessThan(0.05);
    expect(before).toBeGreaterThan(0.2);
  });

  it('is a stream: sample k does not depend on numSamples', () => {
    const seed = freshSeed();
    const long = generateSynthetic({ numSamples: 50, featureShape: [5], numClasses: 3, seed });
    const head = generateSynthetic({ numSamples: 20, featureShape: [5], numClasses: 3, seed });
    const tail = generateSynthetic({ numSamples: 30, featureShape: [5], numClasses: 3, seed, firstSample: 20 });
    expect(Array.from(head.features)).toEqual(Array.from(long.features.subarray(0, 100)));
    expect(Array.from(tail.features)).toEqual(Array.from(long.features.subarray(100)));
    expect(Array.from(tail.labels)).toEqual(Array.from(long.labels.subarray(20)));
  });

  it('gives different data for different seeds', () => {
    const seed = freshSeed();
    const a = generateSynthetic({ numSamples: 10, featureShape: [4], seed });
    const b = generateSynthetic({ numSamples: 10, featureShape: [4], seed: seed + 1 });
    expect(Array.from(a.features)).not.toEqual(Array.from(b.features));
  });

  it('rejects bad options naming the field', async () => {
    await expectDataError(
      () => syntheticReader.read({ numSamples: 10, featureShape: [0], seed: 1 }),
      'DTRAIN_DATA_OPTIONS',
      'synthetic reader: featureShape: expected a non-empty array of positive integers, got [0]',
    );
    await expectDataError(
      () => syntheticReader.read({ numSamples: 10, featureShape: [3], numClasses: 1, seed: 1 }),
      'DTRAIN_DATA_OPTIONS',
      'synthetic reader: numClasses: expected an integer ≥ 2, got 1',
    );
    await expectDataError(
      () => syntheticReader.read({ numSamples: 10, featureShape: [3], seed: 1.5 }),
      'DTRAIN_DATA_OPTIONS',
      'synthetic reader: seed: expected a safe integer, got 1.5',
    );
  });
});
