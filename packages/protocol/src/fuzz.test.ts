/**
 * Hostile input, fuzzed: arbitrary bytes, mutated valid frames and streams,
 * arbitrary values. Whatever arrives, the decoders return a message that
 * survives a re-encode, or throw ProtocolError — never another exception,
 * and never an allocation the input's size does not pay for. Seeds are
 * fixed so a failure reproduces; numRuns keep the file to a few seconds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHUNK_PAYLOAD_OFFSET, chunkFrameBytes, decodeChunk, decodeChunkHeader, encodeChunk, type ChunkHeader, type ChunkKind } from './chunk-frame.js';
import { DataLinkParser, recordLength } from './data-link.js';
import { decodeMessage } from './decode.js';
import { encodeMessage } from './encode.js';
import { ProtocolError, ProtocolErrorCode } from './errors.js';
import { MessageType, type Message, type MessageKind, type ShardStateMessage } from './messages.js';
import { SlotCollector, stateMessages } from './state-slots.js';
import { atOffset, rawChunkFrame, rawFrame } from './testing/raw-frame.js';
import { RandomMessages, sampleMessages, seededRandom, tensorBytes, withoutTensors } from './testing/messages.js';
import { validateMessage } from './validate-message.js';

// ---------------------------------------------------------------- helpers

const CODES = new Set<string>(Object.values(ProtocolErrorCode));
const KINDS = Object.keys(MessageType) as MessageKind[];

/** Runs `decode`; a ProtocolError with a known code becomes undefined, anything else is rethrown (and fails the property). */
function orProtocolError<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch (error) {
    if (error instanceof ProtocolError && CODES.has(error.code)) return undefined;
    throw error;
  }
}

/** Fills a tensor with seeded bit patterns (NaN payloads, ±Inf and all), so every run builds the same frames. */
function fillSeeded(tensor: Float32Array | Uint32Array, seed: number): void {
  const random = seededRandom(seed);
  const bytes = new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.byteLength);
  for (let i = 0; i < bytes.length; i += 1) bytes[i] = Math.floor(random() * 256);
}

/** Overwrites every tensor of `message` with seeded bytes (RandomMessages fills them from the OS). */
function withSeededTensors<M extends Message>(message: M, seed: number): M {
  for (const value of Object.values(message)) if (value instanceof Float32Array || value instanceof Uint32Array) fillSeeded(value, seed);
  return message;
}

/** Valid frames of every kind: the samples, and a few random messages of each kind. */
const FRAME_POOL: readonly Uint8Array[] = [
  ...Object.values(sampleMessages()).map((message) => encodeMessage(message)),
  ...[1, 2, 3].flatMap((seed) => {
    const random = new RandomMessages(seed);
    return KINDS.map((kind, k) => encodeMessage(withSeededTensors(random.message(kind, 40), seed * 100 + k)));
  }),
];

type Mutation =
  | { readonly op: 'flip'; readonly at: number; readonly xor: number }
  | { readonly op: 'u32'; readonly at: number; readonly value: number }
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'extend'; readonly bytes: Uint8Array }
  | { readonly op: 'splice'; readonly at: number; readonly remove: number; readonly insert: Uint8Array };

/** Length-field values that hit the edges: 0, small, around 2^31 and 2^32. */
const edgyU32 = fc.oneof(fc.constantFrom(0, 1, 24, 0x7fff_ffff, 2 ** 31, 0xffff_fffe, 0xffff_ffff), fc.nat(4096), fc.nat({ max: 0xffff_ffff }));

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('u32' as const), at: fc.nat(), value: edgyU32 }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant('splice' as const), at: fc.nat(), remove: fc.nat(16), insert: fc.uint8Array({ maxLength: 16 }) }),
    weight: 2,
  },
);

