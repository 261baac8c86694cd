/**
 * Frame → message. Checks run cheapest-first and each failure has exactly
 * one code: size (OVERSIZED), prefix length (TRUNCATED), magic (MALFORMED),
 * version (VERSION), type (UNKNOWN_TYPE), header length (TRUNCATED), header
 * msgpack and tensor descriptors (MALFORMED), tensor region length
 * (TRUNCATED, or MALFORMED for trailing bytes), then every field (MALFORMED).
 * Because the prefix states the header length, a cut anywhere in a frame is
 * TRUNCATED, never a msgpack error.
 */
import { ProtocolError, ProtocolErrorCode, malformed } from './errors.js';
import { isPlainObject, nonNegativeInteger, string } from './field-checks.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  FRAME_MAGIC,
  FRAME_PREFIX_BYTES,
  TYPE_OFFSET,
  VERSION_OFFSET,
  assertLittleEndianHost,
  kindOfCode,
  readHeaderLength,
  tensorRegionStart,
} from './frame-layout.js';
import { unpackHeader } from './header-packr.js';
import { PROTOCOL_VERSION, type Message, type MessageKind } from './messages.js';
import { TENSOR_BYTES_PER_ELEMENT, TENSOR_FIELDS, copyTensor, viewTensor, type TensorField } from './tensor-fields.js';
import { validateMessage } from './validate-message.js';

export interface DecodeOptions {
  /**
   * Largest frame accepted, bytes; a longer one throws OVERSIZED before any
   * parsing. Default DEFAULT_MAX_MESSAGE_BYTES (1 GiB). Set it to what the
   * job's largest weights/data chunk message can be, plus headroom.
   */
  readonly maxBytes?: number;
}

interface Descriptor {
  readonly field: TensorField;
  readonly count: number;
}

/**
 * Decodes and validates one frame. Tensors are views into `bytes` when the
 * frame sits at a 4-byte-aligned address (the usual case), else copies: the
 * caller must not reuse or mutate `bytes` while the message is in use.
 *
 * Throws ProtocolError (TRUNCATED, MALFORMED, OVERSIZED, UNKNOWN_TYPE,
 * VERSION, BIG_ENDIAN_HOST); never anything else for any input bytes.
 */
export function decodeMessage(bytes: Uint8Array, options: DecodeOptions = {}): Message {
  assertLittleEndianHost();
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!(maxBytes >= 0)) throw new RangeError(`decodeMessage: maxBytes must be a number ≥ 0, got ${maxBytes}`);
  const length = bytes.byteLength;
  if (length > maxBytes) {
    throw new ProtocolError(ProtocolErrorCode.OVERSIZED, `frame of ${length} bytes exceeds maxBytes ${maxBytes}`);
  }
  if (length < FRAME_PREFIX_BYTES) {
    throw new ProtocolError(ProtocolErrorCode.TRUNCATED, `frame of ${length} bytes is shorter than the ${FRAME_PREFIX_BYTES}-byte prefix`);
  }
  if (bytes[0] !== FRAME_MAGIC[0] || bytes[1] !== FRAME_MAGIC[1]) {
    throw new ProtocolError(ProtocolErrorCode.MALFORMED, `frame: bad magic ${hex(bytes[0])} ${hex(bytes[1])}, expected ${hex(FRAME_MAGIC[0])} ${hex(FRAME_MAGIC[1])}`);
  }
  const version = bytes[VERSION_OFFSET];
  if (version !== PROTOCOL_VERSION) {
    throw new ProtocolError(ProtocolErrorCode.VERSION, `frame: protocol version ${version}, this build speaks ${PROTOCOL_VERSION}`);
  }
  const typeCode = bytes[TYPE_OFFSET] ?? 0;
  const kind = kindOfCode(typeCode);
  if (kind === undefined) {
    throw new ProtocolError(ProtocolErrorCode.UNKNOWN_TYPE, `frame: unknown message type code ${typeCode}`);
  }
  const headerLength = readHeaderLength(bytes);
  const headerEnd = FRAME_PREFIX_BYTES + headerLength;
  if (length < headerEnd) {
    throw new ProtocolError(ProtocolErrorCode.TRUNCATED, `frame of ${length} bytes is shorter than its prefix and ${headerLength}-byte header`);
  }

  const header = unpackHeader(bytes.subarray(FRAME_PREFIX_BYTES, headerEnd));
  if (!isPlainObject(header)) return malformed(`${kind} header`, 'an object with "fields" and "tensors"', header);
  const fields = header['fields'];
  if (!isPlainObject(fields)) return malformed(`${kind} header.fields`, 'an object', fields);
  const descriptors = readDescriptors(kind, header['tensors']);

  const tensorStart = tensorRegionStart(headerLength);
  const frameEnd = descriptors.reduce((end, d) => end + d.count * TENSOR_BYTES_PER_ELEMENT, tensorStart);
  if (length < frameEnd) {
    throw new ProtocolError(ProtocolErrorCode.TRUNCATED, `frame of ${length} bytes is shorter than the ${frameEnd} bytes its header describes`);
  }
  if (length > frameEnd) {
    throw new ProtocolError(ProtocolErrorCode.MALFORMED, `frame: ${length - frameEnd} trailing bytes after the ${frameEnd} bytes its header describes`);
  }

  // Header fields go in first so that the prefix's type and the framed
  // tensors overwrite any header field a peer gave the same name.
  const message: Record<string, unknown> = { ...fields, type: kind };
  let offset = tensorStart;
  for (const { field, count } of descriptors) {
    const byteLength = count * TENSOR_BYTES_PER_ELEMENT;
    const address = bytes.byteOffset + offset;
    message[field.name] =
      address % TENSOR_BYTES_PER_ELEMENT === 0
        ? viewTensor(field.dtype, bytes.buffer, address, count)
        : copyTensor(field.dtype, bytes.subarray(offset, offset + byteLength));
    offset += byteLength;
  }
  return validateMessage(message);
}

/** The descriptor list must name each tensor field of the kind exactly once, and nothing else. */
function readDescriptors(kind: MessageKind, value: unknown): Descriptor[] {
  const path = `${kind} header.tensors`;
  if (!Array.isArray(value)) return malformed(path, 'an array of [name, elementCount]', value);
  const expected = TENSOR_FIELDS[kind];
  const descriptors: Descriptor[] = [];
  value.forEach((entry: unknown, index) => {
    if (!Array.isArray(entry) || entry.length !== 2) return malformed(`${path}[${index}]`, 'a [name, elementCount] pair', entry);
    const name = string(entry[0], `${path}[${index}][0]`);
    const field = expected.find((candidate) => candidate.name === name);
    if (field === undefined) return malformed(`${path}[${index}][0]`, `one of the ${kind} tensor fields [${expected.map((f) => f.name).join(', ')}]`, name);
    if (descriptors.some((d) => d.field === field)) return malformed(`${path}[${index}][0]`, `no second descriptor for ${kind}.${name}`, name);
    descriptors.push({ field, count: nonNegativeInteger(entry[1], `${kind}.${name} element count`) });
  });
  for (const field of expected) {
    if (!descriptors.some((d) => d.field === field)) malformed(`${kind}.${field.name}`, 'a tensor descriptor', undefined);
  }
  return descriptors;
}

function hex(byte: number | undefined): string {
  return `0x${(byte ?? 0).toString(16).padStart(2, '0')}`;
}
