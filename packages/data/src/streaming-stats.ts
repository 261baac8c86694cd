import { checkInteger } from './check-options.js';
import { DataError } from './data-error.js';
import type { NormalisationStats } from './dataset.js';
import type { IndexedDataset } from './indexed-dataset.js';

/** Options of {@link streamingStats}. */
export interface StreamingStatsOptions {
  /**
   * Fit on this many samples, evenly spaced over the whole dataset (so every
   * shard contributes, even when shards are sorted by class). Default: all.
   */
  readonly sampleLimit?: number;
  /** Samples read per batch: what is held at once. Default 1024. */
  readonly batchSize?: number;
}

const WHERE = 'streaming stats';

/**
 * The normalisation statistics {@link fitNormalisation} would fit on the
 * whole dataset (scale: the largest |x|, 1 if all are 0; standardize: mean
 * and std per feature, std 1 for a constant feature), computed batch by
 * batch without holding the dataset. Standardize merges each batch's mean
 * and sum of squared deviations in float64 (Chan et al.), which avoids the
 * cancellation of E[x²] − E[x]² as the two-pass fit does. Samples the
 * source reports bad (a record that does not parse, an image that does not
 * decode) are left out: the stats are those of the samples that can be read.
 */
export async function streamingStats(
  source: IndexedDataset,
  kind: 'scale' | 'standardize',
  options: StreamingStatsOptions = {},
): Promise<NormalisationStats> {
  if (kind !== 'scale' && kind !== 'standardize') {
    throw new DataError('DTRAIN_DATA_OPTIONS', `${WHERE}: kind: expected 'scale' or 'standardize', got ${JSON.stringify(kind)}`);
  }
  const limit = options.sampleLimit === undefined ? source.numSamples : checkInteger(options.sampleLimit, WHERE, 'sampleLimit', 1);
  const batchSize = options.batchSize === undefined ? 1024 : checkInteger(options.batchSize, WHERE, 'batchSize', 1);
  const total = Math.min(limit, source.numSamples);
  const size = source.featureShape.reduce((a, b) => a * b, 1);
  const idAt = (i: number): number => (total === source.numSamples ? i : Math.floor((i * source.numSamples) / total));

  let max = 0;
  let count = 0;
  const mean = new Float64Array(size);
  const m2 = new Float64Array(size);
  const batchMean = new Float64Array(size);
  const batchM2 = new Float64Array(size);
  for (let start = 0; start < total; start += batchSize) {
    const ids = Uint32Array.from({ length: Math.min(batchSize, total - start) }, (_, k) => idAt(start + k));
    const { features, bad } = await source.read(ids);
    // A sample that could not be read is zeros in the batch: it is left out, not counted as zeros.
    const skip = new Uint8Array(ids.length);
    for (const { position } of bad) skip[position] = 1;
    const b = ids.length - bad.length;
    if (kind === 'scale') {
      for (let s = 0; s < ids.length; s++) {
        if (skip[s] === 1) continue;
        for (let f = s * size; f < (s + 1) * size; f++) max = Math.max(max, Math.abs(features[f] as number));
      }
      continue;
    }
    if (b === 0) continue;
    batchMean.fill(0);
    batchM2.fill(0);
    for (let s = 0; s < ids.length; s++) {
      if (skip[s] === 1) continue;
      for (let f = 0; f < size; f++) batchMean[f] = (batchMean[f] as number) + (features[s * size + f] as number);
    }
    for (let f = 0; f < size; f++) batchMean[f] = (batchMean[f] as number) / b;
    for (let s = 0; s < ids.length; s++) {
      if (skip[s] === 1) continue;
      for (let f = 0; f < size; f++) {
        const d = (features[s * size + f] as number) - (batchMean[f] as number);
        batchM2[f] = (batchM2[f] as number) + d * d;
      }
    }
    const merged = count + b;
    for (let f = 0; f < size; f++) {
      const delta = (batchMean[f] as number) - (mean[f] as number);
      mean[f] = (mean[f] as number) + (delta * b) / merged;
      m2[f] = (m2[f] as number) + (batchM2[f] as number) + (delta * delta * count * b) / merged;
    }
    count = merged;
  }
  if (kind === 'scale') return { kind: 'scale', scale: max === 0 ? 1 : max };
  const std = m2.map((v) => {
    const sd = count === 0 ? 0 : Math.sqrt(v / count);
    // Below float32's range a std would divide by zero once stored.
    return Math.fround(sd) === 0 ? 1 : sd;
  });
  return { kind: 'standardize', mean: Float32Array.from(mean), std: Float32Array.from(std) };
}
