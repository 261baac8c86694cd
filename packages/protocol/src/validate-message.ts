/**
 * Guards, one per message type: they read every field, check its type and
 * range, and build a fresh message holding only the contract's fields (so
 * nothing a peer adds — extra keys, `__proto__` tricks — reaches the caller).
 *
 * Header numbers must be finite; tensor values are never inspected: a NaN
 * gradient is a training event the parameter server counts, not a protocol
 * violation, and scanning would cost a pass over every payload.
 */
import { ProtocolError, ProtocolErrorCode, describeValue, malformed } from './errors.js';
import {
  FieldReader,
  type Check,
  arrayOf,
  boolean,
  anyNumber,
  float32Array,
  fraction,
  isPlainObject,
  nonNegativeFiniteNumber,
  nonNegativeInteger,
  objectCheck,
  oneOf,
  plainObject,
  positiveFiniteNumber,
  positiveInteger,
  safeInteger,
  string,
  uint32Array,
} from './field-checks.js';
import { MIN_CHUNK_BYTES } from './chunk-plan.js';
import { WIRE_FORMATS } from './wire-format.js';
import { MessageType, type BadSampleReport, type DataDescriptor, type Message, type SharedDataDescriptor, type SharedShard, type MessageKind, type AssignedBatch, type LocalStepsConfig, type OptimizerStateHeader, type ShardDescriptor, type WeightEntry } from './messages.js';

type MessageOf<K extends MessageKind> = Extract<Message, { type: K }>;

const readWeightEntry = objectCheck(
  (r): WeightEntry => ({
    name: r.get('name', string),
    shape: r.get('shape', arrayOf(nonNegativeInteger)),
    offset: r.get('offset', nonNegativeInteger),
    size: r.get('size', nonNegativeInteger),
    trainable: r.get('trainable', boolean),
  }),
);

function readDataDescriptor(r: FieldReader): DataDescriptor {
  const shared = r.optional('shared', objectCheck(readSharedData));
  return {
    numSamples: r.get('numSamples', nonNegativeInteger),
    featureShape: r.get('featureShape', arrayOf(nonNegativeInteger)),
    labelShape: r.get('labelShape', arrayOf(nonNegativeInteger)),
    chunkSize: r.get('chunkSize', positiveInteger),
    ...(shared === undefined ? {} : { shared }),
  };
}

/** The source and the statistics are the data package's to check (the worker opens the source with them). */
function readSharedData(r: FieldReader): SharedDataDescriptor {
  const featureShape = r.optional('featureShape', arrayOf(positiveInteger, 1));
  return {
    source: r.get('source', plainObject),
    shards: r.get('shards', arrayOf(readSharedShard, 1)),
    ...(featureShape === undefined ? {} : { featureShape }),
    validationSplit: r.get('validationSplit', fraction),
    splitSeed: r.get('splitSeed', safeInteger),
    normalisation: r.get('normalisation', plainObject),
    cacheBytes: r.get('cacheBytes', nonNegativeInteger),
  };
}

const readSharedShard = objectCheck((r): SharedShard => ({ file: r.get('file', string), numSamples: r.get('numSamples', positiveInteger) }));

const readBadSample = objectCheck(
  (r): BadSampleReport => ({
    sampleId: r.get('sampleId', nonNegativeInteger),
    reason: r.get('reason', string),
    message: r.get('message', string),
  }),
);

/** Layout entries must describe their own shape and lie back to back from offset 0 (the engine's flat layout). */
function checkLayout(layout: readonly WeightEntry[], path: string): void {
  let offset = 0;
  layout.forEach((entry, index) => {
    const shapeSize = entry.shape.reduce((product, dim) => product * dim, 1);
    if (entry.size !== shapeSize) {
      malformed(`${path}[${index}].size`, `${shapeSize} (the product of shape [${entry.shape.join(',')}])`, entry.size);
    }
    if (entry.offset !== offset) malformed(`${path}[${index}].offset`, `${offset} (entries lie back to back)`, entry.offset);
    offset += entry.size;
  });
}

function readLocalSteps(r: FieldReader): LocalStepsConfig {
  return {
    steps: r.get('steps', positiveInteger),
    optimizer: r.get('optimizer', plainObject),
    innerState: r.get('innerState', oneOf(['keep', 'reset'] as const)),
  };
}

