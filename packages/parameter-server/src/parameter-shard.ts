import { ChunkPlan, encode16, encodeChunkHeader, type Chunk, type FlatRange, type WireFormat } from '@dtrain/protocol';
import type { WeightEntry } from '@dtrain/protocol';
import { addScaled, meanInPlace } from './accumulate.js';
import { buildOptimizer, planOptimizer } from './create-optimizer.js';
import { KERNEL_BLOCK, KernelMemory, arrayBytes, type KernelKind } from './kernel-memory.js';
import type { OptimizerConfig } from './optimizer-config.js';
import { optimizerMemoryBytes } from './optimizer.js';
import type { Optimizer, OptimizerState, ResolvedOptimizerConfig } from './optimizer.js';
import { ParameterServerError } from './parameter-server-error.js';
import { localRanges, stateRanges, validateLayout } from './weight-layout.js';


/** What the shard did with one gradient chunk. */
export type ChunkOutcome = 'accepted' | 'duplicate' | 'stale' | 'non-finite' | 'malformed';

/** One worker's push for one step, as this shard has seen it. */
export interface ShardPush {
  readonly workerId: number;
  readonly step: number;
  readonly sampleCount: number;
  /** Every chunk of this shard's range has arrived. */
  readonly complete: boolean;
  /** Some chunk held NaN or ±Infinity. */
  readonly nonFinite: boolean;
}

/** A push the step includes: identified by worker and step. */
export interface IncludedPush {
  readonly workerId: number;
  readonly step: number;
}

/** The result of `commit`. */
export type CommitOutcome =
  | { readonly committed: true; readonly version: number; readonly sampleCount: number }
  /**
   * Nothing was applied and the accumulator was cleared: an included push is
   * incomplete or non-finite here, or a push that is not included already
   * went into the sum (a worker that died mid-push). The caller releases
   * every batch of the step and runs it again.
   */
  | { readonly committed: false; readonly reason: string };

/**
 * One weights chunk frame in two parts: its 32-byte prefix and header (fresh
 * for each send), and its payload, a view of the shard's live weights (no
 * copy). Sent as one message (the transport concatenates or fragments).
 *
 * The payload may still be queued in a slow socket when the next commit
 * rewrites the weights: that reader then receives a torn version. It is
 * harmless, because the next commit only happens once the step's included
 * pushes are in, so whoever still reads the old version is not among them:
 * anything it computes on the torn bytes is for an old version, and is
 * rejected as stale. A worker is only assigned work at a version whose
 * frames it was sent after that version's commit finished.
 */
export interface WeightsChunkParts {
  readonly header: Uint8Array;
  readonly payload: Uint8Array;
}

export interface ParameterShardOptions {
  /** The whole job's layout (the shard takes its trainable/state ranges from it). */
  readonly layout: readonly WeightEntry[];
  /** The flat elements this shard owns; whole chunks of the plan (or the layout's end). */
  readonly range: FlatRange;
  /** `cluster.chunkBytes`. */
  readonly chunkBytes: number;
  /**
   * Initial weights of the range (range length); copied. `'zeros'` leaves
   * them zero, for a caller that writes them in place afterwards
   * (`writeWeights`), e.g. as they arrive over a socket, so a big shard
   * never holds them twice.
   */
  readonly weights: Float32Array | 'zeros';
  readonly optimizer: OptimizerConfig;
  /** Version of `weights`; default 0. */
  readonly version?: number;
  /** Saved optimizer state of this range, to continue from. */
  readonly optimizerState?: OptimizerState;
  /**
   * Run the optimizer and the gradient sum and mean as WebAssembly SIMD
   * kernels where the engine has them (bit-for-bit the same results);
   * `false` always runs the JS loops. Default true.
   */
  readonly simd?: boolean;
  /**
   * Element format of the weights chunks sent to workers
   * (`cluster.wireWeights`): float32 (default) sends the weights as they
   * are; bfloat16/float16 round each version afresh into a buffer of the
   * shard's (the weights themselves, the optimizer state and checkpoints
   * stay float32).
   */
  readonly wireWeights?: WireFormat;
}

