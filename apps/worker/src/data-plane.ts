import { encode16WithFeedback, encodeChunkHeader, type Chunk, type ChunkPlan, type WireFormat } from '@dtrain/protocol';
import { WorkerError } from './errors.js';

/**
 * Assembles weight chunks into the worker's weights array as they arrive
 * (each chunk is copied straight to its place; nothing is buffered), and
 * says when a version is whole. Chunks of a newer version start that
 * version afresh; chunks of an older one are ignored.
 */
export class WeightReceiver {
  readonly #plan: ChunkPlan;
  readonly #received: Uint8Array;
  #version = -1;
  #count = 0;
  /** The last version received in full. */
  #complete = -1;

  constructor(plan: ChunkPlan) {
    this.#plan = plan;
    this.#received = new Uint8Array(plan.chunkCount);
  }

  /** The newest version whose every chunk has arrived; -1 before the first. */
  get completeVersion(): number {
    return this.#complete;
  }

  /**
   * Copies one weights chunk into `weights`; true when it completed its
   * version. Throws WorkerError DTRAIN_WORKER_CHUNK for a chunk that is not
   * one of the plan's (the coordinator and this worker disagree on the model).
   */
  accept(chunk: Chunk, weights: Float32Array): boolean {
    const index = this.#plan.indexAt(chunk.offset);
    if (index < 0 || this.#plan.chunk(index).count !== chunk.count) {
      throw new WorkerError('DTRAIN_WORKER_CHUNK', `weights chunk at offset ${chunk.offset} with ${chunk.count} elements is not a chunk of this model's plan`);
    }
    if (chunk.version < this.#version) return false;
    if (chunk.version > this.#version) {
      this.#version = chunk.version;
      this.#received.fill(0);
      this.#count = 0;
    }
    weights.set(chunk.values, chunk.offset);
    if (this.#received[index] === 0) {
      this.#received[index] = 1;
      this.#count += 1;
    }
    if (this.#count < this.#plan.chunkCount || this.#complete === this.#version) return false;
    this.#complete = this.#version;
    return true;
  }
}

/** Where a gradient chunk goes: one frame given as its header and payload parts, and the chunk's flat offset (which shard owns it). */
export type ChunkSink = (header: Uint8Array, payload: Uint8Array, offset: number) => void;

/**
 * Cuts a step's gradients into chunk frames and hands each to the sink of
 * the shard that owns it: a fresh 32-byte header and a view of the
 * gradients themselves, so nothing model-sized is copied or allocated. The
 * gradients buffer is rewritten only by the next step, which needs the
 * weights that the server sends after it has these chunks; the one case
 * where a view could still be queued then (a push left out of its step at
 * the deadline) sends bytes the server rejects as stale whatever they hold.
 *
 * With a 16-bit wire (cluster.wire) each chunk is rounded into a buffer of
 * the sender's (reused, for the same reason) with error feedback: the
 * residual of what rounding dropped, one float32 per parameter, is added to
 * the next step's gradients. A new sender (a new welcome) starts with none.
 */
export class GradientSender {
  readonly #plan: ChunkPlan;
  readonly #format: WireFormat;
  readonly #residual: Float32Array;
  readonly #narrow: Uint16Array;

  constructor(plan: ChunkPlan, format: WireFormat = 'float32') {
    this.#plan = plan;
    this.#format = format;
    const size = format === 'float32' ? 0 : plan.totalSize;
    this.#residual = new Float32Array(size);
    this.#narrow = new Uint16Array(size);
  }

  get format(): WireFormat {
    return this.#format;
  }

  /** Sends every chunk of `gradients`; returns the bytes sent. */
  send(push: { workerId: number; step: number; version: number; sampleCount: number }, gradients: Float32Array, sink: ChunkSink): number {
    const format = this.#format;
    let bytes = 0;
    for (let i = 0; i < this.#plan.chunkCount; i += 1) {
      const { offset, count } = this.#plan.chunk(i);
      const header = encodeChunkHeader({
        kind: 'gradientChunk',
        workerId: push.workerId,
        step: push.step,
        version: push.version,
        sampleCount: push.sampleCount,
        offset,
        count,
        ...(format === 'float32' ? {} : { format }),
      });
      let payload: Uint8Array;
      if (format === 'float32') payload = new Uint8Array(gradients.buffer, gradients.byteOffset + offset * 4, count * 4);
      else {
        const narrow = this.#narrow.subarray(offset, offset + count);
        encode16WithFeedback(format, gradients.subarray(offset, offset + count), this.#residual.subarray(offset, offset + count), narrow);
        payload = new Uint8Array(narrow.buffer, narrow.byteOffset, narrow.byteLength);
      }
      sink(header, payload, offset);
      bytes += header.byteLength + payload.byteLength;
    }
    return bytes;
  }
}
