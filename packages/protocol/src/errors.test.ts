import { describe, expect, it } from 'vitest';
import { decodeMessage } from './decode.js';
import { encodeMessage } from './encode.js';
import { MAX_ERROR_MESSAGE_CHARS, toErrorMessage } from './error-message.js';
import { ProtocolError, ProtocolErrorCode } from './errors.js';
import { assertLittleEndianHost } from './frame-layout.js';
import { assertCompatibleHello } from './handshake.js';
import * as publicApi from './index.js';
import { PROTOCOL_VERSION } from './messages.js';
import { sampleMessages } from './testing/messages.js';

describe('ProtocolError', () => {
  it('is an Error with a stable name and code', () => {
    const error = new ProtocolError(ProtocolErrorCode.TRUNCATED, 'short', { cause: 'x' });
    expect(error).toBeInstanceOf(Error);
    expect([error.name, error.code, error.message, error.cause]).toEqual(['ProtocolError', 'DTRAIN_PROTOCOL_TRUNCATED', 'short', 'x']);
    expect(String(error)).toBe('ProtocolError: short');
  });

  it('keeps its code strings stable', () => {
    expect(ProtocolErrorCode).toStrictEqual({
      TRUNCATED: 'DTRAIN_PROTOCOL_TRUNCATED',
      MALFORMED: 'DTRAIN_PROTOCOL_MALFORMED',
      OVERSIZED: 'DTRAIN_PROTOCOL_OVERSIZED',
      UNKNOWN_TYPE: 'DTRAIN_PROTOCOL_UNKNOWN_TYPE',
      VERSION: 'DTRAIN_PROTOCOL_VERSION',
      BIG_ENDIAN_HOST: 'DTRAIN_PROTOCOL_BIG_ENDIAN_HOST',
      INTERNAL: 'DTRAIN_PROTOCOL_INTERNAL',
    });
  });
});

describe('toErrorMessage', () => {
  it('keeps a ProtocolError’s code and message', () => {
    expect(toErrorMessage(new ProtocolError(ProtocolErrorCode.VERSION, 'v2'))).toStrictEqual({ type: 'error', code: 'DTRAIN_PROTOCOL_VERSION', message: 'v2' });
  });

  it('keeps the code of another dtrain error', () => {
    const error = Object.assign(new Error('batchSize: expected a positive integer'), { code: 'DTRAIN_CONFIG_INVALID' });
    expect(toErrorMessage(error)).toStrictEqual({ type: 'error', code: 'DTRAIN_CONFIG_INVALID', message: 'batchSize: expected a positive integer' });
  });

  it.each([
    ['a TypeError', new TypeError('x is not a function'), 'TypeError: x is not a function'],
    ['a non-dtrain code', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'Error: refused'],
    ['a thrown string', 'oops', 'non-error thrown: "oops"'],
    ['undefined', undefined, 'non-error thrown: undefined'],
    ['an object whose toString throws', { toString: () => { throw new Error('hostile'); } }, 'non-error thrown: a value of type object'],
  ])('normalises %s to DTRAIN_PROTOCOL_INTERNAL', (_label, thrown, message) => {
    expect(toErrorMessage(thrown)).toStrictEqual({ type: 'error', code: 'DTRAIN_PROTOCOL_INTERNAL', message });
  });

  it(`clips messages to ${MAX_ERROR_MESSAGE_CHARS} characters`, () => {
    const { message } = toErrorMessage(new Error('e'.repeat(5000)));
    expect(message.length).toBe(MAX_ERROR_MESSAGE_CHARS);
    expect(message.endsWith('…')).toBe(true);
  });

  it('produces a message that survives the codec', () => {
    const sent = toErrorMessage(new RangeError('bad'));
    expect(decodeMessage(encodeMessage(sent))).toStrictEqual(sent);
  });
});

