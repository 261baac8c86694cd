import { describe, expect, it } from 'vitest';
import { decodeMessage } from './decode.js';
import { encodeMessage } from './encode.js';
import { describeValue, ProtocolError, ProtocolErrorCode } from './errors.js';
import { MessageType, type LocalStepsConfig, type MessageKind } from './messages.js';
import { peerFrame, splitMessage } from './testing/raw-frame.js';
import { sampleMessages } from './testing/messages.js';
import { validateMessage } from './validate-message.js';

type Path = readonly (string | number)[];

/** Fields whose inside the protocol does not judge (tfjs does). */
// optimizer: the parameter server validates a job's optimizer config; scalars: an open record of numbers.
const OPAQUE = new Set(['modelTopology', 'optimizer', 'scalars', 'source', 'normalisation']);
const OPTIONAL = new Set(['previousWorkerId', 'optimizerState', 'accuracy', 'dataSeconds', 'wire', 'wireWeights', 'local', 'batches', 'shared', 'badSamples']);
/** Optional only at this path (the same key is required elsewhere). */
const OPTIONAL_AT = new Set(['welcome.data.shared.featureShape']);

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

  it.each(CASES.filter(([kind, path]) => typeof path.at(-1) === 'string' && !OPTIONAL.has(path.at(-1) as string) && !OPTIONAL_AT.has(formatPath(kind, path))).map(([kind, path]) => [formatPath(kind, path), kind, path] as const))(
    '%s missing is MALFORMED, naming it',
    (name, kind, path) => {
      const error = malformedError(() => decodeFields(kind, withField(splitMessage(sampleMessages()[kind]).fields, path, undefined)));
      expect(error.message).toMatch(new RegExp(`^${name.replace(/[.[\]]/g, '\\$&')}: expected .+, got undefined$`));
    },
  );
});

