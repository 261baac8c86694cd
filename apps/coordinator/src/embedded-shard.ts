import type { ChunkOutcome, IncludedPush, ParameterShard, ShardPush, WeightsChunkParts } from '@dtrain/parameter-server';
import { chunkFrameBytes, type Chunk, type ChunkPlan, type ShardDescriptor } from '@dtrain/protocol';
import type { ShardCommit, ShardSet, ShardSetState } from './shard-set.js';

/**
 * The default: one shard of the whole layout inside the coordinator
 * process. Workers send their gradient chunks over the coordinator
 * connection and receive the weights on it (the welcome's shard URL is '').
 */
export class EmbeddedShard implements ShardSet {
  readonly remote = false;
  readonly #ps: ParameterShard;
  /** Gradient payload bytes summed since the last commit or abort. */
  #bytesIn = 0;

  constructor(ps: ParameterShard) {
    this.#ps = ps;
  }

  get plan(): ChunkPlan {
    return this.#ps.plan;
  }

  get version(): number {
    return this.#ps.version;
  }

  descriptors(): ShardDescriptor[] {
    return [{ start: this.#ps.range.start, end: this.#ps.range.end, url: '' }];
  }

  setLearningRate(learningRate: number): void {
    this.#ps.setLearningRate(learningRate);
  }

  push(workerId: number): ShardPush | undefined {
    return this.#ps.push(workerId);
  }

  acceptChunk(chunk: Chunk): ChunkOutcome {
    const outcome = this.#ps.acceptChunk(chunk);
    if (outcome === 'accepted' || outcome === 'non-finite') this.#bytesIn += chunkFrameBytes(chunk.count, chunk.format);
    return outcome;
  }

  currentChunks(step: number): WeightsChunkParts[] {
    return this.#ps.currentChunks(step);
  }

  async commit(step: number, included: readonly IncludedPush[], onChunk: (parts: WeightsChunkParts) => number): Promise<ShardCommit> {
    const started = performance.now();
    const bytesIn = this.#bytesIn;
    this.#bytesIn = 0;
    let bytesOut = 0;
    const outcome = await this.#ps.commit(step, included, (parts) => {
      bytesOut += onChunk(parts);
    });
    const applySeconds = (performance.now() - started) / 1000;
    return { outcome, shards: [{ shard: 0, applySeconds, bytesIn, bytesOut, pendingPushes: included.length, committed: outcome.committed }] };
  }

  abortStep(): Promise<void> {
    this.#bytesIn = 0;
    this.#ps.abortStep();
    return Promise.resolve();
  }

  weights(): Promise<Float32Array> {
    return Promise.resolve(this.#ps.weights);
  }

  state(): Promise<ShardSetState> {
    return Promise.resolve({ weights: this.#ps.weights, optimizerState: this.#ps.optimizerState(), version: this.#ps.version });
  }
}
