import { shapeSize } from './chunks.js';
import { DataError } from './data-error.js';
import type { Dataset, Normalisation, NormalisationStats } from './dataset.js';

/** {@link NormalisationStats} as plain JSON, to save beside a model for inference. */
export type NormalisationStatsJSON =
  | { readonly kind: 'none' }
  | { readonly kind: 'scale'; readonly scale: number }
  | { readonly kind: 'standardize'; readonly mean: number[]; readonly std: number[] };

/**
 * Fits a normalisation on training data only (validation and test data reuse
 * the result, or they would leak into training).
 * - scale: x / scale; scale defaults to the largest |x| seen (1 if all are 0).
 * - standardize: (x - mean) / std per feature; a constant feature gets std 1.
 */
export function fitNormalisation(train: Dataset, n: Normalisation): NormalisationStats {
  switch (n.kind) {
    case 'none':
      return { kind: 'none' };
    case 'scale': {
      if (n.scale !== undefined) {
        if (!(Number.isFinite(n.scale) && n.scale > 0)) {
          throw new DataError('DTRAIN_DATA_OPTIONS', `normalisation scale: expected a positive number, got ${String(n.scale)}`);
        }
        return { kind: 'scale', scale: n.scale };
      }
      let max = 0;
      for (const v of train.features) max = Math.max(max, Math.abs(v));
      return { kind: 'scale', scale: max === 0 ? 1 : max };
    }
    case 'standardize':
      return standardizeStats(train);
    default:
      throw new DataError('DTRAIN_DATA_OPTIONS', `normalisation kind: expected 'none', 'scale' or 'standardize', got ${JSON.stringify((n as { kind: unknown }).kind)}`);
  }
}

function standardizeStats(train: Dataset): NormalisationStats {
  const size = shapeSize(train.featureShape);
  // Float64 sums: float32 accumulation over 60k samples loses digits; two
  // passes avoid the cancellation of E[x²] - E[x]².
  const sum = new Float64Array(size);
  const { features, numSamples } = train;
  for (let s = 0; s < numSamples; s++) {
    const row = s * size;
    for (let f = 0; f < size; f++) sum[f] = (sum[f] as number) + (features[row + f] as number);
  }
  const mean = sum.map((v) => (numSamples === 0 ? 0 : v / numSamples));
  const squares = new Float64Array(size);
  for (let s = 0; s < numSamples; s++) {
    const row = s * size;
    for (let f = 0; f < size; f++) {
      const d = (features[row + f] as number) - (mean[f] as number);
      squares[f] = (squares[f] as number) + d * d;
    }
  }
  const std = squares.map((v) => {
    const sd = numSamples === 0 ? 0 : Math.sqrt(v / numSamples);
    // Below float32's range a std would divide by zero once stored.
    return Math.fround(sd) === 0 ? 1 : sd;
  });
  return { kind: 'standardize', mean: Float32Array.from(mean), std: Float32Array.from(std) };
}

/**
 * Normalises flat sample-major features (e.g. a batch for inference) into
 * `out` (default: a new array). Throws DTRAIN_DATA_STATS when per-feature
 * stats don't fit featureSize. The same as {@link normaliseBatch}.
 */
export function normaliseFeatures(
  features: Float32Array,
  featureSize: number,
  stats: NormalisationStats,
  out: Float32Array = new Float32Array(features.length),
): Float32Array {
  return normaliseBatch(features, featureSize, stats, out);
}

/**
 * Normalises a batch as read — bytes (idx ubyte, npy uint8, images) or
 * floats — straight into `out` (default: a new array), with no float copy of
 * the input in between: what a worker does to each batch it reads. Equal to
 * {@link normaliseFeatures} on `Float32Array.from(features)`. DTRAIN_DATA_STATS
 * when per-feature stats don't fit featureSize; DTRAIN_DATA_OPTIONS when
 * `out` is shorter than `features`.
 * @param out where to write: at least features.length values (a reused buffer); the first features.length are written.
 */
export function normaliseBatch(
  features: Uint8Array | Float32Array,
  featureSize: number,
  stats: NormalisationStats,
  out: Float32Array = new Float32Array(features.length),
): Float32Array {
  if (out.length < features.length) {
    throw new DataError('DTRAIN_DATA_OPTIONS', `normalise batch: out holds ${out.length} values, the batch ${features.length}; expected an out at least as long`);
  }
  switch (stats.kind) {
    case 'none':
      out.set(features);
      return out;
    case 'scale': {
      const inv = 1 / stats.scale;
      for (let i = 0; i < features.length; i++) out[i] = (features[i] as number) * inv;
      return out;
    }
    case 'standardize': {
      if (stats.mean.length !== featureSize || stats.std.length !== featureSize) {
        throw new DataError(
          'DTRAIN_DATA_STATS',
          `standardize stats hold ${stats.mean.length} means and ${stats.std.length} stds; the data has ${featureSize} features per sample`,
        );
      }
      const inv = stats.std.map((s) => 1 / s);
      for (let i = 0; i < features.length; i++) {
        const f = i % featureSize;
        out[i] = ((features[i] as number) - (stats.mean[f] as number)) * (inv[f] as number);
      }
      return out;
    }
  }
}

/** A new dataset with normalised features; labels are shared, not copied (datasets are read-only). */
export function applyNormalisation(ds: Dataset, stats: NormalisationStats): Dataset {
  return { ...ds, features: normaliseFeatures(ds.features, shapeSize(ds.featureShape), stats) };
}

/** Stats as JSON-able data (float32 values survive the round trip exactly). */
export function statsToJSON(stats: NormalisationStats): NormalisationStatsJSON {
  if (stats.kind !== 'standardize') return { ...stats };
  return { kind: 'standardize', mean: Array.from(stats.mean), std: Array.from(stats.std) };
}

/** Stats from JSON (e.g. saved with a model); malformed input is DTRAIN_DATA_STATS. */
export function statsFromJSON(json: unknown): NormalisationStats {
  const bad = (what: string): never => {
    throw new DataError('DTRAIN_DATA_STATS', `normalisation stats: ${what}`);
  };
  if (typeof json !== 'object' || json === null) return bad(`expected an object, got ${JSON.stringify(json)}`);
  const value = json as Record<string, unknown>;
  switch (value['kind']) {
    case 'none':
      return { kind: 'none' };
    case 'scale': {
      const scale = value['scale'];
      if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0) {
        return bad(`scale: expected a positive number, got ${JSON.stringify(scale)}`);
      }
      return { kind: 'scale', scale };
    }
    case 'standardize': {
      const numbers = (field: string): Float32Array => {
        const list = value[field];
        if (!Array.isArray(list) || !list.every((v) => typeof v === 'number' && Number.isFinite(v))) {
          return bad(`${field}: expected an array of finite numbers`);
        }
        return Float32Array.from(list as number[]);
      };
      const mean = numbers('mean');
      const std = numbers('std');
      if (mean.length !== std.length) bad(`mean has ${mean.length} entries but std has ${std.length}; expected equal lengths`);
      if (std.some((s) => !(s > 0))) bad('std: expected positive numbers');
      return { kind: 'standardize', mean, std };
    }
    default:
      return bad(`kind: expected 'none', 'scale' or 'standardize', got ${JSON.stringify(value['kind'])}`);
  }
}
