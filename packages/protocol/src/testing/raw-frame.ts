/**
 * Builds frames byte by byte, independently of the encoder, so tests can
 * state what the wire holds and craft frames the encoder would refuse.
 * Test-only (excluded from the build).
 */
import { Packr } from 'msgpackr';
import { PROTOCOL_VERSION } from '../messages.js';

/** A second packer, not the package's: the tests play the remote peer. */
const peerPackr = new Packr({ useRecords: false });

export function peerPack(value: unknown): Uint8Array {
  return peerPackr.pack(value);
}

export interface RawFrameSpec {
  readonly typeCode: number;
  /** Default [0x64, 0x74]. */
  readonly magic?: readonly [number, number];
  /** Default PROTOCOL_VERSION. */
  readonly version?: number;
  /** The header value, msgpack-encoded by the peer packer. */
  readonly header?: unknown;
  /** Raw header bytes; wins over `header`. */
  readonly headerBytes?: Uint8Array;
  /** What the prefix claims the header length is; default the real one. */
  readonly statedHeaderLength?: number;
  /** Raw tensor bytes, in order; each is written as its own bytes (host order = LE here). */
  readonly tensors?: readonly ArrayBufferView[];
  /** Extra bytes appended after the tensors. */
  readonly trailing?: number;
}

export function rawFrame(spec: RawFrameSpec): Uint8Array {
  const header = spec.headerBytes ?? peerPack(spec.header ?? {});
  const tensorStart = Math.ceil((8 + header.byteLength) / 4) * 4;
  const tensors = (spec.tensors ?? []).map((t) => new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  const tensorBytes = tensors.reduce((sum, t) => sum + t.byteLength, 0);
  const frame = new Uint8Array(tensorStart + tensorBytes + (spec.trailing ?? 0));
  const magic = spec.magic ?? [0x64, 0x74];
  frame[0] = magic[0];
  frame[1] = magic[1];
  frame[2] = spec.version ?? PROTOCOL_VERSION;
  frame[3] = spec.typeCode;
  new DataView(frame.buffer).setUint32(4, spec.statedHeaderLength ?? header.byteLength, true);
  frame.set(header, 8);
  let offset = tensorStart;
  for (const tensor of tensors) {
    frame.set(tensor, offset);
    offset += tensor.byteLength;
  }
  return frame;
}

type Tensor = Float32Array | Uint32Array;

/** The frame a peer sends for these header fields and named tensors (descriptors in the given order). */
export function peerFrame(typeCode: number, fields: Readonly<Record<string, unknown>>, tensors: Readonly<Record<string, Tensor>> = {}): Uint8Array {
  const entries = Object.entries(tensors);
  return rawFrame({
    typeCode,
    header: { fields, tensors: entries.map(([name, t]) => [name, t.length]) },
    tensors: entries.map(([, t]) => t),
  });
}

/** Splits a message object into header fields and tensors, the way a peer would. */
export function splitMessage(message: object): { fields: Record<string, unknown>; tensors: Record<string, Tensor> } {
  const fields: Record<string, unknown> = {};
  const tensors: Record<string, Tensor> = {};
  for (const [key, value] of Object.entries(message)) {
    if (key === 'type') continue;
    if (value instanceof Float32Array || value instanceof Uint32Array) tensors[key] = value;
    else fields[key] = value;
  }
  return { fields, tensors };
}

/** Copies a frame to `misalignment` bytes past a fresh 8-aligned buffer start. */
export function atOffset(frame: Uint8Array, misalignment: number): Uint8Array {
  const holder = new Uint8Array(frame.byteLength + misalignment);
  holder.set(frame, misalignment);
  return holder.subarray(misalignment);
}

export interface RawChunkSpec {
  /** Default 12 (gradientChunk). */
  readonly typeCode?: number;
  /** Default [0x64, 0x74]. */
  readonly magic?: readonly [number, number];
  /** Default PROTOCOL_VERSION. */
  readonly version?: number;
  /** What the prefix claims the header length is; default 24. */
  readonly headerLength?: number;
  readonly workerId?: number;
  readonly step?: number;
  /** The header's weights version (the prefix's protocol version is `version`). */
  readonly weightsVersion?: number;
  readonly sampleCount?: number;
  readonly offset?: number;
  /** The header's element count; default the payload's length. */
  readonly count?: number;
  /** The payload's raw bytes; default none. */
  readonly payload?: ArrayBufferView;
  /** Extra bytes appended after the payload. */
  readonly trailing?: number;
}

/** A data-plane chunk frame written field by field (six u32 LE after the prefix), for decodeChunk tests. */
export function rawChunkFrame(spec: RawChunkSpec = {}): Uint8Array {
  const payload = spec.payload === undefined ? new Uint8Array(0) : new Uint8Array(spec.payload.buffer, spec.payload.byteOffset, spec.payload.byteLength);
  const frame = new Uint8Array(32 + payload.byteLength + (spec.trailing ?? 0));
  const view = new DataView(frame.buffer);
  const magic = spec.magic ?? [0x64, 0x74];
  frame[0] = magic[0];
  frame[1] = magic[1];
  frame[2] = spec.version ?? PROTOCOL_VERSION;
  frame[3] = spec.typeCode ?? 12;
  view.setUint32(4, spec.headerLength ?? 24, true);
  const fields = [spec.workerId ?? 0, spec.step ?? 0, spec.weightsVersion ?? 0, spec.sampleCount ?? 0, spec.offset ?? 0, spec.count ?? payload.byteLength / 4];
  fields.forEach((value, i) => view.setUint32(8 + 4 * i, value, true));
  frame.set(payload, 32);
  return frame;
}
