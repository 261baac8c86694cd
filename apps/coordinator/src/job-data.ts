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
import { loadSharedJobData, resolveAccess, type IndexedEvalSet, type SharedTraining } from './shared-data.js';

/** What the coordinator knows of a dataset's shape, whether or not it holds the samples. */
export type DatasetInfo = Omit<Dataset, 'features' | 'labels'>;

/** Samples the coordinator evaluates on: in memory, or read by sample a block at a time (shared access). */
export type EvalData = Dataset | IndexedEvalSet;

/**
 * The data of one job, normalised with statistics fitted on the training
 * split. With `shared` the workers read the training samples themselves and
 * the coordinator holds none of them; without it, `train` holds them and the
 * coordinator ships them in chunks.
 */
export type JobData = ShippedJobData | SharedAccessJobData;

interface JobDataBase {
  readonly validation: EvalData;
  readonly test: EvalData | undefined;
  readonly stats: NormalisationStats;
  /** One line for the log at start: ship or shared, and why. */
  readonly accessNote?: string;
}

/** The coordinator holds the training samples and ships them to workers in chunks. */
export interface ShippedJobData extends JobDataBase {
  readonly train: Dataset;
  readonly shared?: undefined;
}

/** The workers read the training samples themselves; the coordinator holds an index. */
export interface SharedAccessJobData extends JobDataBase {
  readonly train: DatasetInfo;
  readonly shared: SharedTraining;
}

/** Loss and, when the loss has it, accuracy over a set of samples. */
export interface Evaluation {
  readonly loss: number;
  readonly accuracy: number | undefined;
}

/**
 * Evaluates on `data` with `evaluateBlock`: at once when it is in memory,
 * else a block at a time, the results weighted by block size.
 */
export async function evaluateData(data: EvalData, evaluateBlock: (block: Dataset) => Evaluation): Promise<Evaluation> {
  if (inMemory(data)) return evaluateBlock(data);
  let samples = 0;
  let loss = 0;
  let correct = 0;
  let accuracy = true;
  for await (const block of data.blocks()) {
    const result = evaluateBlock(block);
    samples += block.numSamples;
    loss += result.loss * block.numSamples;
    if (result.accuracy === undefined) accuracy = false;
    else correct += result.accuracy * block.numSamples;
  }
  if (samples === 0) return { loss: Number.NaN, accuracy: undefined };
  return { loss: loss / samples, accuracy: accuracy ? correct / samples : undefined };
}

/** The training samples the coordinator holds; a shared-access job's are not held (a DTRAIN_CONFIG_INVALID naming dataset.access). */
export function heldTraining(data: JobData): Dataset {
  if (data.shared === undefined) return data.train;
  throw new ConfigError('DTRAIN_CONFIG_INVALID', `dataset.access: this needs the training samples in memory, but the workers read them (shared access); set access: ship`, {
    field: 'dataset.access',
  });
}

/** True when `data` is held in memory (not read by sample). */
export function inMemory(data: EvalData): data is Dataset {
  return 'features' in data;
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
  const decided = await resolveAccess(config);
  if (decided.access === 'shared' && decided.index !== undefined) {
    const data = await loadSharedJobData(config, decided.index).catch(async (error: unknown) => {
      await decided.index?.close();
      throw error;
    });
    return {
      ...data,
      accessNote: `shared access (${decided.why}): each worker reads its own samples from ${data.shared.files.length} shard(s) of ${data.train.source}, caching up to ${dataset.cacheBytes} bytes; the coordinator holds only the index`,
    };
  }
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
    accessNote: `shipped by the coordinator (${decided.why})`,
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