interface PushState {
  workerId: number;
  step: number;
  sampleCount: number;
  received: Uint8Array;
  receivedCount: number;
  nonFinite: boolean;
}

/**
 * One parameter-server shard: the authoritative weights, optimizer state and
 * gradient accumulator of a contiguous range of the flat layout.
 *
 * Gradient chunks are summed the moment they arrive (sample-weighted, into
 * one preallocated float64 accumulator: memory is O(range) for any number of
 * workers). `commit` is told by the control plane which pushes the step
 * includes; it then averages and runs the optimizer chunk by chunk, handing
 * each chunk's new weights out (a header and a view of the weights, no
 * copy) as soon as it is ready, so sending overlaps the rest of the update.
 * Resident memory is the weights, the optimizer slots and the accumulator;
 * nothing here allocates in proportion to the model per step. It knows
 * nothing of sockets.
 *
 * With kernels, all three live in one WebAssembly memory of the shard's,
 * where the optimizer's kernels address the weights and the mean gradient
 * in place (no copy per step); only a chunk's gradient values are copied in,
 * a block at a time, to be summed. That memory is sized once (wasm32 allows
 * 4 GiB: e.g. 100M parameters with adam take 2 GB). A shard too big for it
 * keeps its weights and accumulator in JS arrays and gives the optimizer a
 * memory for its slots alone, or runs the JS loops if even that is too big.
 */
export class ParameterShard {
  readonly layout: readonly WeightEntry[];
  readonly range: FlatRange;
  /** Elements this shard owns. */
  readonly size: number;
  readonly plan: ChunkPlan;
  readonly #weights: Float32Array;
  readonly #wireWeights: WireFormat;
  /** The weights rounded to #wireWeights, a chunk at a time as they are sent; empty for float32. */
  readonly #narrowWeights: Uint16Array;
  readonly #optimizer: Optimizer;
  /** Σ sampleCount·gradient of the pushes summed since the last commit or abort. */
  readonly #sum: Float64Array;
  /**
   * The averaged gradient, written over the accumulator's own memory: element
   * i (bytes 4i…4i+3) lies inside float64 element ⌊i/2⌋ ≤ i, which ascending
   * conversion has already read. Saves a model-sized buffer on a big shard.
   * The mean kernel converts four elements at a time, each group's sums read
   * before its means are written: the same argument holds (kernels.wat).
   */
  readonly #mean: Float32Array;
  /** Non-trainable (state) ranges, local to the shard: [start0, end0, …]. */
  readonly #stateRanges: Uint32Array;
  readonly #chunkOffsets: number[];
  readonly #chunkCounts: number[];
  readonly #pushes = new Map<number, PushState>();
  /** Where the weights, accumulator and optimizer slots live, if the kernels run. */
  readonly #memory: KernelMemory | undefined;
  /** Where a chunk's gradient values are copied, a block at a time, for the sum kernel. */
  readonly #valuesBlock: Float32Array;
  #version: number;
  /** Set when something that no commit may include reached the sum. */
  #tainted: string | undefined;
  /** The newest step prepared or committed: chunks of it or older are stale (its sum is decided). */
  #closedStep = -1;

