import { describe, expect, it } from 'vitest';
import { decodeMessage } from './decode.js';
import { describeValue, ProtocolError, ProtocolErrorCode } from './errors.js';
import { MessageType, type MessageKind } from './messages.js';
import { peerFrame, splitMessage } from './testing/raw-frame.js';
import { sampleMessages } from './testing/messages.js';
import { validateMessage } from './validate-message.js';

type Path = readonly (string | number)[];

/** Fields whose inside the protocol does not judge (tfjs does). */
const OPAQUE = new Set(['modelTopology']);
const OPTIONAL = new Set(['previousWorkerId']);

function formatPath(kind: string, path: Path): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : `${out}.${key}`), kind);
}

/** Every field path of a header, depth first: objects and arrays themselves, then their contents. */
function fieldPaths(value: unknown, path: Path = []): Path[] {
  const own = path.length === 0 ? [] : [path];
  if (typeof path.at(-1) === 'string' && OPAQUE.has(path.at(-1) as string)) return own;
  if (Array.isArray(value)) return [...own, ...value.flatMap((item, index) => fieldPaths(item, [...path, index]))];
  if (typeof value === 'object' && value !== null) return [...own, ...Object.entries(value).flatMap(([key, item]) => fieldPaths(item, [...path, key]))];
  return own;
}

function withField(fields: unknown, path: Path, value: unknown): Record<string, unknown> {
  const copy = structuredClone(fields) as Record<string, unknown>;
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path.at(-1) as string | number;
  if (value === undefined) delete parent[last];
  else parent[last] = value;
  return copy;
}

/** A value of a different type than the one the field holds. */
function wrongTypeFor(value: unknown): unknown {
  return typeof value === 'number' ? 'x' : 7;
}

function decodeFields(kind: MessageKind, fields: Record<string, unknown>): unknown {
  const { tensors } = splitMessage(sampleMessages()[kind]);
  return decodeMessage(peerFrame(MessageType[kind], fields, tensors));
}

function malformedError(run: () => unknown): ProtocolError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe(ProtocolErrorCode.MALFORMED);
    return error as ProtocolError;
  }
  throw new Error('accepted');
}

const KINDS = Object.keys(MessageType) as MessageKind[];
const CASES = KINDS.flatMap((kind) => fieldPaths(splitMessage(sampleMessages()[kind]).fields).map((path) => [kind, path] as const));

describe('every header field is checked', () => {
  it('the sample messages decode (the base of every case below is valid)', () => {
    for (const kind of KINDS) {
      const { fields } = splitMessage(sampleMessages()[kind]);
      expect((decodeFields(kind, fields) as { type: string }).type).toBe(kind);
    }
    expect(CASES.length).toBeGreaterThan(60);
  });

  it.each(CASES.map(([kind, path]) => [formatPath(kind, path), kind, path] as const))('%s of the wrong type is MALFORMED, naming it', (name, kind, path) => {
    const { fields } = splitMessage(sampleMessages()[kind]);
    const original = path.reduce<unknown>((value, key) => (value as Record<string | number, unknown>)[key], fields);
    const bad = wrongTypeFor(original);
    const error = malformedError(() => decodeFields(kind, withField(fields, path, bad)));
    expect(error.message.startsWith(`${name}: expected `)).toBe(true);
    expect(error.message.endsWith(`, got ${describeValue(bad)}`)).toBe(true);
  });

  it.each(CASES.filter(([, path]) => typeof path.at(-1) === 'string' && !OPTIONAL.has(path.at(-1) as string)).map(([kind, path]) => [formatPath(kind, path), kind, path] as const))(
    '%s missing is MALFORMED, naming it',
    (name, kind, path) => {
      const error = malformedError(() => decodeFields(kind, withField(splitMessage(sampleMessages()[kind]).fields, path, undefined)));
      expect(error.message).toMatch(new RegExp(`^${name.replace(/[.[\]]/g, '\\$&')}: expected .+, got undefined$`));
    },
  );
});

