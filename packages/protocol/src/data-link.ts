/**
 * The data link between workers and shard processes: after an HTTP upgrade
 * (`Upgrade: dtrain-data`), a plain byte stream of records, each one frame
 * of the protocol with its length in front:
 *
 * ```
 * u32 LE  frame length L
 * L bytes a chunk frame (gradientChunk / weightsChunk) or a message frame (dataHello, error)
 * ```
 *
 * WebSocket would do, at a price: `ws` gathers every message into a fresh
 * buffer (twice for a fragmented one), which on a 64 MB model is two
 * model-sized copies into newly faulted pages per step on each side, and
 * garbage for the collector. Here a chunk's payload is copied once, from the
 * socket's read buffer to where the receiver wants it (a reused buffer of
 * the link's), as it arrives; nothing is allocated per chunk. A 16-bit
 * gradient chunk (cluster.wire) is gathered in a buffer of the link's and
 * widened into the receiver's float32 target once it is whole.
 */
import { ProtocolError, ProtocolErrorCode } from './errors.js';
import { CHUNK_PAYLOAD_OFFSET, chunkKindOf, decodeChunkHeader, type ChunkHeader } from './chunk-frame.js';
import { FRAME_PREFIX_BYTES } from './frame-layout.js';
import { decode16 } from './wire-format.js';

/** The HTTP Upgrade token of the data link (and of its protocol version). */
export const DATA_LINK_UPGRADE = 'dtrain-data';

/** Bytes of a record's length field. */
export const RECORD_LENGTH_BYTES = 4;

export interface DataLinkHandler {
  /**
   * A chunk's header has arrived: the Float32Array of `header.count`
   * elements its payload is copied into, as the bytes come. Throw a
   * ProtocolError to refuse the chunk (the link is then closed).
   */
  chunkTarget(header: ChunkHeader): Float32Array;
  /** Every byte of the chunk is in its target. */
  onChunk(header: ChunkHeader, values: Float32Array): void;
  /** A whole message frame (decode it with decodeMessage); the bytes are the link's to reuse afterwards. */
  onMessage(frame: Uint8Array): void;
}

export interface DataLinkLimits {
  /** Largest chunk frame (one chunk of the job's plan). */
  readonly maxChunkFrameBytes: number;
  /** Largest message frame. */
  readonly maxMessageBytes: number;
}

const enum Phase {
  length,
  head,
  payload,
  message,
}

/**
 * Parses a data-link byte stream as it arrives, in pieces of any size.
 * Violations (an oversized record, a bad chunk header, a record too short
 * for its frame) throw ProtocolError; after one the stream is not trusted
 * (the caller closes the connection).
 */
export class DataLinkParser {
  readonly #handler: DataLinkHandler;
  readonly #limits: DataLinkLimits;
  #phase = Phase.length;
  /** The length field and the chunk prefix + header, gathered across reads. */
  readonly #small = new Uint8Array(Math.max(RECORD_LENGTH_BYTES, CHUNK_PAYLOAD_OFFSET));
  #have = 0;
  #length = 0;
  #header: ChunkHeader | undefined;
  #target: Uint8Array = new Uint8Array(0);
  #targetValues: Float32Array = new Float32Array(0);
  /** 16-bit payloads arrive here (reused, grown to the largest chunk seen) and are widened into the target at the end. */
  #narrow = new Uint16Array(0);
  #message: Uint8Array = new Uint8Array(0);

  constructor(handler: DataLinkHandler, limits: DataLinkLimits) {
    this.#handler = handler;
    this.#limits = limits;
  }

