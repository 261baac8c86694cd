import { FrameSets, chunkFrameBytes, writeChunkHeader, CHUNK_PAYLOAD_OFFSET, type Chunk, type ChunkPlan, type FrameSet } from '@dtrain/protocol';
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

/** Where a gradient frame goes: a function that sends it and calls `onWritten` once the transport is done with it. */
export type FrameSink = (frame: Uint8Array, onWritten: () => void) => void;

/**
 * Cuts a step's gradients into chunk frames, written into reused buffers
 * (two sets in steady state; see FrameSets), and hands each to the sink of
 * the shard that owns it.
 */
export class GradientSender {
  readonly #plan: ChunkPlan;
  readonly #frames: FrameSets;

  constructor(plan: ChunkPlan) {
    this.#plan = plan;
    this.#frames = new FrameSets(Array.from({ length: plan.chunkCount }, (_, i) => chunkFrameBytes(plan.chunk(i).count)));
  }

  /** Frame sets allocated so far (2 in steady state). */
  get frameSetsAllocated(): number {
    return this.#frames.allocated;
  }

  /** Sends every chunk of `gradients`; returns the bytes sent. */
  send(push: { workerId: number; step: number; version: number; sampleCount: number }, gradients: Float32Array, sink: FrameSink): number {
    const set: FrameSet = this.#frames.acquire();
    let bytes = 0;
    for (let i = 0; i < this.#plan.chunkCount; i += 1) {
      const { offset, count } = this.#plan.chunk(i);
      const frame = set.frames[i] as Uint8Array;
      const length = writeChunkHeader(frame, { kind: 'gradientChunk', workerId: push.workerId, step: push.step, version: push.version, sampleCount: push.sampleCount, offset, count });
      new Float32Array(frame.buffer, frame.byteOffset + CHUNK_PAYLOAD_OFFSET, count).set(gradients.subarray(offset, offset + count));
      set.retain();
      sink(frame.subarray(0, length), () => set.release());
      bytes += length;
    }
    return bytes;
  }
}

/** True when every value is finite (x − x is 0 for finite x, NaN otherwise). */
export function allFinite(values: Float32Array): boolean {
  let probe = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] as number;
    probe += x - x;
  }
  return probe === 0;
}