describe('ranges', () => {
  it.each([
    ['pushReport', ['step'], -1, 'pushReport.step: expected a non-negative integer, got -1'],
    ['pushReport', ['step'], 1.5, 'pushReport.step: expected a non-negative integer, got 1.5'],
    ['pushReport', ['step'], 2 ** 53, 'pushReport.step: expected a non-negative integer, got 9007199254740992'],
    ['pushReport', ['step'], 'x', 'pushReport.step: expected a non-negative integer, got "x"'],
    ['pushReport', ['sampleCount'], 0, 'pushReport.sampleCount: expected a positive integer, got 0'],
    ['pushReport', ['computeSeconds'], -0.5, 'pushReport.computeSeconds: expected a finite number ≥ 0, got -0.5'],
    ['pushReport', ['computeSeconds'], Number.NaN, 'pushReport.computeSeconds: expected a finite number ≥ 0, got NaN'],
    ['pushReport', ['computeSeconds'], Number.NEGATIVE_INFINITY, 'pushReport.computeSeconds: expected a finite number ≥ 0, got -Infinity'],
    ['pushReport', ['finite'], 1, 'pushReport.finite: expected a boolean, got 1'],
    ['pushReport', ['finite'], 'true', 'pushReport.finite: expected a boolean, got "true"'],
    ['pushReport', ['finite'], null, 'pushReport.finite: expected a boolean, got null'],
    ['pushReport', ['loss'], '0.25', 'pushReport.loss: expected a number, got "0.25"'],
    ['heartbeat', ['kind'], 'pang', 'heartbeat.kind: expected "ping" or "pong", got "pang"'],
    ['heartbeat', ['sentAt'], Number.POSITIVE_INFINITY, 'heartbeat.sentAt: expected a finite number ≥ 0, got Infinity'],
    ['hello', ['previousWorkerId'], -1, 'hello.previousWorkerId: expected a non-negative integer, got -1'],
    ['hello', ['capabilities', 'devices', 0], null, 'hello.capabilities.devices[0]: expected a string, got null'],
    ['hello', ['capabilities'], new Date(0), 'hello.capabilities: expected an object, got a Date'],
    ['welcome', ['job', 'batchSize'], 0, 'welcome.job.batchSize: expected a positive integer, got 0'],
    ['welcome', ['job', 'seed'], 0.5, 'welcome.job.seed: expected an integer, got 0.5'],
    ['welcome', ['job', 'heartbeatIntervalMs'], 0, 'welcome.job.heartbeatIntervalMs: expected a finite number > 0, got 0'],
    ['welcome', ['job', 'name'], 7n, 'welcome.job.name: expected a string, got 7'],
    ['welcome', ['job', 'chunkBytes'], 4098, 'welcome.job.chunkBytes: expected a multiple of 4 ≥ 4096, got 4098'],
    ['welcome', ['job', 'chunkBytes'], 4097, 'welcome.job.chunkBytes: expected a multiple of 4 ≥ 4096, got 4097'],
    ['welcome', ['job', 'chunkBytes'], 4092, 'welcome.job.chunkBytes: expected a multiple of 4 ≥ 4096, got 4092'],
    ['welcome', ['job', 'chunkBytes'], 0, 'welcome.job.chunkBytes: expected a multiple of 4 ≥ 4096, got 0'],
    ['welcome', ['job', 'chunkBytes'], 4096.5, 'welcome.job.chunkBytes: expected a multiple of 4 ≥ 4096, got 4096.5'],
    ['welcome', ['job', 'chunkBytes'], 2 ** 53 + 4, 'welcome.job.chunkBytes: expected a multiple of 4 ≥ 4096, got 9007199254740996'],
    ['welcome', ['data', 'chunkSize'], 0, 'welcome.data.chunkSize: expected a positive integer, got 0'],
    ['welcome', ['data', 'featureShape', 0], -784, 'welcome.data.featureShape[0]: expected a non-negative integer, got -784'],
    ['welcome', ['modelTopology'], [], 'welcome.modelTopology: expected an object, got an array of length 0'],
    ['welcome', ['modelTopology'], null, 'welcome.modelTopology: expected an object, got null'],
    ['welcome', ['layout', 0, 'size'], 5, 'welcome.layout[0].size: expected 6 (the product of shape [2,3]), got 5'],
    // An entry moved past the shards' end: the layout now spans 10 elements, the shards 9.
    ['welcome', ['layout', 1, 'offset'], 7, 'welcome.layout[1].offset: expected 6 (entries lie back to back), got 7'],
    ['welcome', ['shards'], [], 'welcome.shards: expected an array of at least 1 elements, got an array of length 0'],
    ['welcome', ['shards', 0, 'start'], -1, 'welcome.shards[0].start: expected a non-negative integer, got -1'],
    ['welcome', ['shards', 0, 'end'], 9.5, 'welcome.shards[0].end: expected a non-negative integer, got 9.5'],
    ['welcome', ['shards', 0, 'url'], null, 'welcome.shards[0].url: expected a string, got null'],
    ['pushReport', ['step'], 'r'.repeat(100), `pushReport.step: expected a non-negative integer, got "${'r'.repeat(39)}…" (100 chars)`],
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
    const { fields } = splitMessage(sampleMessages().pushReport);
    const edge = { ...fields, workerId: 0, step: Number.MAX_SAFE_INTEGER, sampleCount: 1, loss: -1e308, computeSeconds: 0 };
    expect(decodeMessage(peerFrame(MessageType.pushReport, edge))).toMatchObject(edge);
    const welcome = splitMessage(sampleMessages().welcome).fields;
    const smallest = withField(welcome, ['job', 'chunkBytes'], 4096);
    expect(decodeMessage(peerFrame(MessageType.welcome, smallest))).toMatchObject({ job: { chunkBytes: 4096 } });
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
    ['dataChunk', 'features', new Float64Array(2), 'dataChunk.features: expected a Float32Array, got a Float64Array of length 2'],
    ['dataChunk', 'labels', new Uint32Array(2), 'dataChunk.labels: expected a Float32Array, got a Uint32Array of length 2'],
    ['assignment', 'sampleIds', new Float32Array(2), 'assignment.sampleIds: expected a Uint32Array, got a Float32Array of length 2'],
    ['dataChunk', 'labels', undefined, 'dataChunk.labels: expected a Float32Array, got undefined'],
  ] as const)('%s.%s of the wrong array type is MALFORMED', (kind, field, value, message) => {
    expect(malformedError(() => validateMessage({ ...sampleMessages()[kind], [field]: value })).message).toBe(message);
  });

  it('returns a fresh object holding the same tensors', () => {
    const message = sampleMessages().dataChunk;
    const valid = validateMessage(message);
    expect(valid).not.toBe(message);
    expect(valid.type === 'dataChunk' && valid.features).toBe(message.features);
    expect(valid.type === 'dataChunk' && valid.labels).toBe(message.labels);
  });

  it('refuses the retired protocol-1 kinds as unknown', () => {
    for (const type of ['gradients', 'weights']) {
      expect(() => validateMessage({ type })).toThrow(expect.objectContaining({ code: ProtocolErrorCode.UNKNOWN_TYPE, message: `message.type: unknown message type "${type}"` }));
    }
  });

  it('refuses a protocol-1 welcome (weights, no shards), naming the missing field, and never returns weights', () => {
    const { shards: _shards, ...withoutShards } = sampleMessages().welcome;
    const v1 = { ...withoutShards, weights: new Float32Array(9) };
    expect(malformedError(() => validateMessage(v1)).message).toBe('welcome.shards: expected an array, got undefined');
    const valid = validateMessage({ ...sampleMessages().welcome, weights: new Float32Array(9) });
    expect(Object.hasOwn(valid, 'weights')).toBe(false);
  });
});

