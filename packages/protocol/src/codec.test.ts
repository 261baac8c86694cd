import { describe, expect, it } from 'vitest';
import { decodeMessage } from './decode.js';
import { encodeMessage, encodeMessageParts } from './encode.js';
import { ProtocolError, ProtocolErrorCode } from './errors.js';
import { MessageType, PROTOCOL_VERSION, type DataChunkMessage, type MessageKind } from './messages.js';
import { atOffset, peerPack, rawFrame } from './testing/raw-frame.js';
import { RandomMessages, sampleMessages, tensorBytes, withoutTensors } from './testing/messages.js';
import { TEST_SEED } from './testing/seed.js';

const KINDS = Object.keys(MessageType) as MessageKind[];
/** The kinds that carry tensors: dataChunk (float32) and assignment (uint32). */
const TENSOR_KINDS = ['assignment', 'dataChunk'] as const;

function tensorsOf(message: object): [string, Float32Array | Uint32Array][] {
  return Object.entries(message).filter((entry): entry is [string, Float32Array | Uint32Array] => entry[1] instanceof Float32Array || entry[1] instanceof Uint32Array);
}

it('speaks protocol version 3', () => {
  expect(PROTOCOL_VERSION).toBe(3);
});

describe(`round trip of random messages (seed ${TEST_SEED})`, () => {
  it.each(KINDS)('%s: decode(encode(m)) equals m field for field and tensor byte for byte', (kind) => {
    const random = new RandomMessages(TEST_SEED ^ (MessageType[kind] << 24));
    for (let i = 0; i < 40; i++) {
      const message = random.message(kind);
      const frame = encodeMessage(message);
      expect([frame[0], frame[1], frame[2], frame[3]]).toEqual([0x64, 0x74, 3, MessageType[kind]]);
      expect(frame.byteLength % 4).toBe(0);
      const decoded = decodeMessage(frame);
      expect(withoutTensors(decoded)).toStrictEqual(withoutTensors(message));
      expect(tensorBytes(decoded)).toEqual(tensorBytes(message));
    }
  });

  it('covers empty tensors wherever the contract allows them', () => {
    const frame = encodeMessage({ type: 'dataChunk', chunkId: 0, start: 0, count: 0, features: new Float32Array(0), labels: new Float32Array(0) });
    const decoded = decodeMessage(frame);
    expect(decoded.type).toBe('dataChunk');
    if (decoded.type !== 'dataChunk') return;
    expect(decoded.features).toBeInstanceOf(Float32Array);
    expect([decoded.features.length, decoded.labels.length]).toEqual([0, 0]);
  });

  it('carries a 4 MB tensor unchanged', () => {
    const features = new RandomMessages(TEST_SEED).float32(1 << 20);
    const decoded = decodeMessage(encodeMessage({ ...sampleMessages().dataChunk, features })) as DataChunkMessage;
    expect(Buffer.compare(Buffer.from(decoded.features.buffer, decoded.features.byteOffset, decoded.features.byteLength), Buffer.from(features.buffer))).toBe(0);
  });

  it('lets a non-finite pushReport loss through unchanged (finite: false)', () => {
    for (const loss of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const report = { ...sampleMessages().pushReport, loss, finite: false };
      expect(decodeMessage(encodeMessage(report))).toStrictEqual(report);
    }
  });
});

describe('decoded tensors are views into the received bytes', () => {
  it.each(TENSOR_KINDS.flatMap((kind) => [0, 4, 8].map((offset) => [kind, offset] as const)))(
    '%s at byte offset %i: same buffer, no copy',
    (kind, offset) => {
      const frame = atOffset(encodeMessage(sampleMessages()[kind]), offset);
      const decoded = decodeMessage(frame);
      const tensors = tensorsOf(decoded);
      expect(tensors.length).toBeGreaterThan(0);
      for (const [, tensor] of tensors) {
        expect(tensor.buffer).toBe(frame.buffer);
        expect(tensor.byteOffset % 4).toBe(0);
        expect(tensor.byteOffset).toBeGreaterThanOrEqual(frame.byteOffset + 8);
        expect(tensor.byteOffset + tensor.byteLength).toBeLessThanOrEqual(frame.byteOffset + frame.byteLength);
        // A view sees later writes to the frame.
        const before = tensor[0];
        const topByte = tensor.byteOffset - frame.byteOffset + 3;
        frame[topByte] = (frame[topByte] ?? 0) ^ 0x40;
        expect(tensor[0]).not.toBe(before);
      }
    },
  );

  it.each(KINDS.flatMap((kind) => [1, 2, 3].map((offset) => [kind, offset] as const)))(
    '%s at misaligned byte offset %i: decodes correctly, tensors into copies',
    (kind, offset) => {
      const message = new RandomMessages(TEST_SEED + offset).message(kind);
      const frame = atOffset(encodeMessage(message), offset);
      const decoded = decodeMessage(frame);
      expect(withoutTensors(decoded)).toStrictEqual(withoutTensors(message));
      expect(tensorBytes(decoded)).toEqual(tensorBytes(message));
      for (const [, tensor] of tensorsOf(decoded)) expect(tensor.buffer).not.toBe(frame.buffer);
    },
  );

  it('starts the tensor region 4-aligned for every header length residue, with zero padding', () => {
    // msgpack writes 0 in 1 byte, 200 in 2, 40000 in 3: the header length moves by 0–3 bytes.
    const residues = new Set<number>();
    for (const chunkId of [0, 200, 40_000]) {
      for (const start of [0, 200]) {
        const message: DataChunkMessage = { ...sampleMessages().dataChunk, chunkId, start };
        const frame = encodeMessage(message);
        const headerLength = new DataView(frame.buffer, frame.byteOffset).getUint32(4, true);
        residues.add((8 + headerLength) % 4);
        const tensorStart = frame.byteLength - message.features.byteLength - message.labels.byteLength;
        expect(tensorStart).toBe(Math.ceil((8 + headerLength) / 4) * 4);
        expect([...frame.subarray(8 + headerLength, tensorStart)].every((byte) => byte === 0)).toBe(true);
        const decoded = decodeMessage(atOffset(frame, 0));
        expect(decoded.type === 'dataChunk' && [decoded.chunkId, decoded.start, [...decoded.features], [...decoded.labels]]).toEqual([
          chunkId,
          start,
          [...message.features],
          [...message.labels],
        ]);
      }
    }
    expect([...residues].sort()).toEqual([0, 1, 2, 3]);
  });
});

