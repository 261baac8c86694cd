/**
 * Shared access (`dataset.access: shared`): every worker reads its own
 * samples from the source (paths every worker sees, or http(s) URLs), and
 * the coordinator holds only an index of it — shard sizes, one label per
 * sample, the training ids — never the samples. What it reads itself is
 * bounded: a sample for the normalisation statistics and the validation
 * and test samples, a block at a time when it evaluates.
 */
import {
  DataError,
  INDEXED_FORMATS,
  SHARD_OPTION_KEYS,
  expandShardPaths,
  type IndexedFormat,
  type ShardPaths,
  isDataError,
  normaliseBatch,
  openIndexed,
  shardOfSample,
  splitIds,
  statsToJSON,
  streamingStats,
  type Dataset,
  type IndexedBatch,
  type IndexedDataset,
  type NormalisationStats,
} from '@dtrain/data';
import type { SharedDataDescriptor } from '@dtrain/protocol';
import type { DataAccess, DataSourceConfig, JobConfig } from './config/index.js';
import { ConfigError, SHIP_LIMIT_BYTES } from './config/index.js';

/** Samples the statistics of `scale` (without a given scale) and `standardize` are fitted on, evenly spread. */
export const STATS_SAMPLE_LIMIT = 50_000;

/**
 * Float32 bytes of validation or test samples the coordinator reads and
 * evaluates at once: what evaluation adds to its memory, whatever the size
 * of the split (blocks of 4,096 samples of 32×32×3 images held 50 MB each,
 * and the coordinator's peak grew with the validation split).
 */
const EVAL_BLOCK_BYTES = 4 * 1024 * 1024;

const shapeSize = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A source the coordinator reads by sample id, normalised, a block at a time: validation or test data under shared access. */
export class IndexedEvalSet {
  readonly numSamples: number;
  readonly #index: IndexedDataset;
  readonly #ids: Uint32Array;
  readonly #featureShape: readonly number[];
  readonly #stats: NormalisationStats;

  constructor(index: IndexedDataset, ids: Uint32Array, featureShape: readonly number[], stats: NormalisationStats) {
    this.#index = index;
    this.#ids = ids;
    this.numSamples = ids.length;
    this.#featureShape = featureShape;
    this.#stats = stats;
  }

