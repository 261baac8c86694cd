/**
 * Data-plane frames: one chunk of gradients (worker → shard) or of weights
 * (shard → worker). They share the 8-byte prefix of every frame, but their
 * header is six fixed u32 fields instead of msgpack, so writing one is a few
 * stores into a reused buffer and reading one allocates nothing:
 *
 * ```
 * offset 0   magic 'dt', version u8, type u8, header length u32 LE (= 24)
 * offset 8   workerId u32   (weightsChunk: 0)
 * offset 12  step u32       the step the gradients were computed for / the step just committed
 * offset 16  version u32    weights version the gradients were computed at / the version these weights are
 * offset 20  sampleCount u32 (weightsChunk: 0)
 * offset 24  offset u32     first flat element of the chunk
 * offset 28  count u32      elements in the chunk
 * offset 32  payload        count × float32, little-endian (16-bit gradient chunks: count × u16, see wire-format.ts)
 * ```
 *
 * A chunk's element format is its type code: gradients 12 float32, 32
 * bfloat16, 33 float16 (`cluster.wire`); weights 13 float32, 34 bfloat16,
 * 35 float16 (`cluster.wireWeights`). The receiver widens 16-bit payloads
 * to float32 as it decodes them.
 */
import { ProtocolError, ProtocolErrorCode } from './errors.js';
import { FRAME_MAGIC, FRAME_PREFIX_BYTES, TYPE_OFFSET, VERSION_OFFSET, assertLittleEndianHost, readHeaderLength, writePrefix } from './frame-layout.js';
import { PROTOCOL_VERSION } from './messages.js';
import { decode16, wireElementBytes, type WireFormat } from './wire-format.js';

/** Wire type codes of the data-plane frames (beside MessageType; never renumber). */
export const ChunkType = {
  gradientChunk: 12,
  weightsChunk: 13,
} as const;
export type ChunkKind = keyof typeof ChunkType;

/** Type codes of gradient chunks with 16-bit elements (their kind is still 'gradientChunk'). */
export const Gradient16Type = {
  bfloat16: 32,
  float16: 33,
} as const;

/** Type codes of weights chunks with 16-bit elements (their kind is still 'weightsChunk'). */
export const Weights16Type = {
  bfloat16: 34,
  float16: 35,
} as const;

export const CHUNK_HEADER_BYTES = 24;
/** Where a chunk's payload starts: prefix + fixed header. */
export const CHUNK_PAYLOAD_OFFSET = FRAME_PREFIX_BYTES + CHUNK_HEADER_BYTES;

export interface ChunkHeader {
  readonly kind: ChunkKind;
  readonly workerId: number;
  readonly step: number;
  readonly version: number;
  readonly sampleCount: number;
  readonly offset: number;
  readonly count: number;
  /** Element format of the payload; absent means float32 (the decoders set it only for 16-bit chunks). */
  readonly format?: WireFormat;
}

/** A decoded chunk: its header and its payload (a view into the frame when aligned, else a copy). */
export interface Chunk extends ChunkHeader {
  readonly values: Float32Array;
}

const KIND_BY_CODE = new Map<number, ChunkKind>([
  [ChunkType.gradientChunk, 'gradientChunk'],
  [ChunkType.weightsChunk, 'weightsChunk'],
  [Gradient16Type.bfloat16, 'gradientChunk'],
  [Gradient16Type.float16, 'gradientChunk'],
  [Weights16Type.bfloat16, 'weightsChunk'],
  [Weights16Type.float16, 'weightsChunk'],
]);

const FORMAT_BY_CODE = new Map<number, WireFormat>([
  [Gradient16Type.bfloat16, 'bfloat16'],
  [Gradient16Type.float16, 'float16'],
  [Weights16Type.bfloat16, 'bfloat16'],
  [Weights16Type.float16, 'float16'],
]);

