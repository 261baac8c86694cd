import { describe, expect, it } from 'vitest';
import {
  CHUNK_HEADER_BYTES,
  CHUNK_PAYLOAD_OFFSET,
  ChunkType,
  chunkFrameBytes,
  chunkKindOf,
  decodeChunk,
  encodeChunk,
  encodeChunkHeader,
  writeChunkFrame,
  writeChunkHeader,
  type ChunkHeader,
  type ChunkKind,
} from './chunk-frame.js';
import { encodeMessage } from './encode.js';
import { ProtocolError, ProtocolErrorCode } from './errors.js';
import { MessageType, type MessageKind } from './messages.js';
import { RandomMessages, sampleMessages, seededRandom } from './testing/messages.js';
import { atOffset, rawChunkFrame } from './testing/raw-frame.js';
import { TEST_SEED } from './testing/seed.js';

const KINDS: readonly ChunkKind[] = ['gradientChunk', 'weightsChunk'];
const U32_MAX = 0xffff_ffff;

function bytesOf(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Runs `run`, expecting a ProtocolError with exactly this code and message. */
function expectProtocolError(run: () => unknown, code: string, message: string | RegExp): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ProtocolError);
  const error = thrown as ProtocolError;
  expect(error.name).toBe('ProtocolError');
  expect(error.code).toBe(code);
  if (typeof message === 'string') expect(error.message).toBe(message);
  else expect(error.message).toMatch(message);
}

describe('layout', () => {
  it('has a 24-byte header, payload at byte 32, and type codes 12 and 13', () => {
    expect([CHUNK_HEADER_BYTES, CHUNK_PAYLOAD_OFFSET]).toEqual([24, 32]);
    expect(ChunkType).toStrictEqual({ gradientChunk: 12, weightsChunk: 13 });
    expect([chunkFrameBytes(0), chunkFrameBytes(1), chunkFrameBytes(1024)]).toEqual([32, 36, 32 + 4096]);
  });

  it('writes the documented layout byte for byte (gradientChunk)', () => {
    const frame = encodeChunk({ kind: 'gradientChunk', workerId: 0x0102_0304, step: 5, version: 6, sampleCount: 128, offset: 1024 }, new Float32Array([1, -2]));
    expect(hexOf(frame)).toBe(
      [
        '6474', // magic 'dt'
        '03', // protocol version
        '0c', // gradientChunk
        '18000000', // header length 24
        '04030201', // workerId
        '05000000', // step
        '06000000', // version
        '80000000', // sampleCount 128
        '00040000', // offset 1024
        '02000000', // count 2
        '0000803f', // 1.0f
        '000000c0', // -2.0f
      ].join(''),
    );
  });

  it('writes the documented layout byte for byte (weightsChunk, largest u32 fields)', () => {
    const frame = encodeChunk({ kind: 'weightsChunk', workerId: 0, step: U32_MAX, version: 0x8000_0000, sampleCount: 0, offset: U32_MAX }, new Float32Array([0.5]));
    expect(hexOf(frame)).toBe('6474030d18000000' + '00000000' + 'ffffffff' + '00000080' + '00000000' + 'ffffffff' + '01000000' + '0000003f');
  });
});