/** A mutated copy of `frame`; positions wrap around its (current) length. */
function mutate(frame: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes: Uint8Array = Uint8Array.from(frame);
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : ('at' in m ? m.at : 0) % bytes.length;
    switch (m.op) {
      case 'flip':
        if (bytes.length > 0) bytes[at] = (bytes[at] ?? 0) ^ m.xor;
        break;
      case 'u32':
        if (bytes.length >= 4) new DataView(bytes.buffer).setUint32(Math.min(at, bytes.length - 4), m.value, true);
        break;
      case 'truncate':
        bytes = bytes.slice(0, at);
        break;
      case 'extend':
        bytes = concat([bytes, m.bytes]);
        break;
      case 'splice':
        bytes = concat([bytes.subarray(0, at), m.insert, bytes.subarray(at + m.remove)]);
        break;
    }
  }
  return bytes;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/**
 * The message's fields with -0 read as 0: the guards accept -0 wherever 0
 * is allowed and msgpack writes it as the integer 0, which is the same
 * number (===) to every reader, so it is not a change of value.
 */
function fieldsOf(message: Message): unknown {
  return JSON.parse(JSON.stringify(withoutTensors(message), (_key, value: unknown) => (Object.is(value, -0) ? 0 : typeof value === 'number' && !Number.isFinite(value) ? String(value) : value)));
}

/** A decoded message must come back equal (fields and tensor bytes) through encode → decode, and re-encode to the same bytes. */
function expectRoundTrip(message: Message): void {
  const again = validateMessage(message);
  expect(withoutTensors(again)).toStrictEqual(withoutTensors(message));
  const frame = encodeMessage(message);
  const decoded = decodeMessage(frame);
  expect(fieldsOf(decoded)).toStrictEqual(fieldsOf(message));
  expect(tensorBytes(decoded)).toStrictEqual(tensorBytes(message));
  expect(encodeMessage(decoded)).toStrictEqual(frame);
}

const chunkHeaderArb = fc.record({
  kind: fc.constantFrom<ChunkKind>('gradientChunk', 'weightsChunk'),
  workerId: edgyU32,
  step: edgyU32,
  version: edgyU32,
  sampleCount: edgyU32,
  offset: edgyU32,
});

/** A chunk frame with seeded payload bytes (NaN payloads and all). */
const chunkFrameArb = fc
  .record({ header: chunkHeaderArb, count: fc.nat(64), payloadSeed: fc.nat() })
  .map(({ header, count, payloadSeed }) => {
    const values = new Float32Array(count);
    fillSeeded(values, payloadSeed);
    return encodeChunk(header, values);
  });

/** The chunk must be exactly what the frame's bytes say: re-encoding it gives the frame back. */
function expectChunkIsFrame(frame: Uint8Array, header: ChunkHeader, values: Float32Array): void {
  expect(frame.byteLength).toBe(chunkFrameBytes(header.count));
  expect(values.length).toBe(header.count);
  expect(encodeChunk(header, values)).toStrictEqual(Uint8Array.from(frame));
}

// ---------------------------------------------------------------- frames