describe('ranges', () => {
  it.each([
    ['gradients', ['step'], -1, 'gradients.step: expected a non-negative integer, got -1'],
    ['gradients', ['step'], 1.5, 'gradients.step: expected a non-negative integer, got 1.5'],
    ['gradients', ['step'], 2 ** 53, 'gradients.step: expected a non-negative integer, got 9007199254740992'],
    ['gradients', ['step'], 'x', 'gradients.step: expected a non-negative integer, got "x"'],
    ['gradients', ['sampleCount'], 0, 'gradients.sampleCount: expected a positive integer, got 0'],
    ['gradients', ['computeSeconds'], -0.5, 'gradients.computeSeconds: expected a finite number ≥ 0, got -0.5'],
    ['heartbeat', ['kind'], 'pang', 'heartbeat.kind: expected "ping" or "pong", got "pang"'],
    ['heartbeat', ['sentAt'], Number.POSITIVE_INFINITY, 'heartbeat.sentAt: expected a finite number ≥ 0, got Infinity'],
    ['hello', ['previousWorkerId'], -1, 'hello.previousWorkerId: expected a non-negative integer, got -1'],
    ['hello', ['capabilities', 'devices', 0], null, 'hello.capabilities.devices[0]: expected a string, got null'],
    ['hello', ['capabilities'], new Date(0), 'hello.capabilities: expected an object, got a Date'],
    ['welcome', ['job', 'batchSize'], 0, 'welcome.job.batchSize: expected a positive integer, got 0'],
    ['welcome', ['job', 'seed'], 0.5, 'welcome.job.seed: expected an integer, got 0.5'],
    ['welcome', ['job', 'heartbeatIntervalMs'], 0, 'welcome.job.heartbeatIntervalMs: expected a finite number > 0, got 0'],
    ['welcome', ['job', 'name'], 7n, 'welcome.job.name: expected a string, got 7'],
    ['welcome', ['data', 'chunkSize'], 0, 'welcome.data.chunkSize: expected a positive integer, got 0'],
    ['welcome', ['data', 'featureShape', 0], -784, 'welcome.data.featureShape[0]: expected a non-negative integer, got -784'],
    ['welcome', ['modelTopology'], [], 'welcome.modelTopology: expected an object, got an array of length 0'],
    ['welcome', ['modelTopology'], null, 'welcome.modelTopology: expected an object, got null'],
    ['welcome', ['layout', 0, 'size'], 5, 'welcome.layout[0].size: expected 6 (the product of shape [2,3]), got 5'],
    ['welcome', ['layout', 1, 'offset'], 7, 'welcome.layout[1].offset: expected offset + size (3) ≤ weights length 9, got 7'],
    ['gradients', ['step'], 'r'.repeat(100), `gradients.step: expected a non-negative integer, got "${'r'.repeat(39)}…" (100 chars)`],
    ['shutdown', ['success'], 'yes', 'shutdown.success: expected a boolean, got "yes"'],
  ] as const)('%s %j = %s is MALFORMED', (kind, path, value, message) => {
    const fields = withField(splitMessage(sampleMessages()[kind]).fields, path, value);
    expect(malformedError(() => decodeFields(kind, fields)).message).toBe(message);
  });

  it('requires at least one sample id in an assignment', () => {
    const { fields } = splitMessage(sampleMessages().assignment);
    const frame = peerFrame(MessageType.assignment, fields, { sampleIds: new Uint32Array(0) });
    expect(malformedError(() => decodeMessage(frame)).message).toBe('assignment.sampleIds: expected a Uint32Array of at least 1 element(s), got a Uint32Array of length 0');
  });

  it('accepts the edges of each range', () => {
    const { fields, tensors } = splitMessage(sampleMessages().gradients);
    const edge = { ...fields, workerId: 0, step: Number.MAX_SAFE_INTEGER, sampleCount: 1, loss: -1e308, computeSeconds: 0 };
    expect(decodeMessage(peerFrame(MessageType.gradients, edge, tensors))).toMatchObject(edge);
  });

  it('treats an optional field sent as nil like an absent one', () => {
    const { fields } = splitMessage(sampleMessages().hello);
    const decoded = decodeMessage(peerFrame(MessageType.hello, { ...fields, previousWorkerId: undefined }));
    expect(Object.hasOwn(decoded, 'previousWorkerId')).toBe(false);
  });

  it('ignores header fields outside the contract and does not return them', () => {
    const hostile = JSON.parse('{"reason":"x","extra":1,"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.hasOwn(hostile, '__proto__')).toBe(true);
    const decoded = decodeMessage(peerFrame(MessageType.leave, hostile));
    expect(decoded).toStrictEqual({ type: 'leave', reason: 'x' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('validateMessage on in-memory values', () => {
  it('rejects an unknown type with UNKNOWN_TYPE', () => {
    expect(() => validateMessage({ type: 'gradient' })).toThrow(expect.objectContaining({ code: ProtocolErrorCode.UNKNOWN_TYPE, message: 'message.type: unknown message type "gradient"' }));
    expect(() => validateMessage({ type: 'toString' })).toThrow(expect.objectContaining({ code: ProtocolErrorCode.UNKNOWN_TYPE }));
  });

  it('rejects a non-object with MALFORMED', () => {
    expect(() => validateMessage('hello')).toThrow(expect.objectContaining({ code: ProtocolErrorCode.MALFORMED, message: 'message: expected an object, got "hello"' }));
  });

  it.each([
    ['gradients', 'gradients', new Float64Array(2), 'gradients.gradients: expected a Float32Array, got a Float64Array of length 2'],
    ['weights', 'weights', new Uint32Array(2), 'weights.weights: expected a Float32Array, got a Uint32Array of length 2'],
    ['assignment', 'sampleIds', new Float32Array(2), 'assignment.sampleIds: expected a Uint32Array, got a Float32Array of length 2'],
    ['dataChunk', 'labels', undefined, 'dataChunk.labels: expected a Float32Array, got undefined'],
  ] as const)('%s.%s of the wrong array type is MALFORMED', (kind, field, value, message) => {
    expect(malformedError(() => validateMessage({ ...sampleMessages()[kind], [field]: value })).message).toBe(message);
  });

  it('returns a fresh object holding the same tensors', () => {
    const message = sampleMessages().weights;
    const valid = validateMessage(message);
    expect(valid).not.toBe(message);
    expect(valid.type === 'weights' && valid.weights).toBe(message.weights);
  });
});
