/**
 * The byte layout of one frame (one WebSocket binary message):
 *
 * ```
 * offset 0   magic          2 bytes  0x64 0x74 ('dt')
 * offset 2   version        u8       PROTOCOL_VERSION
 * offset 3   message type   u8       MessageType code
 * offset 4   header length  u32 LE   bytes of msgpack that follow
 * offset 8   header         msgpack  { fields: {…non-tensor fields}, tensors: [[name, elements], …] }
 *            padding        0–3 zero bytes, so the tensor region starts 4-aligned
 *            tensors        raw little-endian float32 / uint32, back to back, in descriptor order
 * ```
 *
 * Every tensor is 4 bytes per element, so each starts 4-aligned when the
 * region does, and a receiver can view them in place. The frame length is
 * therefore always exactly `align4(8 + headerLength) + 4 * Σ elements`.
 */
import { endianness } from 'node:os';
import { ProtocolError, ProtocolErrorCode } from './errors.js';
import { MessageType, type MessageKind } from './messages.js';

export const FRAME_MAGIC: readonly [number, number] = [0x64, 0x74];
/** Bytes before the header: magic, version, type, header length. */
export const FRAME_PREFIX_BYTES = 8;
/** Alignment of the tensor region and of every tensor in it, bytes. */
export const TENSOR_ALIGNMENT = 4;
/** Default `maxBytes` of `decodeMessage`, and the ws `maxPayload` to pair with it: 1 GiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 2 ** 30;
/** Largest header length the u32 prefix field can state. */
export const MAX_HEADER_BYTES = 0xffff_ffff;

export const VERSION_OFFSET = 2;
export const TYPE_OFFSET = 3;
export const HEADER_LENGTH_OFFSET = 4;

export function alignUp(byteOffset: number): number {
  return Math.ceil(byteOffset / TENSOR_ALIGNMENT) * TENSOR_ALIGNMENT;
}

/** Where the tensor region starts for a header of this many bytes. */
export function tensorRegionStart(headerBytes: number): number {
  return alignUp(FRAME_PREFIX_BYTES + headerBytes);
}

const KIND_BY_CODE: ReadonlyMap<number, MessageKind> = new Map(
  (Object.entries(MessageType) as [MessageKind, number][]).map(([kind, code]) => [code, kind]),
);

/** The message kind of a wire type code, or undefined for a code this build does not know. */
export function kindOfCode(code: number): MessageKind | undefined {
  return KIND_BY_CODE.get(code);
}

/** Writes magic, version, type and header length at the start of `frame`. */
export function writePrefix(frame: Uint8Array, version: number, typeCode: number, headerBytes: number): void {
  frame[0] = FRAME_MAGIC[0];
  frame[1] = FRAME_MAGIC[1];
  frame[VERSION_OFFSET] = version;
  frame[TYPE_OFFSET] = typeCode;
  frame[HEADER_LENGTH_OFFSET] = headerBytes & 0xff;
  frame[HEADER_LENGTH_OFFSET + 1] = (headerBytes >>> 8) & 0xff;
  frame[HEADER_LENGTH_OFFSET + 2] = (headerBytes >>> 16) & 0xff;
  frame[HEADER_LENGTH_OFFSET + 3] = (headerBytes >>> 24) & 0xff;
}

/** Reads the u32 LE header length; the caller has checked the prefix is present. */
export function readHeaderLength(frame: Uint8Array): number {
  const at = HEADER_LENGTH_OFFSET;
  return ((frame[at] ?? 0) | ((frame[at + 1] ?? 0) << 8) | ((frame[at + 2] ?? 0) << 16)) + (frame[at + 3] ?? 0) * 2 ** 24;
}

const HOST_ENDIANNESS = endianness();

/**
 * Tensors are copied and viewed as host-order typed arrays; on a big-endian
 * host that would silently byte-swap every value, so refuse instead.
 * `hostEndianness` is a parameter only so the refusal can be tested.
 */
export function assertLittleEndianHost(hostEndianness: 'BE' | 'LE' = HOST_ENDIANNESS): void {
  if (hostEndianness !== 'LE') {
    throw new ProtocolError(
      ProtocolErrorCode.BIG_ENDIAN_HOST,
      'dtrain frames carry raw little-endian tensors and this host is big-endian; run workers and coordinator on little-endian hosts (x86-64, arm64)',
    );
  }
}