describe('decodeMessage on hostile bytes', () => {
  it('arbitrary bytes (and arbitrary bytes behind a valid prefix) decode to a round-tripping message or throw ProtocolError', () => {
    const prefixed = fc
      .record({ type: fc.constantFrom(...Object.values(MessageType)), body: fc.uint8Array({ maxLength: 2048 }) })
      .map(({ type, body }) => {
        const frame = new Uint8Array(8 + body.length);
        frame.set([0x64, 0x74, 3, type]);
        new DataView(frame.buffer).setUint32(4, Math.min(body.length, 200), true);
        frame.set(body, 8);
        return frame;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 4096 }), prefixed), fc.integer({ min: 0, max: 3 }), (bytes, misalignment) => {
        const message = orProtocolError(() => decodeMessage(atOffset(bytes, misalignment)));
        if (message !== undefined) expectRoundTrip(message);
      }),
      { seed: 0x5eed_0001, numRuns: 2000 },
    );
  });

  it('mutated valid frames of every kind (flipped, truncated, extended, spliced, length fields overwritten) decode to a round-tripping message or throw ProtocolError', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FRAME_POOL),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 3 }),
        (frame, mutations, misalignment) => {
          const bytes = atOffset(mutate(frame, mutations), misalignment);
          const message = orProtocolError(() => decodeMessage(bytes, { maxBytes: 1 << 20 }));
          if (message !== undefined) expectRoundTrip(message);
        },
      ),
      { seed: 0x5eed_0002, numRuns: 5000 },
    );
  });

  it('refuses frames whose header claims huge lengths (tensor count, header length, msgpack str/bin/array) without allocating them', () => {
    const values = (count: number): Uint8Array =>
      rawFrame({ typeCode: MessageType.shardState, header: { fields: { id: 1, slot: 's', offset: 0 }, tensors: [['values', count]] } });
    const leave = (spec: { statedHeaderLength?: number; headerBytes?: Uint8Array }): Uint8Array =>
      rawFrame({ typeCode: MessageType.leave, header: { fields: { reason: 'x' }, tensors: [] }, ...spec });
    const cases: [string, Uint8Array, ProtocolErrorCode][] = [
      ['shardState values of 2^31 elements', values(2 ** 31), ProtocolErrorCode.TRUNCATED],
      ['shardState values of 2^53-1 elements', values(Number.MAX_SAFE_INTEGER), ProtocolErrorCode.TRUNCATED],
      ['header length 2^31', leave({ statedHeaderLength: 2 ** 31 }), ProtocolErrorCode.TRUNCATED],
      ['header length 2^32-1', leave({ statedHeaderLength: 0xffff_ffff }), ProtocolErrorCode.TRUNCATED],
      // msgpack str32 / bin32 / array32 / map32 claiming 2^31 or more entries in a 5-byte header.
      ['msgpack str32 of 2^31 bytes', leave({ headerBytes: Uint8Array.of(0xdb, 0x80, 0, 0, 0) }), ProtocolErrorCode.MALFORMED],
      ['msgpack bin32 of 2^31 bytes', leave({ headerBytes: Uint8Array.of(0xc6, 0x80, 0, 0, 0) }), ProtocolErrorCode.MALFORMED],
      ['msgpack array32 of 2^31 items', leave({ headerBytes: Uint8Array.of(0xdd, 0x80, 0, 0, 0) }), ProtocolErrorCode.MALFORMED],
      ['msgpack map32 of 2^32-1 entries', leave({ headerBytes: Uint8Array.of(0xdf, 0xff, 0xff, 0xff, 0xff) }), ProtocolErrorCode.MALFORMED],
    ];
    for (const [name, frame, code] of cases) {
      const before = process.memoryUsage().arrayBuffers;
      let caught: unknown;
      try {
        decodeMessage(frame);
      } catch (error) {
        caught = error;
      }
      expect(caught, name).toBeInstanceOf(ProtocolError);
      expect((caught as ProtocolError).code, name).toBe(code);
      expect(process.memoryUsage().arrayBuffers - before, name).toBeLessThan(1 << 20);
    }
  });

  it('allocates at most a bounded multiple of the input while decoding a batch of large mutated frames', () => {
    /** Frames of up to 64 KiB: shardState / dataChunk / assignment with big tensors, then mutated. */
    const largeFrame = fc
      .record({
        kind: fc.constantFrom('shardState', 'dataChunk', 'assignment'),
        elements: fc.integer({ min: 1, max: 16_000 }),
        seed: fc.nat(),
        mutations: fc.array(mutation, { maxLength: 3 }),
      })
      .map(({ kind, elements, seed, mutations }) => {
        const values = new Float32Array(elements);
        fillSeeded(values, seed);
        const message: Message =
          kind === 'shardState'
            ? { type: 'shardState', id: seed, slot: 'weights', offset: 0, values }
            : kind === 'dataChunk'
              ? { type: 'dataChunk', chunkId: seed, start: 0, count: 1, features: values.subarray(0, elements >> 1), labels: values.subarray(elements >> 1) }
              : { type: 'assignment', step: seed, epoch: 0, version: 0, batchId: 0, sampleIds: new Uint32Array(values.buffer) };
        return mutate(encodeMessage(message), mutations);
      });
    fc.assert(
      fc.property(fc.array(largeFrame, { minLength: 200, maxLength: 200 }), (frames) => {
        const inputBytes = frames.reduce((n, f) => n + f.byteLength, 0);
        const before = process.memoryUsage().arrayBuffers;
        // Kept alive until measured, so nothing decoded can hide behind a collection.
        const decoded = frames.map((frame) => orProtocolError(() => decodeMessage(frame)));
        const growth = process.memoryUsage().arrayBuffers - before;
        expect(decoded).toHaveLength(frames.length);
        expect(growth).toBeLessThan(4 * inputBytes + (1 << 20));
      }),
      { seed: 0x5eed_0004, numRuns: 5 },
    );
  });
});

