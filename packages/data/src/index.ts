export type * from './dataset.js';

export { DataError, DataErrorCode, isDataError } from './data-error.js';
export type { DataErrorDetails, DataPosition } from './data-error.js';

export { createRng, deriveSeed } from './rng.js';
export type { Rng } from './rng.js';

export { ReaderRegistry, createReaderRegistry } from './reader-registry.js';
export type { BuiltinReaderOptions, DatasetReader } from './reader-registry.js';
export { idxReader } from './idx-reader.js';
export type { IdxReaderOptions } from './idx-reader.js';
export { encodeIdx, parseIdx, parseIdxHeader, IDX_TYPES } from './idx-format.js';
export type { IdxArray, IdxHeader, IdxTypeCode } from './idx-format.js';
export { csvReader } from './csv-reader.js';
export { parseCsv, parseNumberCell } from './csv-parse.js';
export type { CsvRecordHandler } from './csv-parse.js';
export type { CsvReaderOptions } from './csv-reader.js';
export { jsonlReader } from './jsonl-reader.js';
export type { JsonlReaderOptions } from './jsonl-reader.js';
export { npyReader } from './npy-reader.js';
export type { NpyReaderOptions } from './npy-reader.js';
export { parseNpy, parseNpyHeader, NPY_DTYPES } from './npy-format.js';
export type { NpyArray, NpyDtype, NpyHeader } from './npy-format.js';
export { imageFolderReader } from './image-folder-reader.js';
export type { ImageFolderReaderOptions } from './image-folder-reader.js';
export { expandShardPaths, isShardPattern, matchShardPattern, matchShardPatternSync } from './shard-paths.js';
export type { ShardPaths } from './shard-paths.js';
export { generateSynthetic, syntheticReader } from './synthetic-reader.js';
export type { SyntheticReaderOptions } from './synthetic-reader.js';
export { readDataFile, isGzip } from './read-data-file.js';
export type { DataFileBytes } from './read-data-file.js';

export { openByteSource } from './byte-source.js';
export type { ByteSource, ByteSourceFactory } from './byte-source.js';
export { FileByteSource } from './file-byte-source.js';
export { HttpByteSource, isHttpUrl } from './http-byte-source.js';
export type { HttpByteSourceOptions } from './http-byte-source.js';
export { ByteLru } from './byte-lru.js';
export type { ByteLruStats } from './byte-lru.js';
export { openIndexed, INDEXED_FORMATS, SHARD_OPTION_KEYS } from './open-indexed.js';
export { shardOfSample } from './sample-runs.js';
export type { IndexedFormat, IndexedFormatOptions, OpenIndexedOptions } from './open-indexed.js';
export type { IndexedBatch, IndexedDataset, IndexedShard } from './indexed-dataset.js';
export type { BadSample } from './bad-sample.js';
export { SharedSamples } from './shared-samples.js';
export type { SharedSamplesOptions, SharedSamplesStats } from './shared-samples.js';

export { applyNormalisation, fitNormalisation, normaliseBatch, normaliseFeatures, statsFromJSON, statsToJSON } from './normalisation.js';
export type { NormalisationStatsJSON } from './normalisation.js';
export { streamingStats } from './streaming-stats.js';
export type { StreamingStatsOptions } from './streaming-stats.js';

export { sliceSamples, splitIds, splitValidation, subsetDataset } from './splits.js';
export type { ValidationSplit } from './splits.js';

export { batchCount, epochOrder, planEpoch } from './epoch-plan.js';
export type { EpochPlanOptions } from './epoch-plan.js';
export { BatchQueue } from './batch-queue.js';
export type { BatchState, PlanCursor } from './batch-queue.js';

export { chunkCount, chunkRange, chunksForSamples, gatherBatch, sampleSource, shapeSize } from './chunks.js';
export type { GatheredBatch, SampleSource } from './chunks.js';
export { ChunkCache } from './chunk-cache.js';
export type { ChunkCacheOptions } from './chunk-cache.js';