describe('assertCompatibleHello', () => {
  it('accepts the current protocol version', () => {
    expect(() => assertCompatibleHello(sampleMessages().hello)).not.toThrow();
  });

  it.each([0, PROTOCOL_VERSION + 1])('rejects protocol version %i with VERSION', (protocolVersion) => {
    const hello = { ...sampleMessages().hello, protocolVersion };
    expect(() => assertCompatibleHello(hello)).toThrow(ProtocolError);
    expect(() => assertCompatibleHello(hello)).toThrow(expect.objectContaining({
      code: 'DTRAIN_PROTOCOL_VERSION',
      message: `hello.protocolVersion: worker speaks protocol version ${protocolVersion}, this coordinator speaks ${PROTOCOL_VERSION}; run the same dtrain version on both`,
    }));
  });
});

describe('host byte order', () => {
  it('refuses a big-endian host with BIG_ENDIAN_HOST', () => {
    expect(() => assertLittleEndianHost('BE')).toThrow(expect.objectContaining({ name: 'ProtocolError', code: 'DTRAIN_PROTOCOL_BIG_ENDIAN_HOST', message: expect.stringMatching(/^dtrain frames carry raw little-endian tensors and this host is big-endian/) }));
    expect(() => assertLittleEndianHost('LE')).not.toThrow();
  });
});

describe('public surface', () => {
  it('exports exactly the intended names', () => {
    expect(Object.keys(publicApi).sort()).toEqual([
      'CHUNK_HEADER_BYTES',
      'CHUNK_PAYLOAD_OFFSET',
      'ChunkPlan',
      'ChunkType',
      'DATA_LINK_UPGRADE',
      'DEFAULT_CHUNK_BYTES',
      'DEFAULT_MAX_MESSAGE_BYTES',
      'DataLinkParser',
      'FRAME_MAGIC',
      'FRAME_PREFIX_BYTES',
      'Gradient16Type',
      'HTTP_SERVER_LIMITS',
      'MAX_ERROR_MESSAGE_CHARS',
      'MIN_CHUNK_BYTES',
      'MessageType',
      'PROTOCOL_VERSION',
      'ProtocolError',
      'ProtocolErrorCode',
      'RECORD_LENGTH_BYTES',
      'SlotCollector',
      'WIRE_FORMATS',
      'Weights16Type',
      'assertCompatibleHello',
      'assertSameProtocol',
      'backoffDelay',
      'chunkFrameBytes',
      'chunkKindOf',
      'chunkRecordHead',
      'decode16',
      'decodeChunk',
      'decodeChunkHeader',
      'decodeMessage',
      'encode16',
      'encode16WithFeedback',
      'encodeChunk',
      'encodeChunkHeader',
      'encodeMessage',
      'encodeMessageParts',
      'fromBfloat16',
      'fromFloat16',
      'recordLength',
      'stateMessages',
      'toBfloat16',
      'toErrorMessage',
      'toFloat16',
      'tokenMatches',
      'validateMessage',
      'wireElementBytes',
      'writeChunkFrame',
      'writeChunkHeader',
    ]);
  });

  it('keeps the wire type codes stable: retired codes stay unused, chunk codes sit beside the message codes', () => {
    expect(publicApi.MessageType).toStrictEqual({
      hello: 1,
      welcome: 2,
      assignment: 3,
      heartbeat: 6,
      leave: 7,
      error: 8,
      dataChunk: 9,
      standby: 10,
      shutdown: 11,
      pushReport: 14,
      dataHello: 15,
      shardHello: 16,
      shardSetup: 17,
      shardState: 18,
      shardSetupDone: 19,
      shardReady: 20,
      shardPush: 21,
      shardPrepare: 22,
      shardPrepared: 23,
      shardDecide: 24,
      shardApplied: 25,
      shardSnapshot: 26,
      shardSnapshotDone: 27,
      prefetch: 28,
      readFailure: 29,
    });
    expect(publicApi.ChunkType).toStrictEqual({ gradientChunk: 12, weightsChunk: 13 });
    expect(publicApi.Gradient16Type).toStrictEqual({ bfloat16: 32, float16: 33 });
    expect(publicApi.Weights16Type).toStrictEqual({ bfloat16: 34, float16: 35 });
    const codes = [...Object.values(publicApi.MessageType), ...Object.values(publicApi.ChunkType), ...Object.values(publicApi.Gradient16Type), ...Object.values(publicApi.Weights16Type)];
    expect(new Set(codes).size).toBe(codes.length);
  });
});