describe(`round trip (seed ${TEST_SEED})`, () => {
  it.each(KINDS)('%s: decodeChunk(encodeChunk(h, v)) gives h and v byte for byte, NaN payloads included', (kind) => {
    const random = new RandomMessages(TEST_SEED ^ (ChunkType[kind] << 24));
    const u32 = (): number => [0, 1, U32_MAX, random.int(U32_MAX)][random.int(3)] ?? 0;
    for (let i = 0; i < 200; i++) {
      const header = { kind, workerId: u32(), step: u32(), version: u32(), sampleCount: u32(), offset: u32() };
      // Random bit patterns: every float32 incl. NaNs with payloads, ±Inf, -0, subnormals.
      const values = random.float32(random.length(2048));
      const frame = encodeChunk(header, values);
      expect(frame.byteLength).toBe(chunkFrameBytes(values.length));
      expect(chunkKindOf(frame)).toBe(kind);
      const chunk = decodeChunk(frame);
      const { values: decoded, ...decodedHeader } = chunk;
      expect(decodedHeader).toStrictEqual({ ...header, count: values.length });
      expect(hexOf(bytesOf(decoded))).toBe(hexOf(bytesOf(values)));
    }
  });

  it('keeps quiet and signalling NaN payloads bit for bit', () => {
    const bits = new Uint32Array([0x7fc0_0000, 0x7fc0_0001, 0xffc0_1234, 0x7f80_0001, 0xff80_0001, 0x7fff_ffff, 0x8000_0000]);
    const values = new Float32Array(bits.buffer);
    for (const kind of KINDS) {
      const chunk = decodeChunk(encodeChunk({ kind, workerId: 1, step: 2, version: 3, sampleCount: 4, offset: 5 }, values));
      expect([...new Uint32Array(chunk.values.buffer, chunk.values.byteOffset, chunk.values.length)]).toEqual([...bits]);
    }
  });

  it('carries an empty chunk', () => {
    const chunk = decodeChunk(encodeChunk({ kind: 'weightsChunk', workerId: 0, step: 0, version: 0, sampleCount: 0, offset: 0 }, new Float32Array(0)));
    expect([chunk.count, chunk.values.length]).toEqual([0, 0]);
  });

  it('writeChunkFrame writes into a larger reused buffer at an offset and touches nothing past the frame', () => {
    const holder = new Uint8Array(256).fill(0xee);
    const frame = holder.subarray(8, 200);
    const values = new Float32Array([1, 2, 3]);
    const header = { kind: 'gradientChunk', workerId: 7, step: 8, version: 9, sampleCount: 10, offset: 11 } as const;
    const length = writeChunkFrame(frame, header, values);
    expect(length).toBe(44);
    expect([...holder.subarray(0, 8)].every((b) => b === 0xee)).toBe(true);
    expect([...holder.subarray(8 + length)].every((b) => b === 0xee)).toBe(true);
    expect(hexOf(frame.subarray(0, length))).toBe(hexOf(encodeChunk(header, values)));
    // Written a second time with other values, the same buffer holds the new frame.
    writeChunkFrame(frame, { ...header, step: 12 }, new Float32Array([4]));
    const again = decodeChunk(frame.subarray(0, chunkFrameBytes(1)));
    expect([again.step, again.count, [...again.values]]).toEqual([12, 1, [4]]);
  });

  it('writeChunkHeader writes prefix and header only, leaving the payload region to the caller', () => {
    const frame = new Uint8Array(chunkFrameBytes(2)).fill(0xab);
    const length = writeChunkHeader(frame, { kind: 'weightsChunk', workerId: 0, step: 1, version: 2, sampleCount: 0, offset: 3, count: 2 });
    expect(length).toBe(40);
    expect([...frame.subarray(CHUNK_PAYLOAD_OFFSET)]).toEqual(new Array(8).fill(0xab));
    expect(hexOf(frame.subarray(0, CHUNK_PAYLOAD_OFFSET))).toBe('6474030d18000000' + '00000000' + '01000000' + '02000000' + '00000000' + '03000000' + '02000000');
  });

  it('decodes a frame built by hand, field by field', () => {
    const payload = new Float32Array([3.5, -0, Number.POSITIVE_INFINITY]);
    const chunk = decodeChunk(rawChunkFrame({ typeCode: 13, workerId: 0, step: 41, weightsVersion: 42, sampleCount: 0, offset: 2048, payload }));
    expect({ ...chunk, values: [...chunk.values] }).toStrictEqual({
      kind: 'weightsChunk',
      workerId: 0,
      step: 41,
      version: 42,
      sampleCount: 0,
      offset: 2048,
      count: 3,
      values: [3.5, -0, Number.POSITIVE_INFINITY],
    });
  });
});