describe('decodeChunk / decodeChunkHeader on hostile bytes', () => {
  it('mutated chunk frames decode to exactly their own bytes or throw ProtocolError', () => {
    fc.assert(
      fc.property(chunkFrameArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 3 }), (frame, mutations, misalignment) => {
        const bytes = atOffset(mutate(frame, mutations), misalignment);
        const chunk = orProtocolError(() => decodeChunk(bytes, 1 << 20));
        if (chunk !== undefined) expectChunkIsFrame(bytes, chunk, chunk.values);
      }),
      { seed: 0x5eed_0005, numRuns: 3000 },
    );
  });

  it('arbitrary bytes and arbitrary stated lengths give a header consistent with the length, or ProtocolError', () => {
    const head = fc.oneof(fc.uint8Array({ maxLength: 64 }), chunkFrameArb.map((f) => f.subarray(0, CHUNK_PAYLOAD_OFFSET)));
    fc.assert(
      fc.property(head, fc.option(fc.oneof(fc.nat(1 << 12), edgyU32, fc.constant(Number.MAX_SAFE_INTEGER))), fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.nat()), (bytes, stated, maxBytes) => {
        // null: the length the head's own count field implies, so some heads get through.
        const length = stated ?? (bytes.byteLength >= CHUNK_PAYLOAD_OFFSET ? chunkFrameBytes(new DataView(bytes.buffer, bytes.byteOffset).getUint32(28, true)) : bytes.byteLength);
        const header = orProtocolError(() => decodeChunkHeader(bytes, length, maxBytes));
        if (header !== undefined) {
          expect(length).toBe(chunkFrameBytes(header.count));
          expect(length).toBeLessThanOrEqual(maxBytes);
        }
      }),
      { seed: 0x5eed_0006, numRuns: 2000 },
    );
  });

  it('refuses a chunk whose header claims 2^31 or 2^32-1 elements without allocating them', () => {
    for (const count of [2 ** 31, 0xffff_ffff]) {
      const frame = rawChunkFrame({ count, payload: new Float32Array(4) });
      const before = process.memoryUsage().arrayBuffers;
      expect(() => decodeChunk(frame)).toThrow(expect.objectContaining({ code: ProtocolErrorCode.TRUNCATED }));
      expect(() => decodeChunkHeader(frame, chunkFrameBytes(count), 1 << 20)).toThrow(expect.objectContaining({ code: ProtocolErrorCode.OVERSIZED }));
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
    }
  });
});

// ---------------------------------------------------------------- guards

describe('validateMessage on arbitrary values', () => {
  const anything = fc.anything({ withBigInt: true, withBoxedValues: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withObjectString: true });

  it('arbitrary values give a message or ProtocolError', () => {
    fc.assert(
      fc.property(anything, (value) => {
        const message = orProtocolError(() => validateMessage(value));
        if (message !== undefined) expectRoundTrip(message);
      }),
      { seed: 0x5eed_0007, numRuns: 1000 },
    );
  });

  it('objects of every type, each field the valid one, a near-valid one or anything, give a round-tripping message or ProtocolError', () => {
    const samples: Readonly<Record<string, object>> = sampleMessages();
    /** Values near the edges of every field check. */
    const edgy = fc.oneof(
      fc.constantFrom(-1, -0, 0, 0.5, 1, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, '', [], {}, null, true),
      fc.double(),
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.float32Array({ maxLength: 4 }),
      fc.uint32Array({ maxLength: 4 }),
      fc.array(fc.nat(10), { maxLength: 4 }),
    );
    const candidate = fc.constantFrom(...KINDS).chain((kind) => {
      const sample: Readonly<Record<string, unknown>> = { ...samples[kind] };
      const fieldNames = [...Object.keys(sample).filter((key) => key !== 'type'), 'extra', '__proto__'];
      const fieldValue = (name: string): fc.Arbitrary<unknown> =>
        fc.oneof({ arbitrary: fc.constant(sample[name]), weight: 6 }, { arbitrary: edgy, weight: 2 }, { arbitrary: anything, weight: 1 });
      return fc.record(Object.fromEntries(fieldNames.map((name) => [name, fieldValue(name)])), { requiredKeys: [] }).map((fields) => ({ ...fields, type: kind }));
    });
    fc.assert(
      fc.property(candidate, (value) => {
        const message = orProtocolError(() => validateMessage(value));
        if (message !== undefined) expectRoundTrip(message);
      }),
      { seed: 0x5eed_0008, numRuns: 3000 },
    );
  });
});