describe('encoding', () => {
  it('writes the documented layout byte for byte (heartbeat, no tensors)', () => {
    const frame = encodeMessage({ type: 'heartbeat', kind: 'pong', sentAt: 5 });
    const header = peerPack({ fields: { kind: 'pong', sentAt: 5 }, tensors: [] });
    const expected = [0x64, 0x74, 0x03, 0x06, header.byteLength, 0, 0, 0, ...header];
    while (expected.length % 4 !== 0) expected.push(0);
    expect([...frame]).toEqual(expected);
    expect(Buffer.from(frame).toString('hex')).toBe(
      '6474030628000000de0002a66669656c6473de0002a46b696e64a4706f6e67a673656e74417405a774656e736f727390',
    );
  });

  it('writes tensors as raw little-endian bytes after the header (assignment)', () => {
    const frame = encodeMessage({ type: 'assignment', step: 1, epoch: 2, version: 3, batchId: 4, sampleIds: new Uint32Array([1, 0x01020304]) });
    const expected = rawFrame({
      typeCode: 3,
      header: { fields: { step: 1, epoch: 2, version: 3, batchId: 4 }, tensors: [['sampleIds', 2]] },
      tensors: [new Uint8Array([1, 0, 0, 0, 4, 3, 2, 1])],
    });
    expect([...frame]).toEqual([...expected]);
  });

  it('copies each tensor once: the frame does not change when the message does', () => {
    const message = { ...sampleMessages().dataChunk, features: new Float32Array([1, 2, 3]) };
    const frame = encodeMessage(message);
    message.features[0] = 99;
    expect((decodeMessage(frame) as DataChunkMessage).features[0]).toBe(1);
  });

  it('encodes only the window of a subarray tensor', () => {
    const backing = new Float32Array([0, 1, 2, 3, 4, 5, 6, 7]);
    const decoded = decodeMessage(encodeMessage({ ...sampleMessages().dataChunk, features: backing.subarray(3, 6) })) as DataChunkMessage;
    expect([...decoded.features]).toEqual([3, 4, 5]);
  });

  it('encodeMessageParts: head plus zero-copy tensor parts, concatenating to encodeMessage', () => {
    const message = sampleMessages().dataChunk;
    const parts = encodeMessageParts(message);
    expect(parts.length).toBe(3);
    expect(parts[1]?.buffer).toBe(message.features.buffer);
    expect(parts[2]?.buffer).toBe(message.labels.buffer);
    expect(Buffer.concat(parts).equals(Buffer.from(encodeMessage(message)))).toBe(true);
    expect((parts[0]?.byteLength ?? 0) % 4).toBe(0);
  });

  it('drops properties that are not in the contract', () => {
    const withExtra = { ...sampleMessages().leave, secret: 'x' };
    const frame = encodeMessage(withExtra);
    expect([...frame]).toEqual([...encodeMessage(sampleMessages().leave)]);
    expect(decodeMessage(frame)).toStrictEqual({ type: 'leave', reason: 'SIGTERM' });
  });

  it('leaves an absent optional field absent', () => {
    const { previousWorkerId: _omitted, ...hello } = sampleMessages().hello;
    const decoded = decodeMessage(encodeMessage(hello));
    expect(Object.hasOwn(decoded, 'previousWorkerId')).toBe(false);
  });

  it('validates before sending: a number[] tensor or a string step is refused with the field named', () => {
    const stringStep = { ...sampleMessages().pushReport, step: '3' as unknown as number };
    expect(() => encodeMessage(stringStep)).toThrow(ProtocolError);
    expect(() => encodeMessage(stringStep)).toThrow(expect.objectContaining({
      code: ProtocolErrorCode.MALFORMED,
      message: 'pushReport.step: expected a non-negative integer, got "3"',
    }));
    const listTensor = { ...sampleMessages().dataChunk, features: [1, 2] as unknown as Float32Array };
    expect(() => encodeMessageParts(listTensor)).toThrow(expect.objectContaining({
      code: ProtocolErrorCode.MALFORMED,
      message: 'dataChunk.features: expected a Float32Array, got an array of length 2',
    }));
  });
});