describe('decoded payload: a view when aligned, a copy otherwise', () => {
  const header = { kind: 'gradientChunk', workerId: 1, step: 2, version: 3, sampleCount: 4, offset: 0 } as const;
  const values = new Float32Array([1, 2, 3, 4]);

  it.each([0, 4, 8])('at byte offset %i: a view into the frame, no copy', (misalignment) => {
    const frame = atOffset(encodeChunk(header, values), misalignment);
    const chunk = decodeChunk(frame);
    expect(chunk.values.buffer).toBe(frame.buffer);
    expect(chunk.values.byteOffset).toBe(frame.byteOffset + CHUNK_PAYLOAD_OFFSET);
    expect(chunk.values.length).toBe(4);
    // A view sees later writes to the frame.
    frame[CHUNK_PAYLOAD_OFFSET + 3] = (frame[CHUNK_PAYLOAD_OFFSET + 3] ?? 0) ^ 0x40;
    expect(chunk.values[0]).not.toBe(1);
  });

  it.each([1, 2, 3, 5])('at odd byte offset %i: an aligned copy with the same bytes', (misalignment) => {
    const frame = atOffset(encodeChunk(header, values), misalignment);
    const chunk = decodeChunk(frame);
    expect(chunk.values.buffer).not.toBe(frame.buffer);
    expect(chunk.values.byteOffset % 4).toBe(0);
    expect(hexOf(bytesOf(chunk.values))).toBe(hexOf(bytesOf(values)));
    // A copy does not see later writes to the frame.
    frame[CHUNK_PAYLOAD_OFFSET + 3] = (frame[CHUNK_PAYLOAD_OFFSET + 3] ?? 0) ^ 0x40;
    expect(chunk.values[0]).toBe(1);
  });
});

