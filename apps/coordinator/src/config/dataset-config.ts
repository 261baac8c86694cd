/**
 * The `dataset:` section. The source's keys sit directly under `dataset:`
 * (`format: idx`, `images: …`), beside the keys that say what to do with the
 * data (split, normalisation, chunking); `test:` holds a second source.
 */
import type { Normalisation } from '@dtrain/data';
import { invalidField } from './config-error.js';
import { parseDataSource, sourceFields, type DataSourceConfig, type SourceContext } from './data-source-config.js';
import { parseNormalisation } from './normalisation-config.js';
import { FRACTION, NON_NEGATIVE_INT, POSITIVE_INT, checkShape, fieldPath, get, has, optionalInt, optionalNumber, optionalOneOf } from './validators.js';

export interface DatasetConfig {
  source: DataSourceConfig;
  /**
   * Reshape each sample's features to this (e.g. [28, 28, 1] for a CNN, [784]
   * for an MLP); the element count must match the data's. Default: the
   * data's own shape. For `format: synthetic`, `featureShape` under
   * `dataset:` is the generated shape, and for `format: images` the size
   * images are resized to; both live in `source` instead.
   */
  featureShape?: number[];
  /** Fraction of the data held out for validation, in [0, 1); default 0.1. */
  validationSplit: number;
  /** Optional separate test data: a second source, never trained on. */
  test?: DataSourceConfig;
  /** How features are normalised, fitted on the training split; default { kind: 'none' }. */
  normalisation: Normalisation;
  /** Samples per data chunk shipped to workers; default 1024. */
  chunkSize: number;
  /**
   * How workers get their samples. `ship`: the coordinator reads the data
   * and sends chunks over its connection (data only it can read). `shared`:
   * every worker reads its own samples from the same paths or http(s) URLs,
   * and the coordinator holds only an index. `auto` (default): `ship` when
   * the training data is at most {@link SHIP_LIMIT_BYTES} as float32,
   * `shared` otherwise (for the formats that can be read by sample).
   */
  access: DataAccess;
  /** Byte budget of each worker's sample cache with shared access; default 1 GiB. */
  cacheBytes: number;
  /**
   * Samples a shared-access job may skip because they do not parse or
   * decode (each counted in `dtrain_data_errors_total`); one more fails the
   * job naming it. Default 0: the first bad sample fails the job.
   */
  maxBadSamples: number;
}

export type DataAccess = 'ship' | 'shared' | 'auto';

/** `access: auto` ships datasets up to this many float32 bytes and shares larger ones. */
export const SHIP_LIMIT_BYTES = 512 * 1024 * 1024;

export const DATASET_DEFAULTS = { validationSplit: 0.1, chunkSize: 1024, access: 'auto', cacheBytes: 1024 * 1024 * 1024, maxBadSamples: 0 } as const;

const DATASET_KEYS = ['featureShape', 'validationSplit', 'normalise', 'normalize', 'test', 'chunkSize', 'access', 'cacheBytes', 'maxBadSamples'] as const;

export function parseDatasetConfig(raw: unknown, context: SourceContext): DatasetConfig {
  const { fields, format } = sourceFields(raw, 'dataset', DATASET_KEYS);
  const source = parseDataSource(fields, format, context);
  // For synthetic data the key was the generated shape, for images the size to resize to: read with the source.
  const reshape = format !== 'synthetic' && format !== 'images' && has(fields, 'featureShape');
  const featureShape = reshape ? checkShape(get(fields, 'featureShape'), fieldPath(fields, 'featureShape')) : undefined;
  const validationSplit = optionalNumber(fields, 'validationSplit', FRACTION, DATASET_DEFAULTS.validationSplit);
  const test = has(fields, 'test') ? parseTestSource(get(fields, 'test'), source, context) : undefined;
  const normalisation = parseNormalisation(...normalisationEntry(fields.values));
  const chunkSize = optionalInt(fields, 'chunkSize', POSITIVE_INT, DATASET_DEFAULTS.chunkSize);
  const access = optionalOneOf<DataAccess>(fields, 'access', ['ship', 'shared', 'auto'], DATASET_DEFAULTS.access);
  const cacheBytes = optionalInt(fields, 'cacheBytes', NON_NEGATIVE_INT, DATASET_DEFAULTS.cacheBytes);
  const maxBadSamples = optionalInt(fields, 'maxBadSamples', NON_NEGATIVE_INT, DATASET_DEFAULTS.maxBadSamples);
  return {
    source,
    ...(featureShape === undefined ? {} : { featureShape }),
    validationSplit,
    ...(test === undefined ? {} : { test }),
    normalisation,
    chunkSize,
    access,
    cacheBytes,
    maxBadSamples,
  };
}

function parseTestSource(raw: unknown, train: DataSourceConfig, context: SourceContext): DataSourceConfig {
  const { fields, format } = sourceFields(raw, 'dataset.test', []);
  const test = parseDataSource(fields, format, context);
  // Same seed, same hidden task: without this the test set would replay the first training samples.
  if (test.format === 'synthetic' && train.format === 'synthetic' && test.seed === train.seed && !has(fields, 'firstSample')) {
    return { ...test, firstSample: train.firstSample + train.numSamples };
  }
  // Test images must reach the model at the training size; saying it twice is easy to forget.
  if (test.format === 'images' && train.format === 'images' && test.featureShape === undefined && train.featureShape !== undefined) {
    return { ...test, featureShape: train.featureShape };
  }
  return test;
}

/** The normalisation value and the key it was written under; both spellings at once is ambiguous. */
function normalisationEntry(values: Readonly<Record<string, unknown>>): [unknown, string] {
  const british = values['normalise'] ?? undefined;
  const american = values['normalize'] ?? undefined;
  if (british !== undefined && american !== undefined) {
    throw invalidField('dataset.normalize', 'duplicate of "normalise": give only one of the two spellings');
  }
  return american === undefined ? [british, 'dataset.normalise'] : [american, 'dataset.normalize'];
}