// ---------------------------------------------------------------- data link

interface Parsed {
  readonly chunks: { header: ChunkHeader; values: Uint8Array }[];
  readonly messages: Message[];
}

const LINK_MAX_ELEMENTS = 64;

/** Feeds `bytes` cut at `cuts`, collecting chunks (copied out of one reused target) and decoded messages. */
function parseLink(bytes: Uint8Array, cuts: readonly number[]): Parsed {
  const parsed: Parsed = { chunks: [], messages: [] };
  const staging = new Float32Array(LINK_MAX_ELEMENTS);
  const parser = new DataLinkParser(
    {
      chunkTarget: (header) => staging.subarray(0, header.count),
      onChunk: (header, values) => parsed.chunks.push({ header, values: Uint8Array.from(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)) }),
      onMessage: (frame) => parsed.messages.push(decodeMessage(frame, { maxBytes: 1 << 16 })),
    },
    { maxChunkFrameBytes: chunkFrameBytes(LINK_MAX_ELEMENTS), maxMessageBytes: 1 << 16 },
  );
  let from = 0;
  for (const cut of [...[...cuts].map((c) => c % (bytes.byteLength + 1)).sort((a, b) => a - b), bytes.byteLength]) {
    parser.feed(bytes.subarray(from, cut));
    from = cut;
  }
  return parsed;
}

/** A valid record stream: chunk frames and message frames of any kind, each behind its length. */
const recordStream = fc.array(fc.oneof(chunkFrameArb, fc.constantFrom(...FRAME_POOL)), { maxLength: 8 }).map((frames) => ({
  frames,
  bytes: concat(frames.flatMap((frame) => [recordLength(frame.byteLength), frame])),
}));

const cuts = fc.array(fc.nat(), { maxLength: 20 });