describe('decodeChunk errors', () => {
  const payload = new Float32Array([1, 2]);
  const good = (): Uint8Array => rawChunkFrame({ workerId: 1, step: 2, weightsVersion: 3, sampleCount: 4, offset: 0, payload });

  it('accepts the well-formed base frame', () => {
    expect(decodeChunk(good()).count).toBe(2);
  });

  it('is TRUNCATED at every cut shorter than prefix + header', () => {
    const frame = good();
    for (let cut = 0; cut < CHUNK_PAYLOAD_OFFSET; cut++) {
      expectProtocolError(() => decodeChunk(frame.slice(0, cut)), ProtocolErrorCode.TRUNCATED, `chunk frame of ${cut} bytes is shorter than its 32-byte prefix and header`);
    }
  });

  it('is TRUNCATED at every cut inside the payload its count describes', () => {
    const frame = good();
    for (let cut = CHUNK_PAYLOAD_OFFSET; cut < frame.byteLength; cut++) {
      expectProtocolError(() => decodeChunk(frame.slice(0, cut)), ProtocolErrorCode.TRUNCATED, `gradientChunk: ${cut} bytes, its header says 2 elements (40 bytes)`);
    }
  });

  it('is TRUNCATED when the count claims more than a u32 count of elements could fit, without allocating', () => {
    expectProtocolError(() => decodeChunk(rawChunkFrame({ typeCode: 13, count: U32_MAX, payload })), ProtocolErrorCode.TRUNCATED, `weightsChunk: 40 bytes, its header says ${U32_MAX} elements (${32 + 4 * U32_MAX} bytes)`);
  });

  it.each([1, 3, 4, 400])('is MALFORMED for %i trailing byte(s) after the payload', (trailing) => {
    expectProtocolError(() => decodeChunk(rawChunkFrame({ payload, trailing })), ProtocolErrorCode.MALFORMED, `gradientChunk: ${trailing} trailing bytes after 2 elements`);
  });

  it.each([
    [[0x00, 0x74]],
    [[0x64, 0x00]],
    [[0x74, 0x64]],
  ] as const)('is MALFORMED for bad magic %j', (magic) => {
    expectProtocolError(() => decodeChunk(rawChunkFrame({ magic, payload })), ProtocolErrorCode.MALFORMED, 'chunk frame: bad magic');
  });

  it.each([0, 1, 2, 255])('is VERSION for protocol version byte %i', (version) => {
    expectProtocolError(() => decodeChunk(rawChunkFrame({ version, payload })), ProtocolErrorCode.VERSION, `chunk frame: protocol version ${version}, this build speaks 3`);
  });

  it.each([0, 1, 4, 5, 6, 9, 11, 14, 255])('is UNKNOWN_TYPE for type code %i (not a chunk)', (typeCode) => {
    expectProtocolError(() => decodeChunk(rawChunkFrame({ typeCode, payload })), ProtocolErrorCode.UNKNOWN_TYPE, `chunk frame: type code ${typeCode} is not a chunk`);
  });

  it('is UNKNOWN_TYPE for a control message frame handed to it', () => {
    const heartbeat = encodeMessage(sampleMessages().heartbeat);
    expect(heartbeat.byteLength).toBeGreaterThanOrEqual(CHUNK_PAYLOAD_OFFSET);
    expectProtocolError(() => decodeChunk(heartbeat), ProtocolErrorCode.UNKNOWN_TYPE, 'chunk frame: type code 6 is not a chunk');
  });

  it.each([0, 23, 25, 28, 0x1_0000 + 24])('is MALFORMED for header length %i', (headerLength) => {
    expectProtocolError(() => decodeChunk(rawChunkFrame({ headerLength, payload })), ProtocolErrorCode.MALFORMED, `gradientChunk: header length ${headerLength}, expected 24`);
  });

  it('is OVERSIZED one byte over maxBytes and accepts a frame exactly at it', () => {
    const frame = good();
    expectProtocolError(() => decodeChunk(frame, frame.byteLength - 1), ProtocolErrorCode.OVERSIZED, `chunk frame of 40 bytes exceeds maxBytes 39`);
    expect(decodeChunk(frame, frame.byteLength).count).toBe(2);
  });

  it('checks size, then length, then magic, then version, then type, then header length', () => {
    expectProtocolError(() => decodeChunk(new Uint8Array(64), 16), ProtocolErrorCode.OVERSIZED, 'chunk frame of 64 bytes exceeds maxBytes 16');
    expectProtocolError(() => decodeChunk(new Uint8Array(8)), ProtocolErrorCode.TRUNCATED, /shorter than its 32-byte prefix and header$/);
    expectProtocolError(() => decodeChunk(rawChunkFrame({ magic: [0, 0], version: 9, typeCode: 200, headerLength: 3 })), ProtocolErrorCode.MALFORMED, 'chunk frame: bad magic');
    expectProtocolError(() => decodeChunk(rawChunkFrame({ version: 9, typeCode: 200, headerLength: 3 })), ProtocolErrorCode.VERSION, /version 9/);
    expectProtocolError(() => decodeChunk(rawChunkFrame({ typeCode: 200, headerLength: 3 })), ProtocolErrorCode.UNKNOWN_TYPE, /type code 200/);
    expectProtocolError(() => decodeChunk(rawChunkFrame({ headerLength: 3, count: 99 })), ProtocolErrorCode.MALFORMED, /header length 3/);
  });
});

