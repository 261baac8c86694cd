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
  /**
   * H: batches each worker trains on locally per round (local SGD, DiLoCo);
   * default 1, synchronous data parallelism. With H > 1 a worker takes H
   * steps of `optimizer` (the inner optimizer, its state on the worker) on
   * H batches of its own, then pushes its pseudo-gradient (weights at the
   * round's start minus weights now); the parameter server averages them
   * (sample weighted) and applies `outerOptimizer`. A step of the job
   * (metrics, checkpoint.everySteps, deadlines) is then a round. The last
   * round of an epoch is shorter when too few batches are left to give every
   * worker H.
   */
  localSteps: number;
  /** The parameter server's optimizer when localSteps > 1; default momentum 0.9 with Nesterov, learning rate 0.7 (DiLoCo's). Unused when localSteps is 1. */
  outerOptimizer: OptimizerConfig;
  /** localSteps > 1: 'keep' (default) carries the inner optimizer's state over from round to round on each worker, 'reset' starts it afresh every round. */
  innerState: 'keep' | 'reset';
}

/** DiLoCo's outer optimizer (Douillard et al. 2023): SGD with Nesterov momentum 0.9 at learning rate 0.7. */
export const DEFAULT_OUTER_OPTIMIZER: OptimizerConfig = { name: 'momentum', learningRate: 0.7, momentum: 0.9, useNesterov: true };

/** The optimizer the parameter server runs: the job's, or with local SGD the outer one. */
export function serverOptimizer(training: Pick<TrainingConfig, 'localSteps' | 'optimizer' | 'outerOptimizer'>): OptimizerConfig {
  return training.localSteps > 1 ? training.outerOptimizer : training.optimizer;
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

const TRAINING_KEYS = ['epochs', 'batchSize', 'optimizer', 'loss', 'metrics', 'seed', 'shuffle', 'scaleLearningRate', 'nonFinite', 'localSteps', 'outerOptimizer', 'innerState'] as const;
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
  const localSteps = optionalInt(fields, 'localSteps', POSITIVE_INT, 1);
  const outerOptimizer = has(fields, 'outerOptimizer') ? parseOptimizerConfig(get(fields, 'outerOptimizer'), 'training.outerOptimizer') : DEFAULT_OUTER_OPTIMIZER;
  const innerState = optionalOneOf(fields, 'innerState', ['keep', 'reset'], 'keep');
  if (localSteps > 1 && scaleLearningRate === 'linear') {
    // The rule scales a synchronous step's rate with its global batch; a round's inner steps see one worker's batch whatever the job's size.
    throw invalidField('training.scaleLearningRate', `"linear" scales a synchronous step's learning rate; with training.localSteps ${localSteps} > 1 leave it "none"`);
  }
  return { epochs, batchSize, optimizer, loss, metrics, seed, shuffle, scaleLearningRate, nonFinite, localSteps, outerOptimizer, innerState };
}

/**
 * With local SGD a round hands each worker up to `localSteps` batches; an
 * epoch with fewer batches than that cannot fill even one worker's round.
 * (An epoch that merely does not divide evenly ends with a shorter round.)
 * @throws ConfigError naming training.localSteps.
 */
export function checkLocalStepsFit(training: Pick<TrainingConfig, 'localSteps' | 'batchSize'>, numTrainSamples: number): void {
  const batches = Math.ceil(numTrainSamples / training.batchSize);
  if (training.localSteps > 1 && training.localSteps > batches) {
    throw invalidField(
      'training.localSteps',
      `${training.localSteps} batches per round, but an epoch has only ${batches} (${numTrainSamples} training samples in batches of ${training.batchSize}); use at most ${batches}`,
    );
  }
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
