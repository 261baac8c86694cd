import type { ChunkOutcome, CommitOutcome, IncludedPush, OptimizerState, ShardPush, WeightsChunkParts } from '@dtrain/parameter-server';
import type { Chunk, ChunkPlan, ShardDescriptor } from '@dtrain/protocol';
import type { ShardStepEvent } from './observer.js';

/** One commit across the shards: the outcome, and what each shard did (for the shardStep observer events). */
export interface ShardCommit {
  readonly outcome: CommitOutcome;
  readonly shards: readonly ShardStepEvent[];
}

/** The whole layout's state at one version: what a checkpoint stores and a setup restores. */
export interface ShardSetState {
  readonly weights: Float32Array;
  readonly optimizerState: OptimizerState;
  readonly version: number;
}

/**
 * The parameter-server shards of a job, as the step loop sees them: one
 * shard inside the coordinator (EmbeddedShard), or K `dtrain ps` processes
 * (RemoteShards). The step loop decides which pushes a step includes; the
 * set makes every shard apply exactly those, or none.
 */
export interface ShardSet {
  /** True for shard processes: workers push to and pull from them directly, not over the coordinator connection. */
  readonly remote: boolean;
  readonly plan: ChunkPlan;
  /** Version of the shards' weights (+1 per commit; a setup may jump it). */
  readonly version: number;
  /** The shards in range order, for the welcome (url '' for the embedded shard). */
  descriptors(): ShardDescriptor[];
  setLearningRate(learningRate: number): void;
  /** What the shards hold of a worker's push: complete only when complete on every shard. */
  push(workerId: number): ShardPush | undefined;
  /** Sums a gradient chunk that came over the coordinator connection (the embedded shard only). */
  acceptChunk(chunk: Chunk): ChunkOutcome;
  /** The current weights as chunk frames for a worker that joined (the embedded shard only; shard processes send their own). */
  currentChunks(step: number): WeightsChunkParts[];
  /**
   * Applies the step with exactly `included` on every shard, or on none.
   * The embedded shard hands each new weight chunk to `onChunk` (which
   * returns the bytes it sent); shard processes stream theirs to the
   * workers themselves.
   * @throws ShardLostError when a shard process is lost meanwhile.
   */
  commit(step: number, included: readonly IncludedPush[], onChunk: (parts: WeightsChunkParts) => number): Promise<ShardCommit>;
  /** Drops every push summed for `step` (nothing applied). */
  abortStep(step: number): Promise<void>;
  /** The whole layout's current weights (the live array of the embedded shard; a fresh copy from shard processes). */
  weights(): Promise<Float32Array>;
  /** Weights and optimizer state at the current version, for a checkpoint. */
  state(): Promise<ShardSetState>;
}
