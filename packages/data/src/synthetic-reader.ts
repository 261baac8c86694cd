import { checkInteger, checkNumber, checkObject, checkOneOf, checkShape } from './check-options.js';
import type { Dataset } from './dataset.js';
import { encodeLabels } from './labels.js';
import type { DatasetReader } from './reader-registry.js';
import { createRng, deriveSeed } from './rng.js';

/** Options of the `synthetic` reader: a learnable dataset generated from a seed. */
export interface SyntheticReaderOptions {
  /** Number of samples to generate. */
  readonly numSamples: number;
  /** Shape of one sample's features, e.g. [784] or [8, 8, 1]. */
  readonly featureShape: readonly number[];
  /** Number of classes (≥ 2) for classification; leave out for regression (one 'value' target). */
  readonly numClasses?: number;
  /** Seed of the hidden map and of every sample: same seed, same dataset. */
  readonly seed: number;
  /**
   * Standard deviation of the Gaussian noise added to the target (regression)
   * or to each class score before the argmax (classification); the clean
   * signal has a standard deviation of about 1. Default: 0.1.
   */
  readonly noise?: number;
  /** Label encoding for classification. Default: 'index'. */
  readonly labelEncoding?: 'index' | 'onehot';
  /**
   * Index of the first sample in the seed's endless stream. Sample k is the
   * same whatever numSamples is, so `{ firstSample: 10000 }` gives a test set
   * from the same hidden map, disjoint from the first 10000. Default: 0.
   */
  readonly firstSample?: number;
}

const WHERE = 'synthetic reader';
/** Salts keep the hidden map and the samples on unrelated random streams. */
const MAP_SALT = 1;
const SAMPLE_SALT = 2;

/**
 * Generates a dataset a model can learn, so benchmarks and tests can check
 * that loss falls: features are standard normal; a fixed random linear map W
 * (from the seed) gives class = argmax(x·W + noise) or target = x·w + b + noise.
 */
export const syntheticReader: DatasetReader<SyntheticReaderOptions> = {
  format: 'synthetic',
  read(input: SyntheticReaderOptions): Promise<Dataset> {
    // Generation is synchronous; a rejected promise keeps the reader contract.
    try {
      return Promise.resolve(generateSynthetic(input));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  },
};

/** The synchronous core of the synthetic reader. */
export function generateSynthetic(input: SyntheticReaderOptions): Dataset {
  const options = checkObject(input, WHERE);
  const numSamples = checkInteger(options['numSamples'], WHERE, 'numSamples', 0);
  const featureShape = checkShape(options['featureShape'], WHERE, 'featureShape');
  const numClasses = options['numClasses'] === undefined ? undefined : checkInteger(options['numClasses'], WHERE, 'numClasses', 2);
  const seed = checkInteger(options['seed'], WHERE, 'seed', Number.MIN_SAFE_INTEGER);
  const noise = options['noise'] === undefined ? 0.1 : checkNumber(options['noise'], WHERE, 'noise', 0, Number.MAX_VALUE);
  const labelEncoding = checkOneOf(options['labelEncoding'], WHERE, 'labelEncoding', ['index', 'onehot'] as const, 'index');
  const firstSample = options['firstSample'] === undefined ? 0 : checkInteger(options['firstSample'], WHERE, 'firstSample', 0);

  const featureSize = featureShape.reduce((a, b) => a * b, 1);
  const outputs = numClasses ?? 1;
  // Weights ~ N(0, 1/featureSize) give each score a standard deviation near 1.
  const mapRng = createRng(deriveSeed(seed, MAP_SALT));
  const weights = new Float64Array(featureSize * outputs);
  const weightScale = 1 / Math.sqrt(featureSize);
  for (let i = 0; i < weights.length; i++) weights[i] = mapRng.normal() * weightScale;
  const bias = mapRng.normal();

  const features = new Float32Array(numSamples * featureSize);
  const targets = new Float32Array(numSamples);
  const scores = new Float64Array(outputs);
  for (let s = 0; s < numSamples; s++) {
    const rng = createRng(deriveSeed(seed, SAMPLE_SALT, firstSample + s));
    const row = s * featureSize;
    scores.fill(0);
    for (let f = 0; f < featureSize; f++) {
      const x = Math.fround(rng.normal());
      features[row + f] = x;
      const w = f * outputs;
      for (let o = 0; o < outputs; o++) scores[o] = (scores[o] as number) + x * (weights[w + o] as number);
    }
    if (numClasses === undefined) {
      targets[s] = (scores[0] as number) + bias + noise * rng.normal();
    } else {
      let best = 0;
      let bestScore = -Infinity;
      for (let o = 0; o < outputs; o++) {
        const score = (scores[o] as number) + noise * rng.normal();
        if (score > bestScore) {
          bestScore = score;
          best = o;
        }
      }
      targets[s] = best;
    }
  }

  const encoding = numClasses === undefined ? 'value' : labelEncoding;
  const encoded = encodeLabels(targets, encoding, numClasses);
  return {
    numSamples,
    featureShape: [...featureShape],
    labelShape: encoded.labelShape,
    labelEncoding: encoding,
    numClasses,
    features,
    labels: encoded.labels,
    source: `synthetic(seed ${seed}, ${numClasses === undefined ? 'regression' : `${numClasses} classes`})`,
  };
}
