/**
 * A whole job config, validated, with defaults filled in and paths made
 * absolute. {@link parseJobConfig} is pure apart from checking (and, for a
 * topology, reading) the files the config names, so it serves configs read
 * from disk and configs sent over the wire alike.
 */
import { resolve } from 'node:path';
import { ConfigError, invalidField } from './config-error.js';
import { parseCheckpointConfig, type CheckpointConfig } from './checkpoint-config.js';
import { parseClusterConfig, type ClusterConfig } from './cluster-config.js';
import { parseDatasetConfig, type DatasetConfig } from './dataset-config.js';
import { parseModelConfig, type ModelConfig } from './model-config.js';
import { isRegressionLoss, parseTrainingConfig, type TrainingConfig } from './training-config.js';
import { describeValue, get, isPlainObject, objectWithKeys } from './validators.js';

export interface JobConfig {
  /** [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 40 characters: used for run dirs and Kubernetes names. */
  name: string;
  /** Absolute directory of the config file; relative paths resolve against it. */
  configDir: string;
  /** What to train; required. */
  model: ModelConfig;
  /** What to train it on; required. */
  dataset: DatasetConfig;
  /** How long and with which optimizer and loss; required. */
  training: TrainingConfig;
  /** Workers and timeouts; every key defaults. */
  cluster: ClusterConfig;
  /** Where and how often to checkpoint; every key defaults. */
  checkpoint: CheckpointConfig;
}

const JOB_KEYS = ['name', 'model', 'dataset', 'training', 'cluster', 'checkpoint'] as const;

/** A DNS-1123 label, shortened so suffixes like `-worker-12` still fit Kubernetes' 63. */
const NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_NAME_LENGTH = 40;

/**
 * Validates a parsed config document.
 * @param raw the document (from YAML / JSON, or received over the wire).
 * @param configDir the folder relative paths resolve against.
 * @param sourceName names the config in errors: its file path, or e.g. `job from 10.0.0.7`.
 * @throws ConfigError (DTRAIN_CONFIG_INVALID) naming the first bad field; its `source` is `sourceName`.
 */
export function parseJobConfig(raw: unknown, configDir: string, sourceName: string): JobConfig {
  try {
    return parseDocument(raw, resolve(configDir), sourceName);
  } catch (error) {
    if (error instanceof ConfigError && error.source === undefined) {
      throw new ConfigError(error.code, error.message, { ...(error.field === undefined ? {} : { field: error.field }), source: sourceName });
    }
    throw error;
  }
}

function parseDocument(raw: unknown, configDir: string, sourceName: string): JobConfig {
  if (!isPlainObject(raw)) {
    throw new ConfigError('DTRAIN_CONFIG_INVALID', `${sourceName}: expected an object with keys ${JOB_KEYS.join(', ')}, got ${describeValue(raw)}`);
  }
  const fields = objectWithKeys(raw, '', JOB_KEYS);
  const name = parseName(get(fields, 'name'));
  const model = parseModelConfig(get(fields, 'model'), configDir);
  // Training before dataset: the loss decides what CSV labels default to.
  const training = parseTrainingConfig(get(fields, 'training'));
  const dataset = parseDatasetConfig(get(fields, 'dataset'), { configDir, regression: isRegressionLoss(training.loss) });
  const cluster = parseClusterConfig(get(fields, 'cluster'));
  const checkpoint = parseCheckpointConfig(get(fields, 'checkpoint'), configDir);
  return { name, configDir, model, dataset, training, cluster, checkpoint };
}

function parseName(value: unknown): string {
  if (value === undefined) throw invalidField('name', 'required');
  if (typeof value !== 'string' || !NAME_PATTERN.test(value) || value.length > MAX_NAME_LENGTH) {
    throw invalidField(
      'name',
      `expected lowercase letters, digits and "-" (not first or last), at most ${MAX_NAME_LENGTH} characters, got ${describeValue(value)}`,
    );
  }
  return value;
}
