import {
  applyNormalisation,
  createReaderRegistry,
  fitNormalisation,
  splitValidation,
  type Dataset,
  type NormalisationStats,
} from '@dtrain/data';
import type { DataSourceConfig, JobConfig } from './config/index.js';
import { ConfigError } from './config/index.js';

/** The datasets of one job, normalised with statistics fitted on the training split. */
export interface JobData {
  readonly train: Dataset;
  readonly validation: Dataset;
  readonly test: Dataset | undefined;
  readonly stats: NormalisationStats;
}

/** Reads one configured source into a dataset, reshaped to `featureShape` when given. */
export async function readSource(source: DataSourceConfig, featureShape: readonly number[] | undefined, field: string): Promise<Dataset> {
  if (source.format === 'memory') {
    throw new ConfigError(
      'DTRAIN_CONFIG_INVALID',
      `dataset: ${source.description} lives in the memory of the process that made it; there is no file to read (hand its JobData to the coordinator directly)`,
      { field: 'dataset.format' },
    );
  }
  const registry = createReaderRegistry();
  const { format, ...options } = source;
  const dataset = await registry.get(format).read(options as never);
  return featureShape === undefined ? dataset : reshapeFeatures(dataset, featureShape, field);
}

/**
 * Loads, splits and normalises the job's data. User mistakes surface as
 * ConfigError (naming the field) or the data package's DataError (naming the
 * file and position).
 */
export async function loadJobData(config: JobConfig): Promise<JobData> {
  const { dataset, training } = config;
  const all = await readSource(dataset.source, dataset.featureShape, 'dataset.featureShape');
  const { train: rawTrain, validation: rawValidation } = splitValidation(all, dataset.validationSplit, training.seed);
  if (rawTrain.numSamples < training.batchSize) {
    throw new ConfigError(
      'DTRAIN_CONFIG_INVALID',
      `training.batchSize: ${training.batchSize} is more than the ${rawTrain.numSamples} training samples of ${all.source}`,
      { field: 'training.batchSize' },
    );
  }
  const stats = fitNormalisation(rawTrain, dataset.normalisation);
  const rawTest = dataset.test === undefined ? undefined : await readSource(dataset.test, dataset.featureShape, 'dataset.featureShape');
  return {
    train: applyNormalisation(rawTrain, stats),
    validation: applyNormalisation(rawValidation, stats),
    test: rawTest === undefined ? undefined : applyNormalisation(rawTest, stats),
    stats,
  };
}

function reshapeFeatures(dataset: Dataset, featureShape: readonly number[], field: string): Dataset {
  const want = featureShape.reduce((a, b) => a * b, 1);
  const have = dataset.featureShape.reduce((a, b) => a * b, 1);
  if (want !== have) {
    throw new ConfigError(
      'DTRAIN_CONFIG_INVALID',
      `${field}: [${featureShape.join(', ')}] holds ${want} values but each sample of ${dataset.source} has ${have} ([${dataset.featureShape.join(', ')}])`,
      { field },
    );
  }
  return { ...dataset, featureShape: [...featureShape] };
}
