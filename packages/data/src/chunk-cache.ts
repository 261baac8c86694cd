import { copyRow, outputBuffer } from './chunks.js';
import type { GatheredBatch } from './chunks.js';
import { DataError } from './data-error.js';

/** Shape of the data a {@link ChunkCache} holds; mirrors the protocol's data descriptor. */
export interface ChunkCacheOptions {
  /** Floats per sample in a chunk's features. */
  readonly featureSize: number;
  /** Floats per sample in a chunk's labels. */
  readonly labelSize: number;
  /** Samples per chunk; chunk k starts at sample k × chunkSize. */
  readonly chunkSize: number;
  /** Samples in the whole set, to check each chunk's length. Default: unknown (only chunkSize is checked). */
  readonly numSamples?: number;
}

interface Chunk {
  readonly start: number;
  readonly count: number;
  readonly features: Float32Array;
  readonly labels: Float32Array;
}

/**
 * The chunks of the training set a worker has received, from which it
 * assembles each assigned batch. Arrays are kept by reference: copy them
 * first if the transport reuses its receive buffers.
 */
export class ChunkCache {
  readonly featureSize: number;
  readonly labelSize: number;
  readonly chunkSize: number;
  readonly numSamples: number | undefined;
  readonly #chunks = new Map<number, Chunk>();

  constructor(options: ChunkCacheOptions) {
    for (const field of ['featureSize', 'labelSize', 'chunkSize'] as const) {
      const value = options[field];
      if (!Number.isSafeInteger(value) || value < (field === 'chunkSize' ? 1 : 0)) {
        throw new DataError('DTRAIN_DATA_OPTIONS', `chunk cache: ${field}: expected a ${field === 'chunkSize' ? 'positive' : 'non-negative'} integer, got ${value}`);
      }
    }
    this.featureSize = options.featureSize;
    this.labelSize = options.labelSize;
    this.chunkSize = options.chunkSize;
    this.numSamples = options.numSamples;
  }

  /** Number of chunks held. */
  get size(): number {
    return this.#chunks.size;
  }

  /** Stores a chunk (replacing one with the same id). A chunk that doesn't fit the layout is DTRAIN_DATA_CHUNK. */
  add(chunkId: number, start: number, count: number, features: Float32Array, labels: Float32Array): void {
    const bad = (what: string): never => {
      throw new DataError('DTRAIN_DATA_CHUNK', `chunk ${chunkId}: ${what}`);
    };
    if (!Number.isSafeInteger(chunkId) || chunkId < 0) bad('expected a non-negative integer chunk id');
    if (start !== chunkId * this.chunkSize) bad(`starts at sample ${start}; expected ${chunkId * this.chunkSize} (chunk size ${this.chunkSize})`);
    const expectedCount = this.numSamples === undefined ? undefined : Math.min(this.chunkSize, this.numSamples - start);
    if (expectedCount !== undefined && expectedCount <= 0) bad(`starts past the last sample ${(this.numSamples ?? 0) - 1}`);
    if (!Number.isSafeInteger(count) || count < 1 || count > this.chunkSize || (expectedCount !== undefined && count !== expectedCount)) {
      bad(`holds ${count} samples; expected ${expectedCount ?? `1..${this.chunkSize}`}`);
    }
    if (features.length !== count * this.featureSize) bad(`has ${features.length} feature floats; expected ${count} × ${this.featureSize}`);
    if (labels.length !== count * this.labelSize) bad(`has ${labels.length} label floats; expected ${count} × ${this.labelSize}`);
    this.#chunks.set(chunkId, { start, count, features, labels });
  }

  has(chunkId: number): boolean {
    return this.#chunks.has(chunkId);
  }

  delete(chunkId: number): boolean {
    return this.#chunks.delete(chunkId);
  }

  clear(): void {
    this.#chunks.clear();
  }

  /** Chunks needed by `sampleIds` that the cache does not hold, ascending: what to ask the coordinator for. */
  missingChunks(sampleIds: ArrayLike<number>): number[] {
    const missing = new Set<number>();
    for (let i = 0; i < sampleIds.length; i++) {
      const chunkId = Math.floor((sampleIds[i] as number) / this.chunkSize);
      if (!this.#chunks.has(chunkId)) missing.add(chunkId);
    }
    return [...missing].sort((a, b) => a - b);
  }

  /**
   * Copies the rows of `sampleIds` into `outX`/`outY` (or new arrays), in
   * order. A sample whose chunk is not held is DTRAIN_DATA_CHUNK.
   */
  gather(sampleIds: ArrayLike<number>, outX?: Float32Array, outY?: Float32Array): GatheredBatch {
    const { featureSize, labelSize, chunkSize } = this;
    const n = sampleIds.length;
    const x = outputBuffer(outX, n * featureSize, 'outX');
    const y = outputBuffer(outY, n * labelSize, 'outY');
    for (let i = 0; i < n; i++) {
      const id = sampleIds[i] as number;
      const chunkId = Math.floor(id / chunkSize);
      const chunk = this.#chunks.get(chunkId);
      const offset = id - chunkId * chunkSize;
      if (chunk === undefined || !Number.isInteger(id) || offset >= chunk.count) {
        const why = chunk === undefined ? `which this cache does not hold (it holds ${this.#chunks.size} chunks)` : `which holds only ${chunk.count} samples`;
        throw new DataError('DTRAIN_DATA_CHUNK', `sample ${id} (batch position ${i}) needs chunk ${chunkId}, ${why}`);
      }
      copyRow(chunk.features, offset * featureSize, x, i * featureSize, featureSize);
      copyRow(chunk.labels, offset * labelSize, y, i * labelSize, labelSize);
    }
    return { x, y };
  }
}
