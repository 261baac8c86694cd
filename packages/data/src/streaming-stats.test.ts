import { describe, expect, it } from 'vitest';
import type { Dataset, NormalisationStats } from './dataset.js';
import { encodeIdx } from './idx-format.js';
import { idxReader } from './idx-reader.js';
import { jsonlReader } from './jsonl-reader.js';
import { fitNormalisation } from './normalisation.js';
import { openIndexed } from './open-indexed.js';
import { createRng } from './rng.js';
import { subsetDataset } from './splits.js';
import { streamingStats } from './streaming-stats.js';
import { expectDataError, freshSeed, useTempDir } from './test-support.testkit.js';

const temp = useTempDir();

function expectStatsClose(actual: NormalisationStats, expected: NormalisationStats): void {
  expect(actual.kind).toBe(expected.kind);
  if (actual.kind === 'scale' && expected.kind === 'scale') expect(actual.scale).toBe(expected.scale);
  if (actual.kind === 'standardize' && expected.kind === 'standardize') {
    expect(actual.mean.length).toBe(expected.mean.length);
    for (let f = 0; f < actual.mean.length; f++) {
      const tolerance = (x: number): number => 1e-5 * Math.max(1, Math.abs(x));
      expect(Math.abs((actual.mean[f] as number) - (expected.mean[f] as number)), `mean[${f}]`).toBeLessThanOrEqual(tolerance(expected.mean[f] as number));
      expect(Math.abs((actual.std[f] as number) - (expected.std[f] as number)), `std[${f}]`).toBeLessThanOrEqual(tolerance(expected.std[f] as number));
    }
  }
}

/** Two IDX shards of bytes with a constant feature and one with a large offset (where E[x²] − E[x]² would lose digits). */
async function idxShards(seed: number): Promise<{ images: string[]; labels: string[] }> {
  const rng = createRng(seed);
  const images: string[] = [];
  const labels: string[] = [];
  for (const s of [0, 1]) {
    const n = 50 + rng.nextInt(200);
    const values = Array.from({ length: n * 6 }, (_, i) => (i % 6 === 0 ? 7 : i % 6 === 1 ? 1e6 + rng.normal() : rng.normal() * 40));
    images.push(await temp.write(`stats-${seed}-x${s}.idx`, encodeIdx(0x0d, [n, 2, 3], values)));
    labels.push(await temp.write(`stats-${seed}-y${s}.idx`, encodeIdx(0x08, [n], Array.from({ length: n }, () => rng.nextInt(3)))));
  }
  return { images, labels };
}

describe('streamingStats', () => {
  it('equals fitNormalisation on the whole dataset, in batches smaller than it (idx float)', async () => {
    const files = await idxShards(freshSeed());
    const whole = await idxReader.read(files);
    const indexed = await openIndexed('idx', files);
    for (const kind of ['scale', 'standardize'] as const) {
      expectStatsClose(await streamingStats(indexed, kind, { batchSize: 37 }), fitNormalisation(whole, { kind }));
    }
    await indexed.close();
  });

  it('equals fitNormalisation on bytes that stay bytes (idx ubyte) and on JSONL', async () => {
    const rng = createRng(freshSeed());
    const n = 300;
    const images = await temp.write('stats-u8.idx', encodeIdx(0x08, [n, 4], Array.from({ length: n * 4 }, () => rng.nextInt(256))));
    const labels = await temp.write('stats-u8-labels.idx', encodeIdx(0x08, [n], Array.from({ length: n }, (_, i) => i % 2)));
    const jsonl = await temp.write('stats.jsonl', Array.from({ length: n }, () => JSON.stringify({ x: [rng.normal(), rng.normal() * 1e3], y: rng.nextInt(2) })).join('\n'));
    const cases: [Dataset, Awaited<ReturnType<typeof openIndexed>>][] = [
      [await idxReader.read({ images, labels }), await openIndexed('idx', { images, labels })],
      [await jsonlReader.read({ path: jsonl, featureField: 'x', labelField: 'y' }), await openIndexed('jsonl', { path: jsonl, featureField: 'x', labelField: 'y' })],
    ];
    for (const [whole, indexed] of cases) {
      for (const kind of ['scale', 'standardize'] as const) {
        expectStatsClose(await streamingStats(indexed, kind, { batchSize: 64 }), fitNormalisation(whole, { kind }));
      }
      await indexed.close();
    }
  });

  it('with sampleLimit, fits evenly spaced samples from every shard', async () => {
    const files = await idxShards(freshSeed());
    const whole = await idxReader.read(files);
    const indexed = await openIndexed('idx', files);
    const limit = 40;
    const ids = Array.from({ length: limit }, (_, i) => Math.floor((i * whole.numSamples) / limit));
    expect(ids.some((id) => id >= (indexed.shards[0]?.numSamples ?? 0))).toBe(true);
    const stats = await streamingStats(indexed, 'standardize', { sampleLimit: limit, batchSize: 16 });
    expectStatsClose(stats, fitNormalisation(subsetDataset(whole, ids), { kind: 'standardize' }));
    await indexed.close();
  });

  it('rejects a bad kind or sampleLimit with DTRAIN_DATA_OPTIONS', async () => {
    const files = await idxShards(1);
    const indexed = await openIndexed('idx', files);
    await expectDataError(() => streamingStats(indexed, 'none' as 'scale'), 'DTRAIN_DATA_OPTIONS', `streaming stats: kind: expected 'scale' or 'standardize', got "none"`);
    await expectDataError(() => streamingStats(indexed, 'scale', { sampleLimit: 0 }), 'DTRAIN_DATA_OPTIONS', 'streaming stats: sampleLimit: expected an integer ≥ 1, got 0');
    await indexed.close();
  });
});