function typeCodeOf(header: ChunkHeader): number {
  const format = header.format ?? 'float32';
  if (format === 'float32') return ChunkType[header.kind];
  return header.kind === 'gradientChunk' ? Gradient16Type[format] : Weights16Type[format];
}

/** The chunk kind of a frame, or undefined when it is a control message (or too short to say). */
export function chunkKindOf(frame: Uint8Array): ChunkKind | undefined {
  return frame.byteLength > TYPE_OFFSET ? KIND_BY_CODE.get(frame[TYPE_OFFSET] ?? 0) : undefined;
}

/** Bytes of a chunk frame carrying `count` elements of `format` (default float32, the largest). */
export function chunkFrameBytes(count: number, format: WireFormat = 'float32'): number {
  return CHUNK_PAYLOAD_OFFSET + count * wireElementBytes(format);
}

const U32_MAX = 0xffff_ffff;

/**
 * Writes prefix and header into `frame` (at least `chunkFrameBytes(count)`
 * bytes, 4-aligned); the payload region is left for the caller (or
 * `writeChunkFrame` copies it). Returns the frame length.
 */
export function writeChunkHeader(frame: Uint8Array, header: ChunkHeader): number {
  const length = chunkFrameBytes(header.count, header.format);
  if (frame.byteLength < length) {
    throw new ProtocolError(ProtocolErrorCode.OVERSIZED, `${header.kind}: ${header.count} elements need ${length} bytes, the frame buffer has ${frame.byteLength}`);
  }
  writeHeaderFields(frame, header);
  return length;
}

function writeHeaderFields(target: Uint8Array, header: ChunkHeader): void {
  assertLittleEndianHost();
  const fields = [header.workerId, header.step, header.version, header.sampleCount, header.offset, header.count];
  for (const value of fields) {
    if (!Number.isInteger(value) || value < 0 || value > U32_MAX) {
      throw new ProtocolError(ProtocolErrorCode.MALFORMED, `${header.kind}: header fields must be u32 integers, got ${fields.join(', ')}`);
    }
  }
  writePrefix(target, PROTOCOL_VERSION, typeCodeOf(header), CHUNK_HEADER_BYTES);
  const view = new DataView(target.buffer, target.byteOffset, CHUNK_PAYLOAD_OFFSET);
  fields.forEach((value, i) => view.setUint32(FRAME_PREFIX_BYTES + 4 * i, value, true));
}

/**
 * The 32-byte prefix and header of a chunk frame alone, for sending a
 * payload that stays where it is (the frame is header + payload, back to
 * back, however the transport gets them onto the wire).
 */
export function encodeChunkHeader(header: ChunkHeader): Uint8Array {
  const head = new Uint8Array(CHUNK_PAYLOAD_OFFSET);
  writeHeaderFields(head, header);
  return head;
}

/** Writes a whole chunk frame (header + a copy of `values`) into `frame`; returns the bytes used. */
export function writeChunkFrame(frame: Uint8Array, header: Omit<ChunkHeader, 'count' | 'format'>, values: Float32Array): number {
  const length = writeChunkHeader(frame, { ...header, count: values.length });
  frame.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), CHUNK_PAYLOAD_OFFSET);
  return length;
}

/** A freshly allocated chunk frame (tests, tools; the hot paths reuse buffers with `writeChunkFrame`). */
export function encodeChunk(header: Omit<ChunkHeader, 'count' | 'format'>, values: Float32Array): Uint8Array {
  const frame = new Uint8Array(chunkFrameBytes(values.length));
  writeChunkFrame(frame, header, values);
  return frame;
}

/**
 * Reads a chunk frame. Checks prefix, version, type, header length and that
 * the length is exactly header + count × 4; payload values are not
 * inspected (finiteness is the shard's to judge, fused with its sum).
 * Throws ProtocolError (TRUNCATED, MALFORMED, VERSION, UNKNOWN_TYPE, OVERSIZED).
 */