  /** Feeds the next bytes of the stream. */
  feed(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.byteLength) {
      switch (this.#phase) {
        case Phase.length: {
          at = this.#gather(bytes, at, RECORD_LENGTH_BYTES);
          if (this.#have < RECORD_LENGTH_BYTES) return;
          this.#startRecord(new DataView(this.#small.buffer).getUint32(0, true));
          break;
        }
        case Phase.head: {
          at = this.#gather(bytes, at, CHUNK_PAYLOAD_OFFSET);
          if (this.#have < CHUNK_PAYLOAD_OFFSET) return;
          this.#startChunk();
          break;
        }
        case Phase.payload: {
          const take = Math.min(this.#target.byteLength - this.#have, bytes.byteLength - at);
          this.#target.set(bytes.subarray(at, at + take), this.#have);
          this.#have += take;
          at += take;
          if (this.#have === this.#target.byteLength) this.#finishChunk();
          break;
        }
        case Phase.message: {
          const take = Math.min(this.#length - this.#have, bytes.byteLength - at);
          this.#message.set(bytes.subarray(at, at + take), this.#have);
          this.#have += take;
          at += take;
          if (this.#have === this.#length) {
            const frame = this.#message;
            this.#reset();
            this.#handler.onMessage(frame);
          }
          break;
        }
      }
    }
  }

  /** Copies into #small until it holds `want` bytes; returns the new read position. */
  #gather(bytes: Uint8Array, at: number, want: number): number {
    const take = Math.min(want - this.#have, bytes.byteLength - at);
    this.#small.set(bytes.subarray(at, at + take), this.#have);
    this.#have += take;
    return at + take;
  }

  #startRecord(length: number): void {
    this.#length = length;
    if (length < FRAME_PREFIX_BYTES) throw new ProtocolError(ProtocolErrorCode.TRUNCATED, `data link: a record of ${length} bytes is shorter than a frame prefix`);
    // The frame's type is not known yet: the first bytes decide between chunk and message.
    this.#have = 0;
    this.#phase = Phase.head;
    if (length < CHUNK_PAYLOAD_OFFSET) this.#startMessageFromHead();
  }

  /** The first bytes are in: a chunk frame streams its payload; anything else is a message, gathered whole. */
  #startChunk(): void {
    if (chunkKindOf(this.#small) === undefined) return this.#startMessageFromHead();
    const header = decodeChunkHeader(this.#small, this.#length, this.#limits.maxChunkFrameBytes);
    const values = this.#handler.chunkTarget(header);
    if (values.length !== header.count) throw new ProtocolError(ProtocolErrorCode.MALFORMED, `data link: the target for ${header.count} elements holds ${values.length}`);
    this.#header = header;
    this.#targetValues = values;
    if ((header.format ?? 'float32') === 'float32') this.#target = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    else {
      if (this.#narrow.length < header.count) this.#narrow = new Uint16Array(header.count);
      this.#target = new Uint8Array(this.#narrow.buffer, 0, header.count * 2);
    }
    this.#have = 0;
    this.#phase = Phase.payload;
    if (header.count === 0) this.#finishChunk();
  }

  #startMessageFromHead(): void {
    if (this.#length > this.#limits.maxMessageBytes) {
      throw new ProtocolError(ProtocolErrorCode.OVERSIZED, `data link: a message of ${this.#length} bytes exceeds ${this.#limits.maxMessageBytes}`);
    }
    // Messages are rare and small (dataHello, error): a buffer of their own.
    this.#message = new Uint8Array(this.#length);
    const gathered = Math.min(this.#have, this.#length);
    this.#message.set(this.#small.subarray(0, gathered));
    this.#have = gathered;
    this.#phase = Phase.message;
    if (this.#have === this.#length) {
      const frame = this.#message;
      this.#reset();
      this.#handler.onMessage(frame);
    }
  }

  #finishChunk(): void {
    const header = this.#header as ChunkHeader;
    const values = this.#targetValues;
    const format = header.format ?? 'float32';
    if (format !== 'float32') decode16(format, this.#narrow.subarray(0, header.count), values);
    this.#reset();
    this.#handler.onChunk(header, values);
  }

  #reset(): void {
    this.#phase = Phase.length;
    this.#have = 0;
    this.#header = undefined;
    this.#target = new Uint8Array(0);
    this.#targetValues = new Float32Array(0);
  }
}

/** The length field of a record whose frame is `frameBytes` long (sent in front of it). */
export function recordLength(frameBytes: number): Uint8Array {
  const field = new Uint8Array(RECORD_LENGTH_BYTES);
  new DataView(field.buffer).setUint32(0, frameBytes, true);
  return field;
}

/** The length field and a chunk frame's 32-byte head in one buffer, for `socket.write` before the payload. */
export function chunkRecordHead(head: Uint8Array, payloadBytes: number): Uint8Array {
  const out = new Uint8Array(RECORD_LENGTH_BYTES + head.byteLength);
  new DataView(out.buffer).setUint32(0, head.byteLength + payloadBytes, true);
  out.set(head, RECORD_LENGTH_BYTES);
  return out;
}
