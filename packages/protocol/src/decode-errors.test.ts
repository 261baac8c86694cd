import { describe, expect, it } from 'vitest';
import { decodeMessage } from './decode.js';
import { encodeMessage } from './encode.js';
import { ProtocolError, ProtocolErrorCode } from './errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './frame-layout.js';
import { MessageType, type DataChunkMessage, type PushReportMessage } from './messages.js';
import { peerFrame, peerPack, rawFrame, splitMessage } from './testing/raw-frame.js';
import { seededRandom, sampleMessages } from './testing/messages.js';
import { TEST_SEED } from './testing/seed.js';

/** Decodes, expecting a ProtocolError; returns it so the caller can assert code and message. */
function rejection(bytes: Uint8Array, maxBytes?: number): ProtocolError {
  try {
    decodeMessage(bytes, maxBytes === undefined ? {} : { maxBytes });
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return error as ProtocolError;
  }
  throw new Error('decodeMessage accepted the frame');
}

function expectRejected(bytes: Uint8Array, code: string, message: string | RegExp, maxBytes?: number): void {
  const error = rejection(bytes, maxBytes);
  expect(error.name).toBe('ProtocolError');
  expect(error.code).toBe(code);
  if (typeof message === 'string') expect(error.message).toBe(message);
  else expect(error.message).toMatch(message);
}

const { fields: dataChunkFields } = splitMessage(sampleMessages().dataChunk);
const { fields: reportFields } = splitMessage(sampleMessages().pushReport);

describe('size limits', () => {
  it('rejects a frame one byte over maxBytes and accepts one exactly at it', () => {
    const frame = encodeMessage(sampleMessages().dataChunk);
    expectRejected(frame, ProtocolErrorCode.OVERSIZED, `frame of ${frame.byteLength} bytes exceeds maxBytes ${frame.byteLength - 1}`, frame.byteLength - 1);
    expect(decodeMessage(frame, { maxBytes: frame.byteLength }).type).toBe('dataChunk');
  });

  it('checks size before looking at the bytes', () => {
    expectRejected(new Uint8Array(64), ProtocolErrorCode.OVERSIZED, 'frame of 64 bytes exceeds maxBytes 16', 16);
  });

  it('defaults maxBytes to 1 GiB', () => {
    expect(DEFAULT_MAX_MESSAGE_BYTES).toBe(1024 ** 3);
    // Only byteLength is read before the size check; no 1 GiB allocation needed.
    const huge = { byteLength: DEFAULT_MAX_MESSAGE_BYTES + 1 } as unknown as Uint8Array;
    expectRejected(huge, ProtocolErrorCode.OVERSIZED, `frame of ${DEFAULT_MAX_MESSAGE_BYTES + 1} bytes exceeds maxBytes ${DEFAULT_MAX_MESSAGE_BYTES}`);
  });

  it('refuses a nonsensical maxBytes option as a programming error', () => {
    expect(() => decodeMessage(new Uint8Array(8), { maxBytes: Number.NaN })).toThrow(RangeError);
  });
});

describe('truncation', () => {
  it('is TRUNCATED at every cut point, with the region that is short named', () => {
    const frame = encodeMessage(sampleMessages().dataChunk);
    const headerLength = new DataView(frame.buffer, frame.byteOffset).getUint32(4, true);
    expect(frame.byteLength).toBeGreaterThan(8 + headerLength + 8);
    for (let cut = 0; cut < frame.byteLength; cut++) {
      const expected =
        cut < 8
          ? `frame of ${cut} bytes is shorter than the 8-byte prefix`
          : cut < 8 + headerLength
            ? `frame of ${cut} bytes is shorter than its prefix and ${headerLength}-byte header`
            : `frame of ${cut} bytes is shorter than the ${frame.byteLength} bytes its header describes`;
      expectRejected(frame.slice(0, cut), ProtocolErrorCode.TRUNCATED, expected);
    }
  });

  it('is TRUNCATED when the prefix states a header longer than the frame', () => {
    expectRejected(rawFrame({ typeCode: MessageType.leave, header: { fields: { reason: 'x' }, tensors: [] }, statedHeaderLength: 0xffff_ffff }), ProtocolErrorCode.TRUNCATED, /shorter than its prefix and 4294967295-byte header$/);
  });

  it('is TRUNCATED when descriptors claim more elements than the frame holds', () => {
    const frame = rawFrame({ typeCode: MessageType.dataChunk, header: { fields: dataChunkFields, tensors: [['features', 2 ** 40], ['labels', 0]] } });
    expectRejected(frame, ProtocolErrorCode.TRUNCATED, /bytes is shorter than the 4398046511\d+ bytes its header describes$/);
  });

  it('is MALFORMED, not TRUNCATED, for bytes beyond what the header describes', () => {
    const frame = rawFrame({ typeCode: MessageType.dataChunk, header: { fields: dataChunkFields, tensors: [['features', 1], ['labels', 0]] }, tensors: [new Float32Array([1])], trailing: 4 });
    expectRejected(frame, ProtocolErrorCode.MALFORMED, `frame: 4 trailing bytes after the ${frame.byteLength - 4} bytes its header describes`);
  });
});