describe('DataLinkParser on hostile streams', () => {
  it('arbitrary bytes in arbitrary pieces: only ProtocolError escapes', () => {
    const stream = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      // A plausible length in front, so the parser gets past the first field.
      fc.tuple(fc.nat(300), fc.uint8Array({ maxLength: 300 })).map(([length, body]) => concat([recordLength(length), body])),
    );
    fc.assert(
      fc.property(stream, cuts, (bytes, at) => {
        orProtocolError(() => parseLink(bytes, at));
      }),
      { seed: 0x5eed_0009, numRuns: 1000 },
    );
  });

  it('mutated record streams in arbitrary pieces: only ProtocolError escapes, and where it does not, any cut gives the same result', () => {
    fc.assert(
      fc.property(recordStream, fc.array(mutation, { minLength: 1, maxLength: 3 }), cuts, ({ bytes }, mutations, at) => {
        const mutated = mutate(bytes, mutations);
        const whole = orProtocolError(() => parseLink(mutated, []));
        const pieces = orProtocolError(() => parseLink(mutated, at));
        // The parser keeps no state a cut could change: same records, or both refused.
        expect(pieces === undefined).toBe(whole === undefined);
        if (whole !== undefined && pieces !== undefined) {
          expect(pieces.chunks).toStrictEqual(whole.chunks);
          expect(pieces.messages.map(withoutTensors)).toStrictEqual(whole.messages.map(withoutTensors));
        }
      }),
      { seed: 0x5eed_000a, numRuns: 1000 },
    );
  });

  it('a valid record stream cut anywhere yields exactly its chunks and messages, in order', () => {
    fc.assert(
      fc.property(recordStream, cuts, ({ frames, bytes }, at) => {
        const expected: Parsed = { chunks: [], messages: [] };
        for (const frame of frames) {
          if (frame[3] === 12 || frame[3] === 13) {
            const chunk = decodeChunk(frame);
            const { values, ...header } = chunk;
            expected.chunks.push({ header, values: Uint8Array.from(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)) });
          } else {
            expected.messages.push(decodeMessage(frame));
          }
        }
        const parsed = parseLink(bytes, at);
        expect(parsed.chunks).toStrictEqual(expected.chunks);
        expect(parsed.messages.map(withoutTensors)).toStrictEqual(expected.messages.map(withoutTensors));
        expect(parsed.messages.map(tensorBytes)).toStrictEqual(expected.messages.map(tensorBytes));
      }),
      { seed: 0x5eed_000b, numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------- state slots

describe('SlotCollector on hostile shardState streams', () => {
  const slotMessage: fc.Arbitrary<ShardStateMessage> = fc.record({
    type: fc.constant('shardState' as const),
    id: fc.constantFrom(0, 1, 2 ** 53 - 1),
    slot: fc.constantFrom('weights', 'm', 'v', '__proto__', ''),
    offset: fc.oneof(fc.nat(12), fc.constant(Number.MAX_SAFE_INTEGER)),
    values: fc.float32Array({ maxLength: 12 }),
  });

  it('arbitrary shardState messages are collected or refused with ProtocolError, and a complete collector holds exactly what was sent', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.nat(10), fc.array(slotMessage, { maxLength: 30 }), (open, size, messages) => {
        const collector = new SlotCollector(1, open ? 'any' : ['weights', 'm'], size);
        const sent = new Map<string, number[]>();
        for (const message of messages) {
          // After a refusal the caller closes the link, so the stream ends there.
          if (!added(() => collector.add(message))) break;
          sent.set(message.slot, [...(sent.get(message.slot) ?? []), ...floatBits(message.values)]);
        }
        const taken = orProtocolError(() => collector.take());
        expect(taken !== undefined).toBe(collector.complete);
        if (taken !== undefined) {
          for (const [slot, array] of taken) expect(Uint8Array.from(new Uint8Array(array.buffer, array.byteOffset, array.byteLength))).toStrictEqual(floatBytes(sent.get(slot) ?? []));
        }
      }),
      { seed: 0x5eed_000c, numRuns: 1000 },
    );
  });

  it('two slots cut into chunks of any size and interleaved in any way are collected bit for bit', () => {
    fc.assert(
      fc.property(fc.float32Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 50 }), fc.array(fc.boolean(), { maxLength: 100 }), (weights, chunkElements, picks) => {
        const m = weights.map((x) => -x);
        const queues = [[...stateMessages(7, 'weights', weights, chunkElements)], [...stateMessages(7, 'm', m, chunkElements)]];
        const collector = new SlotCollector(7, ['weights', 'm'], weights.length);
        for (const pick of picks) {
          const next = queues[pick ? 1 : 0]?.shift();
          if (next !== undefined) collector.add(next);
        }
        for (const queue of queues) for (const message of queue) collector.add(message);
        const taken = collector.take();
        expect(new Uint8Array(taken.get('weights')?.buffer ?? new ArrayBuffer(0))).toStrictEqual(new Uint8Array(weights.buffer));
        expect(new Uint8Array(taken.get('m')?.buffer ?? new ArrayBuffer(0))).toStrictEqual(new Uint8Array(m.buffer));
      }),
      { seed: 0x5eed_000d, numRuns: 500 },
    );
  });
});

/** True when `add` took the message, false when it refused it with ProtocolError; anything else is rethrown. */
function added(add: () => void): boolean {
  try {
    add();
    return true;
  } catch (error) {
    if (error instanceof ProtocolError && CODES.has(error.code)) return false;
    throw error;
  }
}

function floatBits(values: Float32Array): number[] {
  return [...new Uint32Array(Float32Array.from(values).buffer)];
}

function floatBytes(bits: readonly number[]): Uint8Array {
  return new Uint8Array(Uint32Array.from(bits).buffer);
}
