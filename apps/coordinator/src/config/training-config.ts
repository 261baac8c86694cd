/**
 * The `training:` section: how long, in what batches, with which optimizer
 * and loss.
 */
import type { LossName } from '@dtrain/engine';
import type { OptimizerConfig } from '@dtrain/parameter-server';
import { invalidField } from './config-error.js';
import { parseOptimizerConfig } from './optimizer-config.js';
import {
  ANY_INT,
  POSITIVE_INT,
  arrayOf,
  get,
  has,
  indexPath,
  objectWithKeys,
  oneOf,
  optionalBoolean,
  optionalInt,
  optionalObjectWithKeys,
  optionalOneOf,
  requireInt,
  requireOneOf,
} from './validators.js';

export type MetricName = 'accuracy';

export interface TrainingConfig {
  /** Passes over the training split; integer >= 1, required. */
  epochs: number;
  /** Samples per batch per worker (a step sees batchSize × workers); integer >= 1, required. */
  batchSize: number;
  /** Optimizer and its tfjs hyper-parameters; required. */
  optimizer: OptimizerConfig;
  /** Required. */
  loss: LossName;
  /** Reported each epoch; default ['accuracy'] for classification losses, [] for meanSquaredError. */
  metrics: MetricName[];
  /** Seeds the validation split, every epoch's shuffle and the initial weights; integer, default 42. */
  seed: number;
  /**
   * Shuffle the training samples every epoch (seeded by `seed`); default
   * true. false hands out every epoch in sample order (batches still go to
   * whichever worker is free; each sample is still applied exactly once).
   */
  shuffle: boolean;
  /**
   * How the learning rate follows the number of workers: 'linear' multiplies
   * it by workers / minWorkers (the "linear scaling rule" for a global batch
   * that grows with the workers); default 'none'.
   */
  scaleLearningRate: 'linear' | 'none';
  /** What a diverging job does; see NonFiniteConfig. */
  nonFinite: NonFiniteConfig;
}

/**
 * Divergence: a step in which no push was finite (every worker's loss or
 * gradients NaN/±Infinity) applies nothing. After `maxConsecutiveSteps` such
 * steps in a row the job either fails with DTRAIN_JOB_NON_FINITE ('fail',
 * the default: a diverged job never sits there retrying) or skips that
 * step's batches ('skip': marked done without being applied, counted in
 * summary.json, and training goes on).
 */
export interface NonFiniteConfig {
  /** Integer ≥ 1; default 10. */
  maxConsecutiveSteps: number;
  action: 'fail' | 'skip';
}

export const NON_FINITE_DEFAULTS: NonFiniteConfig = { maxConsecutiveSteps: 10, action: 'fail' };

export const LOSS_NAMES: readonly LossName[] = [
  'sparseCategoricalCrossentropy',
  'categoricalCrossentropy',
  'binaryCrossentropy',
  'meanSquaredError',
];

const METRIC_NAMES: readonly MetricName[] = ['accuracy'];

/** Losses whose targets are values, not classes: accuracy means nothing for them. */
const REGRESSION_LOSSES: readonly LossName[] = ['meanSquaredError'];

export const DEFAULT_SEED = 42;

const TRAINING_KEYS = ['epochs', 'batchSize', 'optimizer', 'loss', 'metrics', 'seed', 'shuffle', 'scaleLearningRate', 'nonFinite'] as const;
const NON_FINITE_KEYS = ['maxConsecutiveSteps', 'action'] as const;

export function isRegressionLoss(loss: LossName): boolean {
  return REGRESSION_LOSSES.includes(loss);
}

export function parseTrainingConfig(raw: unknown): TrainingConfig {
  const fields = objectWithKeys(raw, 'training', TRAINING_KEYS);
  const epochs = requireInt(fields, 'epochs', POSITIVE_INT);
  const batchSize = requireInt(fields, 'batchSize', POSITIVE_INT);
  const optimizer = parseOptimizerConfig(get(fields, 'optimizer'));
  const loss = requireOneOf(fields, 'loss', LOSS_NAMES);
  const metrics = has(fields, 'metrics') ? parseMetrics(get(fields, 'metrics'), loss) : isRegressionLoss(loss) ? [] : ['accuracy' as const];
  const seed = optionalInt(fields, 'seed', ANY_INT, DEFAULT_SEED);
  const shuffle = optionalBoolean(fields, 'shuffle', true);
  const scaleLearningRate = optionalOneOf(fields, 'scaleLearningRate', ['none', 'linear'], 'none');
  const nonFinite = parseNonFinite(get(fields, 'nonFinite'));
  return { epochs, batchSize, optimizer, loss, metrics, seed, shuffle, scaleLearningRate, nonFinite };
}

function parseNonFinite(raw: unknown): NonFiniteConfig {
  const fields = optionalObjectWithKeys(raw, 'training.nonFinite', NON_FINITE_KEYS);
  return {
    maxConsecutiveSteps: optionalInt(fields, 'maxConsecutiveSteps', POSITIVE_INT, NON_FINITE_DEFAULTS.maxConsecutiveSteps),
    action: optionalOneOf(fields, 'action', ['fail', 'skip'], NON_FINITE_DEFAULTS.action),
  };
}

function parseMetrics(value: unknown, loss: LossName): MetricName[] {
  const seen = new Set<MetricName>();
  const metrics = arrayOf(value, 'training.metrics', { of: `metric names (${METRIC_NAMES.join(', ')})` }, (v, at) => {
    const metric = oneOf(v, at, METRIC_NAMES);
    if (seen.has(metric)) throw invalidField(at, `duplicate of "${metric}"`);
    seen.add(metric);
    return metric;
  });
  const accuracy = metrics.indexOf('accuracy');
  if (accuracy >= 0 && isRegressionLoss(loss)) {
    throw invalidField(indexPath('training.metrics', accuracy), `"accuracy" needs a classification loss, not ${loss}`);
  }
  return metrics;
}