  /**
   * The samples in blocks of at most {@link EVAL_BLOCK_BYTES} as float32,
   * normalised, as datasets whose features are one reused buffer: evaluate
   * each before asking for the next. Bad samples are left out.
   */
  async *blocks(): AsyncGenerator<Dataset> {
    const featureSize = shapeSize(this.#featureShape);
    const block = Math.max(64, Math.floor(EVAL_BLOCK_BYTES / (4 * featureSize)));
    const out = new Float32Array(block * featureSize);
    for (let start = 0; start < this.numSamples; start += block) {
      const ids = this.#ids.subarray(start, Math.min(this.numSamples, start + block));
      const batch = withoutBad(await this.#index.read(ids), featureSize, this.#index.labelShape);
      if (batch.count === 0) continue;
      yield {
        numSamples: batch.count,
        featureShape: this.#featureShape,
        labelShape: this.#index.labelShape,
        labelEncoding: this.#index.labelEncoding,
        numClasses: this.#index.numClasses,
        // One buffer for every block: the previous block has been evaluated when the next is read.
        features: normaliseBatch(batch.features, featureSize, this.#stats, out).subarray(0, batch.count * featureSize),
        labels: batch.labels,
        source: this.#index.source,
      };
    }
  }
}

/** What the coordinator keeps of a shared training source: the workers' descriptor and which shard each training sample is in. */
export class SharedTraining {
  readonly descriptor: SharedDataDescriptor;
  /** The shards, in order, as the source names them. */
  readonly files: readonly string[];
  readonly #trainIds: Uint32Array;
  /** First source id of each shard, and one past the last. */
  readonly #shardStarts: Float64Array;
  readonly #indexes: readonly IndexedDataset[];

  constructor(descriptor: SharedDataDescriptor, index: IndexedDataset, trainIds: Uint32Array, indexes: readonly IndexedDataset[]) {
    this.descriptor = descriptor;
    this.files = index.shards.map((shard) => shard.file);
    this.#trainIds = trainIds;
    this.#shardStarts = new Float64Array(index.shards.length + 1);
    index.shards.forEach((shard, i) => {
      this.#shardStarts[i + 1] = (this.#shardStarts[i] as number) + shard.numSamples;
    });
    this.#indexes = indexes;
  }

  /** The shard (index into `files`) training sample `trainId` lives in. */
  shardOf(trainId: number): number {
    return shardOfSample(this.#shardStarts, this.#trainIds[trainId] as number);
  }

  /** True when any of `trainIds` lives in one of `shards`. */
  touches(trainIds: Uint32Array, shards: ReadonlySet<number>): boolean {
    if (shards.size === 0) return false;
    for (const id of trainIds) if (shards.has(this.shardOf(id))) return true;
    return false;
  }

  async close(): Promise<void> {
    await Promise.all(this.#indexes.map((index) => index.close()));
  }
}

/** The coordinator's view of a shared job's data. */
export interface SharedJobData {
  readonly train: Omit<Dataset, 'features' | 'labels'>;
  readonly validation: IndexedEvalSet;
  readonly test: IndexedEvalSet | undefined;
  readonly stats: NormalisationStats;
  readonly shared: SharedTraining;
}

/** Why `source` cannot be read by sample, or undefined when it can. */
export function notIndexable(source: DataSourceConfig): string | undefined {
  if (!(INDEXED_FORMATS as readonly string[]).includes(source.format)) {
    return `format ${source.format} cannot be read by sample (shared access takes ${INDEXED_FORMATS.join(', ')})`;
  }
  return undefined;
}

/**
 * Decides ship or shared for `access: auto` from the training source's index:
 * shared when its samples as float32 exceed {@link SHIP_LIMIT_BYTES}. Returns
 * the index when it was opened and the answer is shared (the caller reuses it).
 */
export async function resolveAccess(config: JobConfig): Promise<{ readonly access: Exclude<DataAccess, 'auto'>; readonly index?: IndexedDataset; readonly why: string }> {
  const { dataset } = config;
  const reason = notIndexable(dataset.source);
  if (dataset.access === 'ship') return { access: 'ship', why: 'dataset.access is ship' };
  if (dataset.access === 'shared') {
    if (reason !== undefined) throw new ConfigError('DTRAIN_CONFIG_INVALID', `dataset.access: shared, but ${reason}; use access: ship`, { field: 'dataset.access' });
    const index = await openSourceIndex(dataset.source, 'dataset.access');
    return { access: 'shared', index, why: 'dataset.access is shared' };
  }
  if (reason !== undefined) return { access: 'ship', why: `auto: ${reason}` };
  let index: IndexedDataset;
  try {
    index = await openIndexedSource(dataset.source);
  } catch (error) {
    // gzip shards (refused as DTRAIN_DATA_READ) and the like: the whole-file reader takes them, the indexed one does not.
    if (isDataError(error, 'DTRAIN_DATA_FORMAT') || isDataError(error, 'DTRAIN_DATA_READ')) return { access: 'ship', why: `auto: ${error.message}` };
    throw error;
  }
  const bytes = index.numSamples * shapeSize(index.featureShape) * 4;
  const mb = (bytes / 2 ** 20).toFixed(0);
  if (bytes <= SHIP_LIMIT_BYTES) {
    await index.close();
    return { access: 'ship', why: `auto: ${mb} MB as float32, at most ${SHIP_LIMIT_BYTES / 2 ** 20} MB` };
  }
  return { access: 'shared', index, why: `auto: ${mb} MB as float32, more than ${SHIP_LIMIT_BYTES / 2 ** 20} MB` };
}

function openIndexedSource(source: DataSourceConfig): Promise<IndexedDataset> {
  const { format, ...options } = source;
  return openIndexed(format, options);
}

/** Opens the index, turning a format that cannot be indexed (gzip shards) into a config error naming `field`. */
async function openSourceIndex(source: DataSourceConfig, field: string): Promise<IndexedDataset> {
  try {
    return await openIndexedSource(source);
  } catch (error) {
    if (isDataError(error, 'DTRAIN_DATA_FORMAT') || isDataError(error, 'DTRAIN_DATA_READ')) {
      throw new ConfigError('DTRAIN_CONFIG_INVALID', `${field}: shared, but ${error.message}; use access: ship`, { field });
    }
    throw error;
  }
}

/**
 * Indexes a shared job's data: the training source (already opened by
 * {@link resolveAccess}), its split, the statistics from a streaming pass
 * over at most {@link STATS_SAMPLE_LIMIT} training samples, and the test
 * source if any. Reads no sample beyond those.
 */
export async function loadSharedJobData(config: JobConfig, index: IndexedDataset): Promise<SharedJobData> {
  const { dataset, training } = config;
  const featureShape = dataset.featureShape ?? index.featureShape;
  checkReshape(index, featureShape, 'dataset.featureShape');
  const { train: trainIds, validation: validationIds } = splitIds(index.numSamples, dataset.validationSplit, training.seed);
  if (trainIds.length < training.batchSize) {
    throw new ConfigError('DTRAIN_CONFIG_INVALID', `training.batchSize: ${training.batchSize} is more than the ${trainIds.length} training samples of ${index.source}`, {
      field: 'training.batchSize',
    });
  }
  const stats = await fitStats(index, trainIds, dataset.normalisation);
  let test: IndexedEvalSet | undefined;
  const indexes = [index];
  if (dataset.test !== undefined) {
    const reason = notIndexable(dataset.test);
    if (reason !== undefined) throw new ConfigError('DTRAIN_CONFIG_INVALID', `dataset.test: ${reason}; with shared access the test source is read by sample too`, { field: 'dataset.test' });
    const testIndex = await openSourceIndex(dataset.test, 'dataset.test');
    indexes.push(testIndex);
    checkReshape(testIndex, featureShape, 'dataset.featureShape');
    test = new IndexedEvalSet(testIndex, Uint32Array.from({ length: testIndex.numSamples }, (_, i) => i), featureShape, stats);
  }
  const descriptor: SharedDataDescriptor = {
    source: await workerSource(dataset.source, index),
    shards: index.shards.map((shard) => ({ file: shard.file, numSamples: shard.numSamples })),
    ...(dataset.featureShape === undefined ? {} : { featureShape: dataset.featureShape }),
    validationSplit: dataset.validationSplit,
    splitSeed: training.seed,
    normalisation: statsToJSON(stats) as Readonly<Record<string, unknown>>,
    cacheBytes: dataset.cacheBytes,
  };
  return {
    train: {
      numSamples: trainIds.length,
      featureShape,
      labelShape: index.labelShape,
      labelEncoding: index.labelEncoding,
      numClasses: index.numClasses,
      source: index.source,
    },
    validation: new IndexedEvalSet(index, validationIds, featureShape, stats),
    test,
    stats,
    shared: new SharedTraining(descriptor, index, trainIds, indexes),
  };
}

/**
 * The source as workers open it: each shard list expanded (a glob matches
 * the same files for every worker, and shard i is element i of each list),
 * and the class count fixed, so a shard opened on its own encodes labels as
 * the whole source does.
 */
async function workerSource(source: DataSourceConfig, index: IndexedDataset): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { ...source };
  for (const key of SHARD_OPTION_KEYS[source.format as IndexedFormat]) {
    out[key] = await expandShardPaths(out[key] as ShardPaths);
  }
  if (source.format !== 'images' && index.numClasses !== undefined) out['numClasses'] = index.numClasses;
  return out;
}

function checkReshape(index: IndexedDataset, featureShape: readonly number[], field: string): void {
  const want = shapeSize(featureShape);
  const have = shapeSize(index.featureShape);
  if (want !== have) {
    throw new ConfigError(
      'DTRAIN_CONFIG_INVALID',
      `${field}: [${featureShape.join(', ')}] holds ${want} values but each sample of ${index.source} has ${have} ([${index.featureShape.join(', ')}])`,
      { field },
    );
  }
}

async function fitStats(index: IndexedDataset, trainIds: Uint32Array, normalisation: JobConfig['dataset']['normalisation']): Promise<NormalisationStats> {
  if (normalisation.kind === 'none') return { kind: 'none' };
  if (normalisation.kind === 'scale' && normalisation.scale !== undefined) return { kind: 'scale', scale: normalisation.scale };
  // Fitted on training samples only, as the whole-file path does.
  return streamingStats(mapIds(index, trainIds), normalisation.kind, { sampleLimit: STATS_SAMPLE_LIMIT });
}

/** `index` seen through `ids`: sample i of the view is sample ids[i] of the index. */
function mapIds(index: IndexedDataset, ids: Uint32Array): IndexedDataset {
  return {
    ...index,
    numSamples: ids.length,
    read: (wanted: Uint32Array): Promise<IndexedBatch> => {
      const mapped = new Uint32Array(wanted.length);
      for (let i = 0; i < wanted.length; i++) {
        const id = wanted[i] as number;
        if (id >= ids.length) throw new DataError('DTRAIN_DATA_RANGE', `training sample ${id} is outside the ${ids.length} training samples`);
        mapped[i] = ids[id] as number;
      }
      return index.read(mapped);
    },
    close: () => index.close(),
  };
}

/** A batch with its bad rows (samples that do not parse or decode) taken out. */
function withoutBad(batch: IndexedBatch, featureSize: number, labelShape: readonly number[]): { features: Uint8Array | Float32Array; labels: Float32Array; count: number } {
  const rows = batch.labels.length / shapeSize(labelShape);
  if (batch.bad.length === 0) return { features: batch.features, labels: batch.labels, count: rows };
  const bad = new Set(batch.bad.map((b) => b.position));
  const labelSize = shapeSize(labelShape);
  const keep = rows - bad.size;
  const features = batch.features instanceof Uint8Array ? new Uint8Array(keep * featureSize) : new Float32Array(keep * featureSize);
  const labels = new Float32Array(keep * labelSize);
  let at = 0;
  for (let i = 0; i < rows; i++) {
    if (bad.has(i)) continue;
    features.set(batch.features.subarray(i * featureSize, (i + 1) * featureSize), at * featureSize);
    labels.set(batch.labels.subarray(i * labelSize, (i + 1) * labelSize), at * labelSize);
    at++;
  }
  return { features, labels, count: keep };
}
