/**
 * @dtrain/protocol — the wire contract between coordinator and workers.
 *
 * One WebSocket binary message is one frame: `encodeMessage` on send,
 * `decodeMessage` on receive. Decoding validates every field and returns a
 * typed message, or throws a ProtocolError.
 *
 * Error handling contract for callers (coordinator and worker): on ANY
 * ProtocolError from `decodeMessage` or `assertCompatibleHello`, send
 * `toErrorMessage(err)` if the socket is still writable and close THAT
 * connection (CloseCode.protocolError); other connections are unaffected.
 * A peer that sent one bad frame is not trusted with the next. The one
 * exception is DTRAIN_PROTOCOL_BIG_ENDIAN_HOST, which means this process
 * cannot run at all.
 */
export * from './messages.js';
export { encodeMessage, encodeMessageParts } from './encode.js';
export { decodeMessage, type DecodeOptions } from './decode.js';
export { validateMessage } from './validate-message.js';
export { assertCompatibleHello, assertSameProtocol } from './handshake.js';
export { ProtocolError, ProtocolErrorCode } from './errors.js';
export { toErrorMessage, MAX_ERROR_MESSAGE_CHARS } from './error-message.js';
export { DEFAULT_MAX_MESSAGE_BYTES, FRAME_MAGIC, FRAME_PREFIX_BYTES } from './frame-layout.js';
export { ChunkPlan, DEFAULT_CHUNK_BYTES, MIN_CHUNK_BYTES, type ChunkSpan, type FlatRange } from './chunk-plan.js';
export {
  ChunkType,
  Gradient16Type,
  Weights16Type,
  CHUNK_HEADER_BYTES,
  CHUNK_PAYLOAD_OFFSET,
  chunkKindOf,
  chunkFrameBytes,
  writeChunkHeader,
  encodeChunkHeader,
  writeChunkFrame,
  encodeChunk,
  decodeChunk,
  type Chunk,
  type ChunkHeader,
  type ChunkKind,
} from './chunk-frame.js';
export { stateMessages, SlotCollector } from './state-slots.js';
export { tokenMatches } from './token-match.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { HTTP_SERVER_LIMITS } from './http-limits.js';
export { DataLinkParser, DATA_LINK_UPGRADE, RECORD_LENGTH_BYTES, recordLength, chunkRecordHead, type DataLinkHandler, type DataLinkLimits } from './data-link.js';
export { decodeChunkHeader } from './chunk-frame.js';
export { WIRE_FORMATS, wireElementBytes, encode16WithFeedback, encode16, decode16, toBfloat16, fromBfloat16, toFloat16, fromFloat16, type WireFormat } from './wire-format.js';