describe('assignment.batches: a local-SGD round', () => {
  const assignmentWith = (batchId: number, sampleIds: readonly number[], batches: readonly { batchId: number; size: number }[]) => ({
    ...sampleMessages().assignment,
    batchId,
    sampleIds: Uint32Array.from(sampleIds),
    batches,
  });

  it('accepts a round whose batches start with the assignment\'s and share out its sample ids, through the wire too', () => {
    const round = assignmentWith(12, [5, 6, 7, 8, 9, 10, 11], [
      { batchId: 12, size: 3 },
      { batchId: 13, size: 3 },
      { batchId: 14, size: 1 },
    ]);
    expect(validateMessage(round)).toStrictEqual(round);
    const decoded = decodeMessage(encodeMessage(round));
    expect(decoded.type === 'assignment' && [decoded.batchId, [...decoded.sampleIds], decoded.batches]).toEqual([12, [5, 6, 7, 8, 9, 10, 11], round.batches]);
  });

  it('leaves batches out of a synchronous assignment (absent stays absent)', () => {
    const { batches: _batches, ...synchronous } = sampleMessages().assignment;
    const decoded = decodeMessage(encodeMessage(synchronous));
    expect(Object.hasOwn(decoded, 'batches')).toBe(false);
  });

  it.each([
    ['a first batch other than the assignment\'s', [{ batchId: 13, size: 2 }, { batchId: 12, size: 1 }], "assignment.batches[0].batchId: expected 12 (the assignment's batchId), got 13"],
    ['sizes adding up to fewer than the sample ids', [{ batchId: 12, size: 1 }, { batchId: 13, size: 1 }], 'assignment.batches: expected sizes adding up to the 3 sample ids, got sizes adding up to 2'],
    ['sizes adding up to more than the sample ids', [{ batchId: 12, size: 2 }, { batchId: 13, size: 2 }], 'assignment.batches: expected sizes adding up to the 3 sample ids, got sizes adding up to 4'],
    ['an empty list', [], 'assignment.batches: expected an array of at least 1 elements, got an array of length 0'],
    ['a batch of size 0', [{ batchId: 12, size: 3 }, { batchId: 13, size: 0 }], 'assignment.batches[1].size: expected a positive integer, got 0'],
    ['a negative batch id', [{ batchId: 12, size: 2 }, { batchId: -1, size: 1 }], 'assignment.batches[1].batchId: expected a non-negative integer, got -1'],
  ])('rejects %s as MALFORMED, naming the field', (_label, batches, message) => {
    const round = assignmentWith(12, [1, 2, 3], batches);
    expect(malformedError(() => validateMessage(round)).message).toBe(message);
    // The same from the wire, as a peer would send it.
    const { fields, tensors } = splitMessage(round);
    expect(malformedError(() => decodeMessage(peerFrame(MessageType.assignment, fields, tensors))).message).toBe(message);
  });
});