describe('prefix', () => {
  const good = () => encodeMessage(sampleMessages().heartbeat);

  it.each([0, 1])('rejects a flipped magic byte %i as MALFORMED', (index) => {
    const frame = good();
    frame[index] = (frame[index] ?? 0) ^ 0xff;
    const shown = [...frame.subarray(0, 2)].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
    expectRejected(frame, ProtocolErrorCode.MALFORMED, `frame: bad magic ${shown}, expected 0x64 0x74`);
  });

  it('writes protocol version 3 at byte 2', () => {
    expect(good()[2]).toBe(3);
  });

  it.each([0, 1, 2, 255])('rejects protocol version byte %i as VERSION', (version) => {
    const frame = good();
    frame[2] = version;
    expectRejected(frame, ProtocolErrorCode.VERSION, `frame: protocol version ${version}, this build speaks 3`);
  });

  // 4 and 5 were protocol 1's gradients and weights; 12 and 13 are chunk frames, which decodeChunk reads, not decodeMessage.
  it.each([0, 4, 5, 12, 13, 30, 255])('rejects message type code %i as UNKNOWN_TYPE', (code) => {
    const frame = good();
    frame[3] = code;
    expectRejected(frame, ProtocolErrorCode.UNKNOWN_TYPE, `frame: unknown message type code ${code}`);
  });

  it('checks magic before version before type', () => {
    expectRejected(rawFrame({ typeCode: 200, version: 9, magic: [0, 0] }), ProtocolErrorCode.MALFORMED, /bad magic/);
    expectRejected(rawFrame({ typeCode: 200, version: 9 }), ProtocolErrorCode.VERSION, /version 9/);
  });
});