describe('writing errors', () => {
  const base: ChunkHeader = { kind: 'gradientChunk', workerId: 1, step: 5, version: 6, sampleCount: 1, offset: 0, count: 2 };

  it.each([
    ['workerId', -1],
    ['step', 2 ** 32],
    ['version', 1.5],
    ['sampleCount', Number.NaN],
    ['offset', Number.POSITIVE_INFINITY],
    ['count', -2],
  ] as const)('refuses %s = %s as MALFORMED and leaves the buffer untouched', (field, value) => {
    const header = { ...base, [field]: value };
    const frame = new Uint8Array(64);
    const fields = [header.workerId, header.step, header.version, header.sampleCount, header.offset, header.count].join(', ');
    expectProtocolError(() => writeChunkHeader(frame, header), ProtocolErrorCode.MALFORMED, `gradientChunk: header fields must be u32 integers, got ${fields}`);
    expect(frame.every((b) => b === 0)).toBe(true);
  });

  it('refuses out-of-range fields through writeChunkFrame and encodeChunk too', () => {
    const { count: _count, ...header } = base;
    expectProtocolError(() => writeChunkFrame(new Uint8Array(64), { ...header, workerId: -1 }, new Float32Array(2)), ProtocolErrorCode.MALFORMED, 'gradientChunk: header fields must be u32 integers, got -1, 5, 6, 1, 0, 2');
    expectProtocolError(() => encodeChunk({ ...header, kind: 'weightsChunk', offset: 2 ** 32 }, new Float32Array(1)), ProtocolErrorCode.MALFORMED, 'weightsChunk: header fields must be u32 integers, got 1, 5, 6, 1, 4294967296, 1');
  });

  it('is OVERSIZED when the frame buffer is too small for the count, and writes nothing', () => {
    const frame = new Uint8Array(chunkFrameBytes(2) - 1);
    expectProtocolError(() => writeChunkHeader(frame, base), ProtocolErrorCode.OVERSIZED, 'gradientChunk: 2 elements need 40 bytes, the frame buffer has 39');
    expect(frame.every((b) => b === 0)).toBe(true);
    const { count: _count, ...header } = base;
    expectProtocolError(() => writeChunkFrame(new Uint8Array(40), header, new Float32Array(3)), ProtocolErrorCode.OVERSIZED, 'gradientChunk: 3 elements need 44 bytes, the frame buffer has 40');
  });

  it('accepts a buffer of exactly the frame length', () => {
    expect(writeChunkHeader(new Uint8Array(chunkFrameBytes(2)), base)).toBe(40);
  });
});

describe('chunkKindOf', () => {
  it('names the kind of a chunk frame from its type byte', () => {
    for (const kind of ['gradientChunk', 'weightsChunk'] as const) {
      expect(chunkKindOf(encodeChunk({ kind, workerId: 0, step: 0, version: 0, sampleCount: 0, offset: 0 }, new Float32Array(1)))).toBe(kind);
    }
  });

  it.each(Object.keys(MessageType) as MessageKind[])('is undefined for a %s control frame', (kind) => {
    expect(chunkKindOf(encodeMessage(sampleMessages()[kind]))).toBeUndefined();
  });

  it('is undefined for frames too short to carry a type byte', () => {
    for (let length = 0; length <= 3; length++) expect(chunkKindOf(new Uint8Array([0x64, 0x74, 2]).subarray(0, length))).toBeUndefined();
    expect(chunkKindOf(new Uint8Array([0x64, 0x74, 3, 12]))).toBe('gradientChunk');
  });
});

describe(`hostile bytes (seed ${TEST_SEED})`, () => {
  function decodeOrProtocolError(bytes: Uint8Array): 'ok' | string {
    try {
      decodeChunk(bytes, 1 << 20);
      return 'ok';
    } catch (error) {
      if (error instanceof ProtocolError) return error.code;
      throw error;
    }
  }

  it('every single-bit flip of a chunk frame decodes or throws a ProtocolError', () => {
    const frame = encodeChunk({ kind: 'gradientChunk', workerId: 3, step: 4, version: 5, sampleCount: 6, offset: 1024 }, new Float32Array([1, 2, 3]));
    const codes = new Set<string>();
    for (let bit = 0; bit < frame.byteLength * 8; bit++) {
      const flipped = frame.slice();
      flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      codes.add(decodeOrProtocolError(flipped));
    }
    // Flips in header fields and payload still decode (the receiver's plan judges them); prefix flips do not.
    expect([...codes].sort()).toEqual(
      ['ok', ProtocolErrorCode.MALFORMED, ProtocolErrorCode.VERSION, ProtocolErrorCode.UNKNOWN_TYPE, ProtocolErrorCode.TRUNCATED].sort(),
    );
  });

  it('random bytes behind a chunk prefix decode or throw a ProtocolError', () => {
    const random = seededRandom(TEST_SEED);
    for (let i = 0; i < 2000; i++) {
      const frame = Uint8Array.from({ length: Math.floor(random() * 80) }, () => Math.floor(random() * 256));
      if (frame.byteLength >= 4 && random() < 0.8) frame.set([0x64, 0x74, 3, random() < 0.5 ? 12 : 13]);
      expect(['ok', ...Object.values(ProtocolErrorCode)]).toContain(decodeOrProtocolError(frame));
    }
  });
});

