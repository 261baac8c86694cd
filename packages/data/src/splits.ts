import { gatherBatch, sampleSource, shapeSize } from './chunks.js';
import { DataError } from './data-error.js';
import type { Dataset } from './dataset.js';
import { createRng, deriveSeed } from './rng.js';

/** Keeps the split's random stream apart from epoch shuffles drawn from the same job seed. */
const SPLIT_SALT = 0x5eed;

/**
 * A new dataset of the given samples, in the given order (repeats allowed),
 * with copied rows. An index outside the dataset is DTRAIN_DATA_RANGE.
 */
export function subsetDataset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const { x, y } = gatherBatch(sampleSource(ds), indices);
  return { ...ds, numSamples: indices.length, features: x, labels: y };
}

/**
 * Samples [start, start + count) as a dataset whose arrays are views of the
 * original's (no copy: cheap enough to cut chunks for workers). Mind
 * `byteOffset` when sending its buffers.
 */
export function sliceSamples(ds: Dataset, start: number, count: number): Dataset {
  const valid = Number.isSafeInteger(start) && Number.isSafeInteger(count) && start >= 0 && count >= 0;
  if (!valid || start + count > ds.numSamples) {
    throw new DataError(
      'DTRAIN_DATA_RANGE',
      `${ds.source}: samples [${start}, ${start + count}) are outside the dataset; expected a range within [0, ${ds.numSamples})`,
    );
  }
  const featureSize = shapeSize(ds.featureShape);
  const labelSize = shapeSize(ds.labelShape);
  return {
    ...ds,
    numSamples: count,
    features: ds.features.subarray(start * featureSize, (start + count) * featureSize),
    labels: ds.labels.subarray(start * labelSize, (start + count) * labelSize),
  };
}

/** A dataset split into training and validation parts. */
export interface ValidationSplit {
  readonly train: Dataset;
  readonly validation: Dataset;
}

/**
 * Holds out round(fraction × numSamples) samples, chosen by a permutation
 * seeded with `seed`: the same (dataset, fraction, seed) always gives the same
 * split. Both parts keep the original sample order. The samples are those
 * {@link splitIds} names.
 * @param fraction share of samples for validation, in [0, 1); 0 gives an empty validation set.
 */
export function splitValidation(ds: Dataset, fraction: number, seed: number): ValidationSplit {
  const { train, validation } = splitIds(ds.numSamples, fraction, seed);
  return { train: subsetDataset(ds, train), validation: subsetDataset(ds, validation) };
}

/**
 * The sample ids of a training/validation split of `numSamples` samples,
 * each part sorted ascending: what {@link splitValidation} takes, without the
 * dataset (an indexed dataset is split by id and read by sample). The same
 * (numSamples, fraction, seed) always gives the same ids.
 * @param fraction share of samples for validation, in [0, 1): round(fraction × numSamples) of them.
 */
export function splitIds(numSamples: number, fraction: number, seed: number): { readonly train: Uint32Array; readonly validation: Uint32Array } {
  if (typeof fraction !== 'number' || !(fraction >= 0 && fraction < 1)) {
    throw new DataError('DTRAIN_DATA_OPTIONS', `validation fraction: expected a number in [0, 1), got ${String(fraction)}`);
  }
  if (!Number.isSafeInteger(numSamples) || numSamples < 0 || numSamples > 0xffff_ffff) {
    throw new DataError('DTRAIN_DATA_OPTIONS', `validation split: numSamples: expected an integer in [0, 2^32), got ${String(numSamples)}`);
  }
  const numValidation = Math.round(fraction * numSamples);
  const perm = createRng(deriveSeed(seed, SPLIT_SALT)).permutation(numSamples);
  // A typed array sorts numerically.
  return { train: perm.slice(numValidation).sort(), validation: perm.slice(0, numValidation).sort() };
}