const readAssignedBatch = objectCheck(
  (r): AssignedBatch => ({
    batchId: r.get('batchId', nonNegativeInteger),
    size: r.get('size', positiveInteger),
  }),
);

/** A round's batches start with the assignment's batch and share out its sample ids exactly. */
function checkRoundBatches(batches: readonly AssignedBatch[], batchId: number, samples: number, path: string): void {
  if ((batches[0] as AssignedBatch).batchId !== batchId) malformed(`${path}[0].batchId`, `${batchId} (the assignment's batchId)`, (batches[0] as AssignedBatch).batchId);
  const total = batches.reduce((sum, b) => sum + b.size, 0);
  if (total !== samples) throw new ProtocolError(ProtocolErrorCode.MALFORMED, `${path}: expected sizes adding up to the ${samples} sample ids, got sizes adding up to ${total}`);
}

const readShard = objectCheck(
  (r): ShardDescriptor => ({
    start: r.get('start', nonNegativeInteger),
    end: r.get('end', nonNegativeInteger),
    url: r.get('url', string),
  }),
);

const scalarRecord: Check<Readonly<Record<string, number>>> = (value, path) => {
  const fields = plainObject(value, path);
  const out: Record<string, number> = {};
  for (const [key, item] of Object.entries(fields)) out[key] = anyNumber(item, `${path}.${key}`);
  return out;
};

const readOptimizerStateHeader = objectCheck(
  (r): OptimizerStateHeader => ({
    name: r.get('name', string),
    iterations: r.get('iterations', nonNegativeInteger),
    learningRate: r.get('learningRate', anyNumber),
    scalars: r.get('scalars', scalarRecord),
    arrays: r.get('arrays', arrayOf(string)),
  }),
);

const chunkBytes: Check<number> = (value, path) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= MIN_CHUNK_BYTES && value % 4 === 0
    ? value
    : malformed(path, `a multiple of 4 ≥ ${MIN_CHUNK_BYTES}`, value);

/** Elements the layout spans (the end of its furthest entry). */
function layoutSize(layout: readonly WeightEntry[]): number {
  return layout.reduce((end, entry) => Math.max(end, entry.offset + entry.size), 0);
}

/** Shards must tile [0, total) in order, with no gap and no overlap, split on chunk boundaries. */
function checkShards(shards: readonly ShardDescriptor[], total: number, chunkElements: number, path: string): void {
  let expectedStart = 0;
  shards.forEach((shard, index) => {
    if (shard.start !== expectedStart) malformed(`${path}[${index}].start`, `${expectedStart} (shards tile the layout in order)`, shard.start);
    if (shard.end <= shard.start && total > 0) malformed(`${path}[${index}].end`, `> start ${shard.start}`, shard.end);
    if (index < shards.length - 1 && shard.end % chunkElements !== 0) {
      malformed(`${path}[${index}].end`, `a multiple of ${chunkElements} (shards split the layout on chunk boundaries)`, shard.end);
    }
    expectedStart = shard.end;
  });
  if (expectedStart !== total) malformed(`${path}[${shards.length - 1}].end`, `${total} (the layout's size)`, expectedStart);
}