  /** @throws ParameterServerError `DTRAIN_PS_LAYOUT`, `DTRAIN_PS_CONFIG` or `DTRAIN_PS_OPTIMIZER_STATE`. */
  constructor(o: ParameterShardOptions) {
    const total = validateLayout(o.layout);
    const { start, end } = o.range;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end > total || end < start) {
      throw new ParameterServerError('DTRAIN_PS_LAYOUT', `shard range [${start}, ${end}) does not lie inside the layout's ${total} elements`);
    }
    this.plan = new ChunkPlan(total, o.chunkBytes);
    if (start !== end && (this.plan.indexAt(start) < 0 || (end !== total && this.plan.indexAt(end) < 0))) {
      throw new ParameterServerError('DTRAIN_PS_LAYOUT', `shard range [${start}, ${end}) does not start and end on ${o.chunkBytes}-byte chunk boundaries`);
    }
    if (o.weights !== 'zeros' && (!(o.weights instanceof Float32Array) || o.weights.length !== end - start)) {
      throw new ParameterServerError('DTRAIN_PS_LAYOUT', `shard weights must be a Float32Array of ${end - start} elements`);
    }
    const version = o.version ?? 0;
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new ParameterServerError('DTRAIN_PS_CONFIG', `version must be an integer ≥ 0, got ${version}`);
    }
    this.layout = o.layout;
    this.range = { start, end };
    this.size = end - start;
    const plan = planOptimizer(o.optimizer, o.layout, this.range);
    const simd = o.simd !== false;
    const size = this.size;
    const block = Math.min(size, KERNEL_BLOCK);
    const optimizerBytes = optimizerMemoryBytes(plan.config, size);
    const memory = simd ? KernelMemory.create(arrayBytes(size, 4) + arrayBytes(size, 8) + arrayBytes(block, 4) + optimizerBytes) : undefined;
    this.#memory = memory;
    this.#weights = memory?.float32(size) ?? new Float32Array(size);
    this.#wireWeights = o.wireWeights ?? 'float32';
    this.#narrowWeights = new Uint16Array(this.#wireWeights === 'float32' ? 0 : size);
    if (o.weights !== 'zeros') this.#weights.set(o.weights);
    this.#sum = memory?.float64(size) ?? new Float64Array(size);
    this.#mean = new Float32Array(this.#sum.buffer, this.#sum.byteOffset, size);
    this.#valuesBlock = memory?.float32(block) ?? new Float32Array(0);
    this.#optimizer = buildOptimizer(plan, memory ?? (simd ? KernelMemory.create(optimizerBytes) : undefined));
    if (o.optimizerState !== undefined) this.#optimizer.setState(o.optimizerState);
    this.#stateRanges = localRanges(stateRanges(o.layout), this.range);
    const spans = this.plan.chunksOf(this.range);
    this.#chunkOffsets = spans.map((s) => s.offset);
    this.#chunkCounts = spans.map((s) => s.count);
    this.#version = version;
  }

  /** Version of the current weights; +1 per commit. */
  get version(): number {
    return this.#version;
  }

  /** The live weights of the range (not a copy): read them, never write them. */
  get weights(): Float32Array {
    return this.#weights;
  }

  get learningRate(): number {
    return this.#optimizer.learningRate;
  }

  get optimizerConfig(): ResolvedOptimizerConfig {
    return this.#optimizer.config;
  }

  /** What runs the gradient sum and mean (the optimizer's loops too, unless the shard was too big for one memory). */
  get kernels(): KernelKind {
    return this.#memory === undefined ? 'js' : 'wasm-simd';
  }

  /** Chunks in this shard's range. */
  get chunkCount(): number {
    return this.#chunkOffsets.length;
  }

  setLearningRate(learningRate: number): void {
    this.#optimizer.setLearningRate(learningRate);
  }

  /** What this shard has of a worker's push, if anything. */
  push(workerId: number): ShardPush | undefined {
    const p = this.#pushes.get(workerId);
    if (p === undefined) return undefined;
    return { workerId, step: p.step, sampleCount: p.sampleCount, complete: p.receivedCount === this.chunkCount, nonFinite: p.nonFinite };
  }

  /**
   * Sums one gradient chunk, or says why not. `malformed`: not a chunk of
   * this range, a wrong element count, zero samples, or a sample count that
   * differs from the push's earlier chunks. `duplicate`: this chunk of this
   * push already arrived. `stale`: computed at another version, or for an
   * older step than the push this worker has under way. `non-finite`: NaN or
   * ±Infinity in the values (they are summed anyway and the push is marked,
   * so a step that leaves it out aborts instead of applying a poisoned sum).
   */
  acceptChunk(chunk: Chunk): ChunkOutcome {
    if (chunk.kind !== 'gradientChunk' || chunk.sampleCount === 0) return 'malformed';
    const index = this.plan.indexAt(chunk.offset);
    const local = index < 0 ? -1 : this.#chunkOffsets.indexOf(chunk.offset);
    if (local < 0 || this.#chunkCounts[local] !== chunk.count || chunk.values.length !== chunk.count) return 'malformed';
    if (chunk.version !== this.#version || chunk.step <= this.#closedStep) return 'stale';
    let push = this.#pushes.get(chunk.workerId);
    if (push !== undefined && push.step !== chunk.step) {
      if (chunk.step < push.step) return 'stale';
      // A newer step at the same version: the older push was never committed.
      // If it reached the sum, this step cannot commit (see #tainted).
      if (push.receivedCount > 0) this.#tainted ??= `worker ${push.workerId} abandoned its push for step ${push.step} mid-way`;
      push = undefined;
    }
    if (push === undefined) {
      push = { workerId: chunk.workerId, step: chunk.step, sampleCount: chunk.sampleCount, received: new Uint8Array(this.chunkCount), receivedCount: 0, nonFinite: false };
      this.#pushes.set(chunk.workerId, push);
    }
    if (push.sampleCount !== chunk.sampleCount) return 'malformed';
    if (push.received[local] === 1) return 'duplicate';
    push.received[local] = 1;
    push.receivedCount += 1;
    const finite = this.#addScaled(chunk.offset - this.range.start, chunk.values, chunk.sampleCount);
    if (!finite) {
      push.nonFinite = true;
      return 'non-finite';
    }
    return 'accepted';
  }

  /**
   * Applies one step with exactly the pushes in `included`: the
   * sample-weighted mean gradient goes through the optimizer once (trainable
   * entries); state entries take the mean of the pushed values. Each chunk's
   * new weights are passed to `onChunk` as soon as they are computed (see
   * WeightsChunkParts); between chunks the event loop gets a turn so
   * sockets drain while the next chunk is computed.
   */
  async commit(step: number, included: readonly IncludedPush[], onChunk: (parts: WeightsChunkParts) => void): Promise<CommitOutcome> {
    const refusal = this.prepare(step, included);
    if (refusal !== undefined) {
      this.abortStep();
      return { committed: false, reason: refusal };
    }
    let samples = 0;
    for (const p of included) samples += (this.#pushes.get(p.workerId) as PushState).sampleCount;
    if (samples === 0) {
      this.abortStep();
      return { committed: false, reason: 'no push included' };
    }
    const version = this.#version + 1;
    const optimizer = this.#optimizer;
    optimizer.beginStep();
    for (let c = 0; c < this.chunkCount; c += 1) {
      const lo = (this.#chunkOffsets[c] as number) - this.range.start;
      const hi = lo + (this.#chunkCounts[c] as number);
      this.#meanInPlace(lo, hi, samples);
      optimizer.applyChunk(this.#weights, this.#mean, lo, hi);
      this.#copyState(lo, hi);
      onChunk(this.#chunkParts(c, step, version));
      if (c + 1 < this.chunkCount) await yieldToEventLoop();
    }
    optimizer.endStep();
    this.#version = version;
    this.#clear();
    return { committed: true, version, sampleCount: samples };
  }

  /**
   * Phase one of a commit across shards: whether exactly `included` can be
   * applied here (undefined) or why not. Either way the step is closed: no
   * chunk of it or an older step is summed after this, so an answer given
   * stays true until `commit` or `abortStep`.
   */
  prepare(step: number, included: readonly IncludedPush[]): string | undefined {
    if (step > this.#closedStep) this.#closedStep = step;
    return this.#checkIncluded(included);
  }

  /** Drops every push summed since the last commit; those workers may push the same step again. */
  abortStep(): void {
    this.#clear();
    // A step that was not applied runs again under the same number and version.
    this.#closedStep = -1;
  }

  /** The current weights as chunk parts (for a worker that joins or rejoins). */
  currentChunks(step: number): WeightsChunkParts[] {
    return Array.from({ length: this.chunkCount }, (_, c) => this.#chunkParts(c, step, this.#version));
  }

  /**
   * Writes `values` into the weights at `localOffset` within the range, in
   * place: for setting a shard up from data that arrives in pieces. Only
   * before the shard is in use (no step under way).
   * @throws ParameterServerError `DTRAIN_PS_LAYOUT` for values beyond the range.
   */
  writeWeights(localOffset: number, values: Float32Array): void {
    if (!Number.isSafeInteger(localOffset) || localOffset < 0 || localOffset + values.length > this.size) {
      throw new ParameterServerError('DTRAIN_PS_LAYOUT', `${values.length} weights at ${localOffset} do not fit the shard's ${this.size} elements`);
    }
    this.#weights.set(values, localOffset);
  }

  /** Continues from a saved optimizer state of this range (a setup whose state arrived after the shard was made). */
  restoreOptimizerState(state: OptimizerState): void {
    this.#optimizer.setState(state);
  }

  /** The optimizer's state over this range with its arrays as live views (see Optimizer.viewState): valid until the next commit. */
  optimizerStateView(): OptimizerState {
    return this.#optimizer.viewState();
  }

  /** A copy of the optimizer's state over this range. */
  optimizerState(): OptimizerState {
    return this.#optimizer.getState();
  }

  #checkIncluded(included: readonly IncludedPush[]): string | undefined {
    if (this.#tainted !== undefined) return this.#tainted;
    const wanted = new Set<number>();
    for (const p of included) {
      const push = this.#pushes.get(p.workerId);
      if (push === undefined || push.step !== p.step || push.receivedCount !== this.chunkCount) {
        return `push of worker ${p.workerId} for step ${p.step} is incomplete on shard [${this.range.start}, ${this.range.end})`;
      }
      if (push.nonFinite) return `push of worker ${p.workerId} for step ${p.step} is not finite`;
      wanted.add(p.workerId);
    }
    for (const push of this.#pushes.values()) {
      if (push.receivedCount > 0 && !wanted.has(push.workerId)) {
        return `worker ${push.workerId}'s push for step ${push.step} is in the sum but not in the step`;
      }
    }
    return undefined;
  }

  /** sum[at + i] += n · values[i]; false when any value is NaN or ±Inf. */
  #addScaled(at: number, values: Float32Array, n: number): boolean {
    const memory = this.#memory;
    if (memory === undefined) return addScaled(this.#sum, at, values, n);
    const block = this.#valuesBlock;
    const sum = this.#sum.byteOffset + 8 * at;
    let finite = 1;
    for (let from = 0; from < values.length; from += block.length) {
      const to = Math.min(values.length, from + block.length);
      block.set(values.subarray(from, to));
      finite &= memory.kernels.addScaled(sum + 8 * from, block.byteOffset, to - from, n);
    }
    return finite === 1;
  }

  /** mean[i] = sum[i] / samples for i in [lo, hi), ascending (see the note on #mean; the kernel keeps that order). */
  #meanInPlace(lo: number, hi: number, samples: number): void {
    const memory = this.#memory;
    if (memory === undefined) meanInPlace(this.#sum, this.#mean, lo, hi, samples);
    else memory.kernels.mean(this.#sum.byteOffset + 8 * lo, this.#mean.byteOffset + 4 * lo, hi - lo, samples);
  }

  #copyState(lo: number, hi: number): void {
    const ranges = this.#stateRanges;
    const weights = this.#weights;
    const mean = this.#mean;
    for (let r = 0; r < ranges.length; r += 2) {
      const from = Math.max(lo, ranges[r] as number);
      const to = Math.min(hi, ranges[r + 1] as number);
      for (let i = from; i < to; i++) weights[i] = mean[i] as number;
    }
  }

  #chunkParts(c: number, step: number, version: number): WeightsChunkParts {
    const offset = this.#chunkOffsets[c] as number;
    const count = this.#chunkCounts[c] as number;
    const format = this.#wireWeights;
    const header = encodeChunkHeader({ kind: 'weightsChunk', workerId: 0, step, version, sampleCount: 0, offset, count, ...(format === 'float32' ? {} : { format }) });
    const lo = offset - this.range.start;
    const weights = this.#weights;
    if (format === 'float32') return { header, payload: new Uint8Array(weights.buffer, weights.byteOffset + lo * 4, count * 4) };
    // Rounded when asked for (after each commit, and for a joining worker): the same reasoning about torn reads holds for this buffer.
    const narrow = this.#narrowWeights.subarray(lo, lo + count);
    encode16(format, weights.subarray(lo, lo + count), narrow);
    return { header, payload: new Uint8Array(narrow.buffer, narrow.byteOffset, narrow.byteLength) };
  }

  #clear(): void {
    this.#tainted = undefined;
    this.#sum.fill(0);
    this.#pushes.clear();
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