describe('welcome.job.local: local SGD', () => {
  /** The sample welcome with `local` (possibly a bad one, as a peer could send it). */
  const welcomeWith = (local: unknown) => {
    const welcome = sampleMessages().welcome;
    return { ...welcome, job: { ...welcome.job, local: local as LocalStepsConfig } };
  };

  it('accepts steps, an inner optimizer the worker judges, and keep or reset', () => {
    for (const innerState of ['keep', 'reset'] as const) {
      const local = { steps: 16, optimizer: { name: 'momentum', learningRate: 0.1, momentum: 0.9 }, innerState };
      const decoded = decodeMessage(encodeMessage(welcomeWith(local)));
      expect(decoded.type === 'welcome' && decoded.job.local).toStrictEqual(local);
    }
  });

  it('leaves local out of a synchronous job\'s welcome', () => {
    const { local: _local, ...job } = sampleMessages().welcome.job;
    const decoded = decodeMessage(encodeMessage({ ...sampleMessages().welcome, job }));
    expect(decoded.type === 'welcome' && Object.hasOwn(decoded.job, 'local')).toBe(false);
  });

  it.each([
    ['steps 0', { steps: 0, optimizer: { name: 'sgd', learningRate: 0.1 }, innerState: 'keep' }, 'welcome.job.local.steps: expected a positive integer, got 0'],
    ['steps 2.5', { steps: 2.5, optimizer: { name: 'sgd', learningRate: 0.1 }, innerState: 'keep' }, 'welcome.job.local.steps: expected a positive integer, got 2.5'],
    ['innerState "sometimes"', { steps: 4, optimizer: { name: 'sgd', learningRate: 0.1 }, innerState: 'sometimes' }],
    ['an optimizer that is not an object', { steps: 4, optimizer: 'sgd', innerState: 'keep' }, 'welcome.job.local.optimizer: expected an object, got "sgd"'],
    ['no innerState', { steps: 4, optimizer: { name: 'sgd', learningRate: 0.1 } }],
  ])('rejects %s as MALFORMED, naming the field', (_label, local, message?: string) => {
    const error = malformedError(() => validateMessage(welcomeWith(local)));
    if (message !== undefined) expect(error.message).toBe(message);
    else expect(error.message).toMatch(/^welcome\.job\.local\.innerState: expected .*"keep".*"reset".*, got /);
    const { fields } = splitMessage(welcomeWith(local));
    expect(malformedError(() => decodeMessage(peerFrame(MessageType.welcome, fields))).message).toBe(error.message);
  });
});