const GUARDS: { readonly [K in MessageKind]: (r: FieldReader) => MessageOf<K> } = {
  hello: (r) => {
    const previousWorkerId = r.optional('previousWorkerId', nonNegativeInteger);
    return {
      type: 'hello',
      protocolVersion: r.get('protocolVersion', nonNegativeInteger),
      token: r.get('token', string),
      capabilities: r.object('capabilities', (c) => ({
        backend: c.get('backend', string),
        devices: c.get('devices', arrayOf(string)),
        host: c.get('host', string),
      })),
      ...(previousWorkerId === undefined ? {} : { previousWorkerId }),
    };
  },
  welcome: (r) => {
    const message: MessageOf<'welcome'> = {
      type: 'welcome',
      workerId: r.get('workerId', nonNegativeInteger),
      job: r.object('job', (j) => {
        const wire = j.optional('wire', oneOf(WIRE_FORMATS));
        const local = j.optional('local', objectCheck(readLocalSteps));
        return {
          name: j.get('name', string),
          loss: j.get('loss', string),
          batchSize: j.get('batchSize', positiveInteger),
          seed: j.get('seed', safeInteger),
          heartbeatIntervalMs: j.get('heartbeatIntervalMs', positiveFiniteNumber),
          chunkBytes: j.get('chunkBytes', chunkBytes),
          ...(wire === undefined ? {} : { wire }),
          ...(local === undefined ? {} : { local }),
        };
      }),
      // A tfjs Layers topology is a JSON object; its inside is tfjs's to judge.
      modelTopology: r.get('modelTopology', plainObject),
      layout: r.get('layout', arrayOf(readWeightEntry)),
      version: r.get('version', nonNegativeInteger),
      shards: r.get('shards', arrayOf(readShard, 1)),
      data: r.object('data', readDataDescriptor),
    };
    checkLayout(message.layout, `${r.path}.layout`);
    checkShards(message.shards, layoutSize(message.layout), message.job.chunkBytes / 4, `${r.path}.shards`);
    return message;
  },
  assignment: (r) => {
    const message = {
      type: 'assignment' as const,
      step: r.get('step', nonNegativeInteger),
      epoch: r.get('epoch', nonNegativeInteger),
      version: r.get('version', nonNegativeInteger),
      batchId: r.get('batchId', nonNegativeInteger),
      sampleIds: r.get('sampleIds', uint32Array(1)),
    };
    const batches = r.optional('batches', arrayOf(readAssignedBatch, 1));
    if (batches === undefined) return message;
    checkRoundBatches(batches, message.batchId, message.sampleIds.length, `${r.path}.batches`);
    return { ...message, batches };
  },
  dataChunk: (r) => ({
    type: 'dataChunk',
    chunkId: r.get('chunkId', nonNegativeInteger),
    start: r.get('start', nonNegativeInteger),
    count: r.get('count', nonNegativeInteger),
    features: r.get('features', float32Array),
    labels: r.get('labels', float32Array),
  }),
  heartbeat: (r) => ({
    type: 'heartbeat',
    kind: r.get('kind', oneOf(['ping', 'pong'])),
    sentAt: r.get('sentAt', nonNegativeFiniteNumber),
  }),
  leave: (r) => ({ type: 'leave', reason: r.get('reason', string) }),
  error: (r) => ({ type: 'error', code: r.get('code', string), message: r.get('message', string) }),
  standby: (r) => ({ type: 'standby', reason: r.get('reason', string) }),
  shutdown: (r) => ({ type: 'shutdown', reason: r.get('reason', string), success: r.get('success', boolean) }),
  pushReport: (r) => {
    const accuracy = r.optional('accuracy', fraction);
    const dataSeconds = r.optional('dataSeconds', nonNegativeFiniteNumber);
    const badSamples = r.optional('badSamples', arrayOf(readBadSample, 1));
    return {
      type: 'pushReport',
      workerId: r.get('workerId', nonNegativeInteger),
      step: r.get('step', nonNegativeInteger),
      version: r.get('version', nonNegativeInteger),
      batchId: r.get('batchId', nonNegativeInteger),
      // Gradients are averaged weighted by sample count: zero samples would divide by zero.
      sampleCount: r.get('sampleCount', positiveInteger),
      loss: r.get('loss', anyNumber),
      computeSeconds: r.get('computeSeconds', nonNegativeFiniteNumber),
      finite: r.get('finite', boolean),
      ...(accuracy === undefined ? {} : { accuracy }),
      ...(dataSeconds === undefined ? {} : { dataSeconds }),
      ...(badSamples === undefined ? {} : { badSamples }),
    };
  },
  prefetch: (r) => ({ type: 'prefetch', sampleIds: r.get('sampleIds', uint32Array(0)) }),
  readFailure: (r) => ({
    type: 'readFailure',
    step: r.get('step', nonNegativeInteger),
    file: r.get('file', string),
    message: r.get('message', string),
  }),
  dataHello: (r) => ({
    type: 'dataHello',
    protocolVersion: r.get('protocolVersion', nonNegativeInteger),
    token: r.get('token', string),
    workerId: r.get('workerId', nonNegativeInteger),
  }),
  shardHello: (r) => ({
    type: 'shardHello',
    protocolVersion: r.get('protocolVersion', nonNegativeInteger),
    token: r.get('token', string),
    index: r.get('index', nonNegativeInteger),
    url: r.get('url', string),
    host: r.get('host', string),
  }),
  shardSetup: (r) => {
    const optimizerState = r.optional('optimizerState', readOptimizerStateHeader);
    const wireWeights = r.optional('wireWeights', oneOf(WIRE_FORMATS));
    const message: MessageOf<'shardSetup'> = {
      type: 'shardSetup',
      generation: r.get('generation', nonNegativeInteger),
      layout: r.get('layout', arrayOf(readWeightEntry)),
      start: r.get('start', nonNegativeInteger),
      end: r.get('end', nonNegativeInteger),
      chunkBytes: r.get('chunkBytes', chunkBytes),
      optimizer: r.get('optimizer', plainObject),
      version: r.get('version', nonNegativeInteger),
      ...(optimizerState === undefined ? {} : { optimizerState }),
      ...(wireWeights === undefined ? {} : { wireWeights }),
    };
    checkLayout(message.layout, `${r.path}.layout`);
    if (message.end < message.start || message.end > layoutSize(message.layout)) {
      malformed(`${r.path}.end`, `from start (${message.start}) to the layout's size (${layoutSize(message.layout)})`, message.end);
    }
    return message;
  },
  shardState: (r) => ({
    type: 'shardState',
    id: r.get('id', nonNegativeInteger),
    slot: r.get('slot', string),
    offset: r.get('offset', nonNegativeInteger),
    values: r.get('values', float32Array),
  }),
  shardSetupDone: (r) => ({ type: 'shardSetupDone', generation: r.get('generation', nonNegativeInteger) }),
  shardReady: (r) => ({ type: 'shardReady', generation: r.get('generation', nonNegativeInteger), version: r.get('version', nonNegativeInteger) }),
  shardPush: (r) => ({
    type: 'shardPush',
    step: r.get('step', nonNegativeInteger),
    workerId: r.get('workerId', nonNegativeInteger),
    sampleCount: r.get('sampleCount', positiveInteger),
    nonFinite: r.get('nonFinite', boolean),
  }),
  shardPrepare: (r) => ({
    type: 'shardPrepare',
    step: r.get('step', nonNegativeInteger),
    included: r.get('included', arrayOf(nonNegativeInteger)),
    learningRate: r.get('learningRate', positiveFiniteNumber),
  }),
  shardPrepared: (r) => ({ type: 'shardPrepared', step: r.get('step', nonNegativeInteger), ok: r.get('ok', boolean), reason: r.get('reason', string) }),
  shardDecide: (r) => ({ type: 'shardDecide', step: r.get('step', nonNegativeInteger), apply: r.get('apply', boolean) }),
  shardApplied: (r) => ({
    type: 'shardApplied',
    step: r.get('step', nonNegativeInteger),
    version: r.get('version', nonNegativeInteger),
    sampleCount: r.get('sampleCount', nonNegativeInteger),
    applySeconds: r.get('applySeconds', nonNegativeFiniteNumber),
    bytesIn: r.get('bytesIn', nonNegativeInteger),
    bytesOut: r.get('bytesOut', nonNegativeInteger),
  }),
  shardSnapshot: (r) => ({ type: 'shardSnapshot', id: r.get('id', nonNegativeInteger), optimizer: r.get('optimizer', boolean) }),
  shardSnapshotDone: (r) => {
    const optimizerState = r.optional('optimizerState', readOptimizerStateHeader);
    return {
      type: 'shardSnapshotDone',
      id: r.get('id', nonNegativeInteger),
      version: r.get('version', nonNegativeInteger),
      ...(optimizerState === undefined ? {} : { optimizerState }),
    };
  },
};

export function isMessageKind(value: unknown): value is MessageKind {
  return typeof value === 'string' && Object.hasOwn(MessageType, value);
}

/**
 * Checks any value against the message contract and returns a fresh, typed
 * message, or throws ProtocolError (UNKNOWN_TYPE for an unknown `type`,
 * MALFORMED naming the first bad field otherwise). Tensors are passed
 * through by reference, not copied.
 */
export function validateMessage(value: unknown): Message {
  if (!isPlainObject(value)) return malformed('message', 'an object', value);
  const kind = value['type'];
  if (!isMessageKind(kind)) {
    throw new ProtocolError(ProtocolErrorCode.UNKNOWN_TYPE, `message.type: unknown message type ${describeValue(kind)}`);
  }
  return GUARDS[kind](new FieldReader(value, kind));
}