describe('encodeChunkHeader', () => {
  it('is the first 32 bytes of the whole frame, so header + payload sent back to back is the frame', () => {
    const values = new Float32Array([1.5, -2, 3e-39, Number.NaN]);
    const head = { kind: 'weightsChunk', workerId: 0, step: 7, version: 8, sampleCount: 0, offset: 1024 } as const;
    const frame = encodeChunk(head, values);
    const header = encodeChunkHeader({ ...head, count: values.length });
    expect(header.byteLength).toBe(32);
    expect([...header]).toEqual([...frame.subarray(0, 32)]);
    const joined = new Uint8Array(32 + values.byteLength);
    joined.set(header);
    joined.set(new Uint8Array(values.buffer), 32);
    expect([...joined]).toEqual([...frame]);
    expect(decodeChunk(joined)).toMatchObject({ kind: 'weightsChunk', step: 7, version: 8, offset: 1024, count: 4 });
  });
});

describe('16-bit gradient chunks (cluster.wire)', () => {
  const header = { kind: 'gradientChunk', workerId: 2, step: 7, version: 7, sampleCount: 32, offset: 64, count: 3 } as const;
  const frameOf = (format: 'bfloat16' | 'float16', bits: number[], extra = 0): Uint8Array => {
    const head = encodeChunkHeader({ ...header, count: bits.length, format });
    const frame = new Uint8Array(head.byteLength + bits.length * 2 + extra);
    frame.set(head);
    new DataView(frame.buffer).setUint16(head.byteLength, 0, true);
    bits.forEach((b, i) => new DataView(frame.buffer).setUint16(head.byteLength + 2 * i, b, true));
    return frame;
  };

  it.each([
    ['bfloat16', [0x3f80, 0xc000, 0x3e80], [1, -2, 0.25]],
    ['float16', [0x3c00, 0xc000, 0x3400], [1, -2, 0.25]],
  ] as const)('%s: two bytes an element, widened to float32 by decodeChunk', (format, bits, values) => {
    const frame = frameOf(format, [...bits]);
    expect(frame.byteLength).toBe(chunkFrameBytes(3, format));
    expect(chunkFrameBytes(3, format)).toBe(chunkFrameBytes(3) - 6);
    const chunk = decodeChunk(frame);
    expect(chunk).toMatchObject({ ...header, format });
    expect([...chunk.values]).toEqual(values);
    // A length that fits float32 elements, not 16-bit ones, is refused.
    expect(() => decodeChunk(frameOf(format, [...bits], 2))).toThrow(/trailing bytes/);
  });

  it('weights chunks have 16-bit type codes of their own (34, 35)', () => {
    const bits = [0x3f80, 0xc000];
    for (const [format, code] of [['bfloat16', 34], ['float16', 35]] as const) {
      const head = encodeChunkHeader({ ...header, kind: 'weightsChunk', workerId: 0, sampleCount: 0, count: 2, format });
      expect(head[3]).toBe(code);
      const frame = new Uint8Array(head.byteLength + 4);
      frame.set(head);
      const wire = format === 'bfloat16' ? bits : [0x3c00, 0xc000];
      wire.forEach((b, i) => new DataView(frame.buffer).setUint16(head.byteLength + 2 * i, b, true));
      const chunk = decodeChunk(frame);
      expect(chunk).toMatchObject({ kind: 'weightsChunk', format, count: 2 });
      expect([...chunk.values]).toEqual([1, -2]);
    }
  });
});