export function decodeChunk(frame: Uint8Array, maxBytes = Number.POSITIVE_INFINITY): Chunk {
  const header = decodeChunkHeader(frame, frame.byteLength, maxBytes);
  const address = frame.byteOffset + CHUNK_PAYLOAD_OFFSET;
  const format = header.format ?? 'float32';
  if (format !== 'float32') {
    const payload = address % 2 === 0 ? new Uint16Array(frame.buffer, address, header.count) : new Uint16Array(new Uint8Array(frame.subarray(CHUNK_PAYLOAD_OFFSET)).buffer);
    const values = new Float32Array(header.count);
    decode16(format, payload, values);
    return { ...header, values };
  }
  const values =
    address % 4 === 0
      ? new Float32Array(frame.buffer, address, header.count)
      : new Float32Array(new Uint8Array(frame.subarray(CHUNK_PAYLOAD_OFFSET)).buffer);
  return { ...header, values };
}

/**
 * Reads the prefix and header of a chunk frame of `length` bytes (the first
 * CHUNK_PAYLOAD_OFFSET of them are in `head`), with every check of
 * `decodeChunk` but the payload's: for a stream that places the payload
 * itself (the data link).
 */
export function decodeChunkHeader(head: Uint8Array, length: number, maxBytes = Number.POSITIVE_INFINITY): ChunkHeader {
  assertLittleEndianHost();
  if (!(maxBytes >= 0)) throw new RangeError(`decodeChunk: maxBytes must be a number ≥ 0, got ${maxBytes}`);
  const frame = head;
  if (length > maxBytes) throw new ProtocolError(ProtocolErrorCode.OVERSIZED, `chunk frame of ${length} bytes exceeds maxBytes ${maxBytes}`);
  if (length < CHUNK_PAYLOAD_OFFSET || head.byteLength < CHUNK_PAYLOAD_OFFSET) {
    throw new ProtocolError(ProtocolErrorCode.TRUNCATED, `chunk frame of ${length} bytes is shorter than its ${CHUNK_PAYLOAD_OFFSET}-byte prefix and header`);
  }
  if (frame[0] !== FRAME_MAGIC[0] || frame[1] !== FRAME_MAGIC[1]) throw new ProtocolError(ProtocolErrorCode.MALFORMED, 'chunk frame: bad magic');
  if (frame[VERSION_OFFSET] !== PROTOCOL_VERSION) {
    throw new ProtocolError(ProtocolErrorCode.VERSION, `chunk frame: protocol version ${frame[VERSION_OFFSET]}, this build speaks ${PROTOCOL_VERSION}`);
  }
  const kind = chunkKindOf(frame);
  if (kind === undefined) throw new ProtocolError(ProtocolErrorCode.UNKNOWN_TYPE, `chunk frame: type code ${frame[TYPE_OFFSET]} is not a chunk`);
  const headerLength = readHeaderLength(frame);
  if (headerLength !== CHUNK_HEADER_BYTES) {
    throw new ProtocolError(ProtocolErrorCode.MALFORMED, `${kind}: header length ${headerLength}, expected ${CHUNK_HEADER_BYTES}`);
  }
  const view = new DataView(frame.buffer, frame.byteOffset, CHUNK_PAYLOAD_OFFSET);
  const u32 = (i: number): number => view.getUint32(FRAME_PREFIX_BYTES + 4 * i, true);
  const count = u32(5);
  const format = FORMAT_BY_CODE.get(frame[TYPE_OFFSET] ?? 0) ?? 'float32';
  const expected = chunkFrameBytes(count, format);
  if (length < expected) throw new ProtocolError(ProtocolErrorCode.TRUNCATED, `${kind}: ${length} bytes, its header says ${count} elements (${expected} bytes)`);
  if (length > expected) throw new ProtocolError(ProtocolErrorCode.MALFORMED, `${kind}: ${length - expected} trailing bytes after ${count} elements`);
  return { kind, workerId: u32(0), step: u32(1), version: u32(2), sampleCount: u32(3), offset: u32(4), count, ...(format === 'float32' ? {} : { format }) };
}
