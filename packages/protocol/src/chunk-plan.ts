/**
 * How the flat weight array is cut for the data plane: fixed-size chunks
 * (`cluster.chunkBytes`), and shard ranges made of whole chunks, balanced by
 * bytes. Workers and shards compute the same plan from the same numbers, so
 * a chunk is named by its flat offset alone.
 */
import { ProtocolError, ProtocolErrorCode } from './errors.js';

/** Default `cluster.chunkBytes`: 4 MiB, BytePS' partition size. */
export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;
/** Smallest accepted `chunkBytes`; smaller chunks cost more in headers and calls than they save. */
export const MIN_CHUNK_BYTES = 4096;

/** One chunk: `count` float32 elements from flat element `offset`. */
export interface ChunkSpan {
  readonly offset: number;
  readonly count: number;
}

/** A contiguous range of the flat layout: elements [start, end). */
export interface FlatRange {
  readonly start: number;
  readonly end: number;
}

export class ChunkPlan {
  /** Elements in the whole flat layout. */
  readonly totalSize: number;
  /** Elements per chunk (the last chunk of the layout may be shorter). */
  readonly chunkElements: number;
  readonly chunkCount: number;

  constructor(totalSize: number, chunkBytes: number) {
    if (!Number.isSafeInteger(totalSize) || totalSize < 0) {
      throw new ProtocolError(ProtocolErrorCode.MALFORMED, `chunk plan: totalSize must be an integer ≥ 0, got ${totalSize}`);
    }
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < MIN_CHUNK_BYTES || chunkBytes % 4 !== 0) {
      throw new ProtocolError(ProtocolErrorCode.MALFORMED, `chunk plan: chunkBytes must be a multiple of 4 ≥ ${MIN_CHUNK_BYTES}, got ${chunkBytes}`);
    }
    this.totalSize = totalSize;
    this.chunkElements = chunkBytes / 4;
    this.chunkCount = Math.ceil(totalSize / this.chunkElements);
  }

  /** Chunk `index` of the layout. */
  chunk(index: number): ChunkSpan {
    const offset = index * this.chunkElements;
    return { offset, count: Math.min(this.chunkElements, this.totalSize - offset) };
  }

  /** The index of the chunk that starts at `offset`, or -1 when no chunk starts there. */
  indexAt(offset: number): number {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= this.totalSize || offset % this.chunkElements !== 0) return -1;
    return offset / this.chunkElements;
  }

  /**
   * `shards` ranges of whole chunks that tile the layout, as equal in bytes
   * as chunk boundaries allow (shard k gets chunks ⌊kC/K⌋ … ⌊(k+1)C/K⌋ − 1).
   * More shards than chunks is refused: a shard with nothing to own is a
   * configuration mistake, not a plan.
   */
  shardRanges(shards: number): FlatRange[] {
    if (!Number.isSafeInteger(shards) || shards < 1) {
      throw new ProtocolError(ProtocolErrorCode.MALFORMED, `chunk plan: shard count must be an integer ≥ 1, got ${shards}`);
    }
    if (shards > Math.max(1, this.chunkCount)) {
      throw new ProtocolError(
        ProtocolErrorCode.MALFORMED,
        `chunk plan: ${shards} shards for ${this.chunkCount} chunk(s) of ${this.chunkElements * 4} bytes; use fewer shards or a smaller cluster.chunkBytes`,
      );
    }
    const ranges: FlatRange[] = [];
    for (let k = 0; k < shards; k += 1) {
      const first = Math.floor((k * this.chunkCount) / shards);
      const last = Math.floor(((k + 1) * this.chunkCount) / shards);
      ranges.push({ start: Math.min(first * this.chunkElements, this.totalSize), end: Math.min(last * this.chunkElements, this.totalSize) });
    }
    return ranges;
  }

  /** The chunks inside `range` (which must start and end on chunk boundaries or at the layout's end). */
  chunksOf(range: FlatRange): ChunkSpan[] {
    const spans: ChunkSpan[] = [];
    for (let offset = range.start; offset < range.end; offset += this.chunkElements) {
      spans.push({ offset, count: Math.min(this.chunkElements, range.end - offset) });
    }
    return spans;
  }
}
