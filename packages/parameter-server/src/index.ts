/**
 * @dtrain/parameter-server — the authoritative weights of a job: gradient
 * aggregation, tfjs-exact optimizers on flat float32 arrays, versioning, and
 * checkpoints in tfjs's own model format. No tfjs and no sockets at run time.
 */
export type * from './optimizer-config.js';
export { ParameterServerError, ParameterServerErrorCode, isParameterServerError } from './parameter-server-error.js';
export type { ParameterServerErrorDetails } from './parameter-server-error.js';
export { validateLayout } from './weight-layout.js';
export { createOptimizer, resolveOptimizerConfig, FLOAT32_EPSILON } from './create-optimizer.js';
export type { CreateOptimizerOptions } from './create-optimizer.js';
export type { KernelKind } from './kernel-memory.js';
export type { Optimizer, OptimizerState, ResolvedOptimizerConfig } from './optimizer.js';
export { optimizerSlotNames } from './optimizer.js';
export { assembleOptimizerState, splitOptimizerState } from './optimizer-state.js';
export type { RangeOptimizerState } from './optimizer-state.js';
export { ParameterShard } from './parameter-shard.js';
export type { ChunkOutcome, CommitOutcome, IncludedPush, ParameterShardOptions, ShardPush, WeightsChunkParts } from './parameter-shard.js';
export { writeTfjsModel, readTfjsModel, MODEL_JSON_FILE, WEIGHTS_BIN_FILE } from './tfjs-model-files.js';
export type { TfjsModel, TfjsWeightSpec, WriteTfjsModelOptions } from './tfjs-model-files.js';
export { readCheckpoint, OPTIMIZER_JSON_FILE, OPTIMIZER_BIN_FILE, TRAINING_JSON_FILE } from './checkpoint-files.js';
export type { Checkpoint, TrainingState } from './checkpoint-files.js';
export { writeCheckpoint, readLatestCheckpoint, checkpointDirName, LATEST_FILE } from './checkpoint-store.js';
export type { ReadLatestOptions, WriteCheckpointOptions } from './checkpoint-store.js';
