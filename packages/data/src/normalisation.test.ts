import { describe, expect, it } from 'vitest';
import type { Dataset, NormalisationStats } from './dataset.js';
import { applyNormalisation, fitNormalisation, normaliseBatch, normaliseFeatures, statsFromJSON, statsToJSON } from './normalisation.js';
import { createRng } from './rng.js';
import { expectDataError, freshSeed } from './test-support.testkit.js';

function dataset(features: number[], featureSize: number): Dataset {
  return {
    numSamples: features.length / featureSize,
    featureShape: [featureSize],
    labelShape: [1],
    labelEncoding: 'value',
    numClasses: undefined,
    features: Float32Array.from(features),
    labels: new Float32Array(features.length / featureSize),
    source: 'test',
  };
}

describe('fitNormalisation and applyNormalisation', () => {
  it('scales by the largest absolute value by default, or by the given scale', () => {
    const ds = dataset([0, 51, -255, 102], 2);
    expect(fitNormalisation(ds, { kind: 'scale' })).toEqual({ kind: 'scale', scale: 255 });
    const stats = fitNormalisation(ds, { kind: 'scale', scale: 51 });
    expect(Array.from(applyNormalisation(ds, stats).features)).toEqual([0, 1, -5, 2]);
    expect(fitNormalisation(dataset([0, 0], 1), { kind: 'scale' })).toEqual({ kind: 'scale', scale: 1 });
  });

  it('standardizes any training data to mean 0 and std 1 per feature', () => {
    const rng = createRng(freshSeed());
    const featureSize = 1 + rng.nextInt(6);
    const n = 2 + rng.nextInt(300);
    const centre = Array.from({ length: featureSize }, () => rng.normal() * 100);
    const spread = Array.from({ length: featureSize }, () => 0.1 + rng.next() * 50);
    const values = Array.from({ length: n * featureSize }, (_, i) => (centre[i % featureSize] as number) + rng.normal() * (spread[i % featureSize] as number));
    const ds = dataset(values, featureSize);
    const stats = fitNormalisation(ds, { kind: 'standardize' });
    const out = applyNormalisation(ds, stats);
    for (let f = 0; f < featureSize; f++) {
      const column = Array.from({ length: n }, (_, s) => out.features[s * featureSize + f] as number);
      const mean = column.reduce((a, b) => a + b, 0) / n;
      const variance = column.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
      expect(Math.abs(mean)).toBeLessThan(1e-4);
      expect(Math.abs(variance - 1)).toBeLessThan(1e-4);
    }
    expect(out.labels).toBe(ds.labels);
    expect(out.features).not.toBe(ds.features);
  });

  it('gives a constant feature std 1 instead of dividing by zero', () => {
    const stats = fitNormalisation(dataset([3.3, 1, 3.3, 2, 3.3, 3], 2), { kind: 'standardize' });
    expect(stats.kind === 'standardize' && Array.from(stats.std)[0]).toBe(1);
    const out = applyNormalisation(dataset([3.3, 1], 2), stats);
    expect(out.features[0]).toBe(0);
  });

  it('re-applies training stats to other data without refitting', () => {
    const train = dataset([0, 10], 1);
    const stats = fitNormalisation(train, { kind: 'standardize' });
    expect(Array.from(applyNormalisation(dataset([20], 1), stats).features)).toEqual([3]);
  });

  it('rejects stats that do not fit the data and a bad scale', async () => {
    const stats: NormalisationStats = { kind: 'standardize', mean: new Float32Array(3), std: new Float32Array(3).fill(1) };
    await expectDataError(() => normaliseFeatures(new Float32Array(4), 2, stats), 'DTRAIN_DATA_STATS', 'standardize stats hold 3 means and 3 stds; the data has 2 features per sample');
    await expectDataError(() => fitNormalisation(dataset([1], 1), { kind: 'scale', scale: 0 }), 'DTRAIN_DATA_OPTIONS', 'normalisation scale: expected a positive number, got 0');
  });
});