describe('welcome.shards tile the layout', () => {
  /** A layout of 2500 elements: with the minimum 4096-byte chunks (1024 elements), shards split at 1024 and 2048. */
  const welcomeWith = (shards: readonly { start: number; end: number; url?: string }[]) => ({
    ...sampleMessages().welcome,
    layout: [
      { name: 'dense/kernel', shape: [1000, 2], offset: 0, size: 2000, trainable: true },
      { name: 'dense/bias', shape: [500], offset: 2000, size: 500, trainable: true },
    ],
    shards: shards.map((shard, k) => ({ url: `ws://ps-${k}:7000`, ...shard })),
  });

  it.each([
    ['two shards', [{ start: 0, end: 1024 }, { start: 1024, end: 2500 }]],
    ['three shards', [{ start: 0, end: 1024 }, { start: 1024, end: 2048 }, { start: 2048, end: 2500 }]],
    ['one shard', [{ start: 0, end: 2500 }]],
  ])('accepts %s in order', (_label, shards) => {
    const decoded = decodeMessage(encodeMessage(welcomeWith(shards)));
    expect(decoded.type === 'welcome' && decoded.shards.map(({ start, end }) => [start, end])).toEqual(shards.map(({ start, end }) => [start, end]));
  });

  it.each([
    ['a gap', [{ start: 0, end: 1024 }, { start: 1025, end: 2500 }], 'welcome.shards[1].start: expected 1024 (shards tile the layout in order), got 1025'],
    ['an overlap', [{ start: 0, end: 1024 }, { start: 1000, end: 2500 }], 'welcome.shards[1].start: expected 1024 (shards tile the layout in order), got 1000'],
    ['a first shard not at 0', [{ start: 1, end: 2500 }], 'welcome.shards[0].start: expected 0 (shards tile the layout in order), got 1'],
    ['shards out of order', [{ start: 1024, end: 2500 }, { start: 0, end: 1024 }], 'welcome.shards[0].start: expected 0 (shards tile the layout in order), got 1024'],
    ['an end short of the layout', [{ start: 0, end: 1024 }, { start: 1024, end: 2048 }], "welcome.shards[1].end: expected 2500 (the layout's size), got 2048"],
    ['an end past the layout', [{ start: 0, end: 1024 }, { start: 1024, end: 3000 }], "welcome.shards[1].end: expected 2500 (the layout's size), got 3000"],
    ['an empty shard', [{ start: 0, end: 0 }, { start: 0, end: 2500 }], 'welcome.shards[0].end: expected > start 0, got 0'],
    ['an end before its start', [{ start: 0, end: 1024 }, { start: 1024, end: 2 }], 'welcome.shards[1].end: expected > start 1024, got 2'],
    ['a split inside a chunk', [{ start: 0, end: 1000 }, { start: 1000, end: 2500 }], 'welcome.shards[0].end: expected a multiple of 1024 (shards split the layout on chunk boundaries), got 1000'],
    ['an empty list', [], 'welcome.shards: expected an array of at least 1 elements, got an array of length 0'],
  ])('rejects %s as MALFORMED, naming the field', (_label, shards, message) => {
    const welcome = welcomeWith(shards);
    expect(malformedError(() => validateMessage(welcome)).message).toBe(message);
    // The same from the wire, as a peer would send it.
    const { fields } = splitMessage(welcome);
    expect(malformedError(() => decodeMessage(peerFrame(MessageType.welcome, fields))).message).toBe(message);
  });

  it('accepts one empty shard for an empty layout, and nothing else for it', () => {
    const empty = { ...sampleMessages().welcome, layout: [], shards: [{ start: 0, end: 0, url: '' }] };
    expect(validateMessage(empty)).toMatchObject({ layout: [], shards: [{ start: 0, end: 0, url: '' }] });
    expect(malformedError(() => validateMessage({ ...empty, shards: [{ start: 0, end: 1, url: '' }] })).message).toBe("welcome.shards[0].end: expected 0 (the layout's size), got 1");
  });
});

describe('pushReport', () => {
  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('is valid with a non-finite loss (%s) and finite: false', (loss) => {
    const report = { ...sampleMessages().pushReport, loss, finite: false };
    expect(validateMessage(report)).toStrictEqual(report);
    const { fields } = splitMessage(report);
    expect(decodeMessage(peerFrame(MessageType.pushReport, fields))).toStrictEqual(report);
  });
});

describe('pushReport accuracy', () => {
  it('is optional, and outside [0, 1] is MALFORMED', () => {
    const { fields } = splitMessage(sampleMessages().pushReport);
    const { accuracy: _a, dataSeconds: _d, ...older } = fields as Record<string, unknown>;
    expect(decodeFields('pushReport', older)).not.toHaveProperty('accuracy');
    expect((decodeFields('pushReport', fields) as { accuracy?: number }).accuracy).toBe(0.875);
    for (const bad of [1.5, -0.1, Number.NaN]) {
      expect(malformedError(() => decodeFields('pushReport', { ...fields, accuracy: bad })).message).toBe(`pushReport.accuracy: expected a number in [0, 1], got ${describeValue(bad)}`);
    }
  });
});