describe('header', () => {
  it('is MALFORMED when the msgpack inside a complete header region breaks off', () => {
    const frame = rawFrame({ typeCode: MessageType.leave, headerBytes: new Uint8Array([0x81, 0xa1]) });
    expectRejected(frame, ProtocolErrorCode.MALFORMED, /^frame header: undecodable msgpack \(.+\)$/);
    expect(rejection(frame).cause).toBeInstanceOf(Error);
  });

  it('is MALFORMED when the header region holds more than one msgpack value', () => {
    const header = peerPack({ fields: { reason: 'x' }, tensors: [] });
    const frame = rawFrame({ typeCode: MessageType.leave, headerBytes: new Uint8Array([...header, 0x01]) });
    expectRejected(frame, ProtocolErrorCode.MALFORMED, /^frame header: undecodable msgpack \(Data read, but end of buffer not reached/);
  });

  it.each([
    [5, 'leave header: expected an object with "fields" and "tensors", got 5'],
    [[1], 'leave header: expected an object with "fields" and "tensors", got an array of length 1'],
    [{ fields: 'x', tensors: [] }, 'leave header.fields: expected an object, got "x"'],
    [{ fields: new Date(0), tensors: [] }, 'leave header.fields: expected an object, got a Date'],
    [{ fields: { reason: 'x' } }, 'leave header.tensors: expected an array of [name, elementCount], got undefined'],
  ])('rejects header %j', (header, message) => {
    expectRejected(rawFrame({ typeCode: MessageType.leave, header }), ProtocolErrorCode.MALFORMED, message);
  });
});

describe('tensor descriptors', () => {
  const frameWith = (tensors: unknown) => rawFrame({ typeCode: MessageType.dataChunk, header: { fields: dataChunkFields, tensors } });

  it.each([
    [[['features', 0], ['features', 0], ['labels', 0]], 'dataChunk header.tensors[1][0]: expected no second descriptor for dataChunk.features, got "features"'],
    [[['gradients', 0]], 'dataChunk header.tensors[0][0]: expected one of the dataChunk tensor fields [features, labels], got "gradients"'],
    [[], 'dataChunk.features: expected a tensor descriptor, got undefined'],
    [[['features', 0]], 'dataChunk.labels: expected a tensor descriptor, got undefined'],
    [[['features']], 'dataChunk header.tensors[0]: expected a [name, elementCount] pair, got an array of length 1'],
    [[[7, 0]], 'dataChunk header.tensors[0][0]: expected a string, got 7'],
    [[['features', -1]], 'dataChunk.features element count: expected a non-negative integer, got -1'],
    [[['features', 1.5]], 'dataChunk.features element count: expected a non-negative integer, got 1.5'],
    [[['features', '3']], 'dataChunk.features element count: expected a non-negative integer, got "3"'],
  ])('rejects descriptors %j as MALFORMED', (tensors, message) => {
    expectRejected(frameWith(tensors), ProtocolErrorCode.MALFORMED, message);
  });

  it('refuses a protocol-1 style gradients tensor on a pushReport: its gradients travel as chunk frames', () => {
    const frame = peerFrame(MessageType.pushReport, reportFields, { gradients: new Float32Array([1, 2]) });
    expectRejected(frame, ProtocolErrorCode.MALFORMED, 'pushReport header.tensors[0][0]: expected one of the pushReport tensor fields [], got "gradients"');
  });

  it('lets the prefix type and framed tensors win over same-named header fields', () => {
    const frame = peerFrame(MessageType.dataChunk, { ...dataChunkFields, type: 'pushReport', features: 5 }, { features: new Float32Array([7]), labels: new Float32Array(0) });
    const decoded = decodeMessage(frame) as DataChunkMessage;
    expect(decoded.type).toBe('dataChunk');
    expect([...decoded.features]).toEqual([7]);
  });

  it('reads descriptors in any order, placing tensors in that order', () => {
    const frame = peerFrame(MessageType.dataChunk, { chunkId: 0, start: 0, count: 1 }, { labels: new Float32Array([1]), features: new Float32Array([2, 3]) });
    const decoded = decodeMessage(frame);
    expect(decoded.type === 'dataChunk' && [[...decoded.features], [...decoded.labels]]).toEqual([[2, 3], [1]]);
  });
});

describe('numbers', () => {
  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('lets a diverged loss (%s) through for the parameter server to reject and count', (loss) => {
    const decoded = decodeMessage(encodeMessage({ ...sampleMessages().pushReport, loss, finite: false })) as PushReportMessage;
    expect([decoded.loss, decoded.finite]).toEqual([loss, false]);
  });

  it.each([
    ['computeSeconds', Number.POSITIVE_INFINITY, 'pushReport.computeSeconds: expected a finite number ≥ 0, got Infinity'],
    ['computeSeconds', Number.NaN, 'pushReport.computeSeconds: expected a finite number ≥ 0, got NaN'],
    ['step', Number.NaN, 'pushReport.step: expected a non-negative integer, got NaN'],
  ])('rejects non-finite header number %s = %s', (field, value, message) => {
    const frame = peerFrame(MessageType.pushReport, { ...reportFields, [field]: value });
    expectRejected(frame, ProtocolErrorCode.MALFORMED, message);
  });

  it('passes non-finite tensor values through untouched: judging them is the parameter server’s job', () => {
    const features = new Float32Array([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0]);
    const decoded = decodeMessage(encodeMessage({ ...sampleMessages().dataChunk, features })) as DataChunkMessage;
    expect([...decoded.features]).toEqual([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0]);
  });

  it('reads a peer’s int64-encoded integer as a number', () => {
    const { fields } = splitMessage(sampleMessages().heartbeat);
    const decoded = decodeMessage(peerFrame(MessageType.heartbeat, { ...fields, sentAt: 1_712_345_678_901n }));
    expect(decoded.type === 'heartbeat' && decoded.sentAt).toBe(1_712_345_678_901);
  });
});

describe(`hostile bytes (seed ${TEST_SEED})`, () => {
  /** Anything but a valid message or a ProtocolError is a bug (a TypeError, a hang, a huge allocation). */
  function decodeOrProtocolError(bytes: Uint8Array): 'ok' | string {
    try {
      decodeMessage(bytes, { maxBytes: 1 << 20 });
      return 'ok';
    } catch (error) {
      if (error instanceof ProtocolError) return error.code;
      throw error;
    }
  }

  it('every single-bit flip of a frame decodes or throws a ProtocolError', () => {
    const frame = encodeMessage(sampleMessages().dataChunk);
    const codes = new Set<string>();
    for (let bit = 0; bit < frame.byteLength * 8; bit++) {
      const flipped = frame.slice();
      flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      codes.add(decodeOrProtocolError(flipped));
    }
    // Flips in tensor bytes still decode; flips in prefix and header do not.
    expect(codes).toContain('ok');
    expect(codes).toContain(ProtocolErrorCode.MALFORMED);
    expect(codes).toContain(ProtocolErrorCode.VERSION);
  });

  it('every single-bit flip of a welcome (shards, chunkBytes) decodes or throws a ProtocolError', () => {
    const frame = encodeMessage(sampleMessages().welcome);
    const codes = new Set<string>();
    for (let bit = 0; bit < frame.byteLength * 8; bit++) {
      const flipped = frame.slice();
      flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      codes.add(decodeOrProtocolError(flipped));
    }
    expect(codes).toContain(ProtocolErrorCode.MALFORMED);
    expect(codes).toContain(ProtocolErrorCode.VERSION);
    expect(codes).toContain(ProtocolErrorCode.UNKNOWN_TYPE);
  });

  it('random headers behind a valid prefix decode or throw a ProtocolError', () => {
    const random = seededRandom(TEST_SEED);
    for (let i = 0; i < 2000; i++) {
      const header = Uint8Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256));
      const typeCode = 1 + Math.floor(random() * 15);
      expect(['ok', ...Object.values(ProtocolErrorCode)]).toContain(decodeOrProtocolError(rawFrame({ typeCode, headerBytes: header, trailing: Math.floor(random() * 16) })));
    }
  });
});