describe('normaliseBatch', () => {
  it('normalises bytes exactly as normaliseFeatures normalises the same values as floats, and near (x - mean) / std', () => {
    const rng = createRng(freshSeed());
    for (let round = 0; round < 30; round++) {
      const featureSize = 1 + rng.nextInt(6);
      const bytes = Uint8Array.from({ length: featureSize * rng.nextInt(20) }, () => rng.nextInt(256));
      const mean = Float32Array.from({ length: featureSize }, () => rng.next() * 255);
      const std = Float32Array.from({ length: featureSize }, () => 0.5 + rng.next() * 100);
      const all: NormalisationStats[] = [{ kind: 'none' }, { kind: 'scale', scale: 1 + rng.next() * 300 }, { kind: 'standardize', mean, std }];
      for (const stats of all) {
        const fromBytes = normaliseBatch(bytes, featureSize, stats);
        expect(Array.from(fromBytes)).toEqual(Array.from(normaliseFeatures(Float32Array.from(bytes), featureSize, stats)));
        bytes.forEach((x, i) => {
          const f = i % featureSize;
          const expected = stats.kind === 'none' ? x : stats.kind === 'scale' ? x / stats.scale : (x - (mean[f] as number)) / (std[f] as number);
          expect(Math.abs((fromBytes[i] as number) - expected)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected)));
        });
      }
    }
  });

  it('writes into a reused buffer at least as long as the batch, and refuses a shorter one', async () => {
    const out = new Float32Array(6).fill(-1);
    const result = normaliseBatch(Uint8Array.from([0, 128, 255, 64]), 2, { kind: 'scale', scale: 255 }, out);
    expect(result).toBe(out);
    expect(Array.from(out)).toEqual([0, Math.fround(128 / 255), 1, Math.fround(64 / 255), -1, -1]);
    await expectDataError(
      () => normaliseBatch(new Uint8Array(4), 2, { kind: 'none' }, new Float32Array(3)),
      'DTRAIN_DATA_OPTIONS',
      'normalise batch: out holds 3 values, the batch 4; expected an out at least as long',
    );
  });
});

describe('statsToJSON and statsFromJSON', () => {
  it('round-trips any stats exactly through JSON text', () => {
    const rng = createRng(freshSeed());
    const size = 1 + rng.nextInt(50);
    const stats: NormalisationStats = {
      kind: 'standardize',
      mean: Float32Array.from({ length: size }, () => rng.normal() * 1e3),
      std: Float32Array.from({ length: size }, () => 1e-3 + rng.next()),
    };
    const back = statsFromJSON(JSON.parse(JSON.stringify(statsToJSON(stats))));
    expect(back).toEqual(stats);
    expect(statsFromJSON(JSON.parse(JSON.stringify(statsToJSON({ kind: 'scale', scale: 255 }))))).toEqual({ kind: 'scale', scale: 255 });
    expect(statsFromJSON({ kind: 'none' })).toEqual({ kind: 'none' });
  });

  it('rejects malformed stats', async () => {
    await expectDataError(() => statsFromJSON({ kind: 'scale', scale: -1 }), 'DTRAIN_DATA_STATS', 'normalisation stats: scale: expected a positive number, got -1');
    await expectDataError(() => statsFromJSON({ kind: 'standardize', mean: [0], std: [1, 2] }), 'DTRAIN_DATA_STATS', 'normalisation stats: mean has 1 entries but std has 2; expected equal lengths');
    await expectDataError(() => statsFromJSON({ kind: 'standardize', mean: [0], std: [0] }), 'DTRAIN_DATA_STATS', 'normalisation stats: std: expected positive numbers');
    await expectDataError(() => statsFromJSON({ kind: 'minmax' }), 'DTRAIN_DATA_STATS', `normalisation stats: kind: expected 'none', 'scale' or 'standardize', got "minmax"`);
    await expectDataError(() => statsFromJSON(null), 'DTRAIN_DATA_STATS', 'normalisation stats: expected an object, got null');
  });
});
