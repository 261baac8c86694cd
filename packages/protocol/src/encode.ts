/**
 * Message → frame. The header (every non-tensor field) is msgpack; each
 * tensor is copied exactly once, as raw bytes, into a frame allocated once at
 * its final size. No per-element work: the cost of a 100 MB gradient push is
 * one allocation and one memcpy.
 */
import { Buffer } from 'node:buffer';
import { ProtocolError, ProtocolErrorCode } from './errors.js';
import { FRAME_PREFIX_BYTES, MAX_HEADER_BYTES, assertLittleEndianHost, tensorRegionStart, writePrefix } from './frame-layout.js';
import { packHeader } from './header-packr.js';
import { MessageType, PROTOCOL_VERSION, type Message } from './messages.js';
import { TENSOR_FIELDS } from './tensor-fields.js';
import { validateMessage } from './validate-message.js';

interface FramePlan {
  readonly typeCode: number;
  /** msgpack bytes; may share the packer's memory, so written before the next pack. */
  readonly header: Uint8Array;
  readonly tensorStart: number;
  /** Byte views of the message's own typed arrays, in descriptor order. */
  readonly tensors: readonly Uint8Array[];
  readonly byteLength: number;
}

function planFrame(message: Message): FramePlan {
  assertLittleEndianHost();
  // Validating on send too turns a local bug (NaN loss, a number[] for a
  // tensor) into an error here, with a field name, instead of a disconnect there.
  const valid = validateMessage(message) as unknown as Readonly<Record<string, unknown>> & Message;
  const tensorFields = TENSOR_FIELDS[valid.type];
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(valid)) {
    if (key !== 'type' && !tensorFields.some((field) => field.name === key)) fields[key] = value;
  }
  const descriptors: [string, number][] = [];
  const tensors: Uint8Array[] = [];
  let tensorBytes = 0;
  for (const field of tensorFields) {
    // The guard has checked the typed array class matches the field's dtype.
    const tensor = valid[field.name] as Float32Array | Uint32Array;
    descriptors.push([field.name, tensor.length]);
    tensors.push(new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.byteLength));
    tensorBytes += tensor.byteLength;
  }
  const header = packHeader({ fields, tensors: descriptors });
  if (header.byteLength > MAX_HEADER_BYTES) {
    throw new ProtocolError(ProtocolErrorCode.OVERSIZED, `${valid.type}: header of ${header.byteLength} bytes exceeds the u32 header length field`);
  }
  const tensorStart = tensorRegionStart(header.byteLength);
  return { typeCode: MessageType[valid.type], header, tensorStart, tensors, byteLength: tensorStart + tensorBytes };
}

function writeHead(frame: Uint8Array, plan: FramePlan): void {
  writePrefix(frame, PROTOCOL_VERSION, plan.typeCode, plan.header.byteLength);
  frame.set(plan.header, FRAME_PREFIX_BYTES);
  frame.fill(0, FRAME_PREFIX_BYTES + plan.header.byteLength, plan.tensorStart);
}

/**
 * Encodes one message into one frame, ready for `socket.send`. The frame
 * owns its bytes: later changes to the message's tensors do not affect it,
 * so one frame can be sent to many sockets.
 *
 * Throws ProtocolError MALFORMED (naming the field) for a message that
 * breaks the contract, BIG_ENDIAN_HOST on a big-endian host.
 */
export function encodeMessage(message: Message): Uint8Array {
  const plan = planFrame(message);
  // Unpooled only above Buffer.poolSize/2; either way, uninitialised memory
  // is fine because every byte is written below.
  const pooled = Buffer.allocUnsafe(plan.byteLength);
  // A plain Uint8Array, so callers get copy-on-slice semantics, not Buffer's.
  const frame = new Uint8Array(pooled.buffer, pooled.byteOffset, pooled.byteLength);
  writeHead(frame, plan);
  let offset = plan.tensorStart;
  for (const tensor of plan.tensors) {
    frame.set(tensor, offset);
    offset += tensor.byteLength;
  }
  return frame;
}

/**
 * Encodes without copying tensors: the first part is prefix + header +
 * padding, then one part per tensor field (possibly empty) viewing the
 * message's own memory. Their concatenation is byte-for-byte
 * `encodeMessage(message)`. For scatter-gather writes (`socket.writev`, ws
 * fragments with `fin: false`); the tensors must not change until written.
 */
export function encodeMessageParts(message: Message): Uint8Array[] {
  const plan = planFrame(message);
  const head = new Uint8Array(plan.tensorStart);
  writeHead(head, plan);
  return [head, ...plan.tensors];
}
