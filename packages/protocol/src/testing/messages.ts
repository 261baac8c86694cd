/**
 * Fixed sample messages (one per kind) and seeded random ones, for tests.
 * Test-only (excluded from the build).
 */
import { randomFillSync } from 'node:crypto';
import { ChunkPlan, MIN_CHUNK_BYTES } from '../chunk-plan.js';
import { PROTOCOL_VERSION, type Message, type MessageKind, type WeightEntry } from '../messages.js';

type MessageOf<K extends MessageKind> = Extract<Message, { type: K }>;

/** One valid message of each kind, every optional field present, tensors non-empty. */
export function sampleMessages(): { readonly [K in MessageKind]: MessageOf<K> } {
  return {
    hello: {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      token: 's3cret',
      capabilities: { backend: 'wasm', devices: ['cpu'], host: 'node-a' },
      previousWorkerId: 3,
    },
    welcome: {
      type: 'welcome',
      workerId: 2,
      job: {
        name: 'mnist',
        loss: 'categoricalCrossentropy',
        batchSize: 128,
        seed: 42,
        heartbeatIntervalMs: 1000,
        chunkBytes: 4096,
        wire: 'bfloat16',
        local: { steps: 4, optimizer: { name: 'adam', learningRate: 0.001 }, innerState: 'keep' },
      },
      modelTopology: { class_name: 'Sequential', config: { name: 'm', layers: [] } },
      layout: [
        { name: 'dense/kernel', shape: [2, 3], offset: 0, size: 6, trainable: true },
        { name: 'dense/bias', shape: [3], offset: 6, size: 3, trainable: true },
      ],
      version: 7,
      // The layout spans 9 elements, one 4096-byte chunk: one shard, the embedded one.
      shards: [{ start: 0, end: 9, url: '' }],
      data: {
        numSamples: 60000,
        featureShape: [784],
        labelShape: [10],
        chunkSize: 1024,
        shared: {
          source: { format: 'npy', features: ['/data/x-0.npy'], labels: ['/data/y-0.npy'] },
          shards: [{ file: '/data/x-0.npy', numSamples: 60000 }],
          featureShape: [28, 28, 1],
          validationSplit: 0.1,
          splitSeed: 42,
          normalisation: { kind: 'scale', scale: 255 },
          cacheBytes: 1 << 30,
        },
      },
    },
    // A local-SGD round of two batches: 9 (two samples), then 10 (one).
    assignment: {
      type: 'assignment',
      step: 5,
      epoch: 1,
      version: 5,
      batchId: 9,
      sampleIds: new Uint32Array([4, 8, 15]),
      batches: [
        { batchId: 9, size: 2 },
        { batchId: 10, size: 1 },
      ],
    },
    dataChunk: {
      type: 'dataChunk',
      chunkId: 1,
      start: 2,
      count: 2,
      features: new Float32Array([0.1, 0.2, 0.3, 0.4]),
      labels: new Float32Array([1, 0]),
    },
    pushReport: {
      type: 'pushReport',
      workerId: 1,
      step: 5,
      version: 5,
      batchId: 9,
      sampleCount: 128,
      loss: 0.25,
      computeSeconds: 0.03,
      finite: true,
      accuracy: 0.875,
      badSamples: [{ sampleId: 12, reason: 'parse', message: 'train.jsonl:13: not JSON' }],
      dataSeconds: 0.002,
    },
    prefetch: { type: 'prefetch', sampleIds: new Uint32Array([16, 23, 42]) },
    readFailure: { type: 'readFailure', step: 5, file: '/data/x-3.npy', message: 'ENOENT: no such file' },
    heartbeat: { type: 'heartbeat', kind: 'ping', sentAt: 1_712_345_678_901.25 },
    leave: { type: 'leave', reason: 'SIGTERM' },
    error: { type: 'error', code: 'DTRAIN_PROTOCOL_MALFORMED', message: 'bad' },
    standby: { type: 'standby', reason: 'above maxWorkers' },
    shutdown: { type: 'shutdown', reason: 'done', success: true },
    dataHello: { type: 'dataHello', protocolVersion: PROTOCOL_VERSION, token: 's3cret', workerId: 2 },
    shardHello: { type: 'shardHello', protocolVersion: PROTOCOL_VERSION, token: 's3cret', index: 1, url: 'ws://ps-1:7100', host: 'ps-1' },
    shardSetup: {
      type: 'shardSetup',
      generation: 1,
      layout: [
        { name: 'dense/kernel', shape: [2, 3], offset: 0, size: 6, trainable: true },
        { name: 'dense/bias', shape: [3], offset: 6, size: 3, trainable: true },
      ],
      start: 0,
      end: 9,
      chunkBytes: 4096,
      optimizer: { name: 'adam', learningRate: 0.001 },
      version: 12,
      optimizerState: { name: 'adam', iterations: 12, learningRate: 0.001, scalars: { accBeta1: 0.5, accBeta2: 0.9 }, arrays: ['m', 'v'] },
      wireWeights: 'float16',
    },
    shardState: { type: 'shardState', id: 1, slot: 'weights', offset: 0, values: new Float32Array([1, 2, 3]) },
    shardSetupDone: { type: 'shardSetupDone', generation: 1 },
    shardReady: { type: 'shardReady', generation: 1, version: 12 },
    shardPush: { type: 'shardPush', step: 5, workerId: 1, sampleCount: 64, nonFinite: false },
    shardPrepare: { type: 'shardPrepare', step: 5, included: [0, 1], learningRate: 0.001 },
    shardPrepared: { type: 'shardPrepared', step: 5, ok: false, reason: 'incomplete' },
    shardDecide: { type: 'shardDecide', step: 5, apply: true },
    shardApplied: { type: 'shardApplied', step: 5, version: 13, sampleCount: 128, applySeconds: 0.002, bytesIn: 72, bytesOut: 36 },
    shardSnapshot: { type: 'shardSnapshot', id: 3, optimizer: true },
    shardSnapshotDone: {
      type: 'shardSnapshotDone',
      id: 3,
      version: 13,
      optimizerState: { name: 'adam', iterations: 13, learningRate: 0.001, scalars: { accBeta1: 0.25 }, arrays: ['m', 'v'] },
    },
  };
}

/** mulberry32: small, seedable, good enough to pick test inputs. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export class RandomMessages {
  readonly #next: () => number;

  constructor(seed: number) {
    this.#next = seededRandom(seed);
  }

  int(max: number): number {
    return Math.floor(this.#next() * (max + 1));
  }
  /** Integers spread over magnitudes up to 2^53-1, small ones most often. */
  uint(): number {
    const bits = this.int(53);
    return Math.min(Number.MAX_SAFE_INTEGER, Math.floor(this.#next() * 2 ** bits));
  }
  finite(): number {
    return (this.#next() - 0.5) * 10 ** (this.int(40) - 20);
  }
  string(): string {
    // Code points, not UTF-16 units: a lone surrogate cannot survive UTF-8 (it becomes U+FFFD).
    const alphabet = Array.from('ab/_ é中🚀\u0000"\\');
    return Array.from({ length: this.int(12) }, () => alphabet[this.int(alphabet.length - 1)] ?? 'a').join('');
  }
  /** Random bit patterns: every float32 value incl. NaN payloads, ±Inf, subnormals. */
  float32(length: number): Float32Array {
    const tensor = new Float32Array(length);
    randomFillSync(new Uint8Array(tensor.buffer));
    return tensor;
  }
  uint32(length: number): Uint32Array {
    const tensor = new Uint32Array(length);
    randomFillSync(new Uint8Array(tensor.buffer));
    return tensor;
  }
  /** Tensor lengths 0..maxLength, with 0 and 1 over-represented. */
  length(maxLength: number): number {
    const pick = this.int(9);
    return pick === 0 ? 0 : pick === 1 ? 1 : this.int(maxLength);
  }

  message<K extends MessageKind>(kind: K, maxLength = 300): MessageOf<K> {
    return this.#build(kind, maxLength) as MessageOf<K>;
  }

  #build(kind: MessageKind, maxLength: number): Message {
    switch (kind) {
      case 'hello':
        return {
          type: 'hello',
          protocolVersion: this.int(255),
          token: this.string(),
          capabilities: { backend: this.string(), devices: Array.from({ length: this.int(3) }, () => this.string()), host: this.string() },
          ...(this.int(1) === 0 ? {} : { previousWorkerId: this.uint() }),
        };
      case 'welcome': {
        const layout: WeightEntry[] = [];
        let offset = 0;
        for (let i = this.int(4); i > 0; i--) {
          // Now and then one long entry, so the layout spans several chunks and shards.
          const shape = this.int(3) === 0 ? [this.int(6000)] : Array.from({ length: this.int(3) }, () => this.int(6));
          const size = shape.reduce((a, b) => a * b, 1);
          layout.push({ name: this.string(), shape, offset, size, trainable: this.int(1) === 1 });
          offset += size;
        }
        const chunkBytes = MIN_CHUNK_BYTES + 4 * this.int(1024);
        const plan = new ChunkPlan(offset, chunkBytes);
        const shards = plan.shardRanges(1 + this.int(Math.max(0, plan.chunkCount - 1))).map((range, k) => ({ ...range, url: k === 0 ? '' : `ws://ps-${k}:${7000 + k}` }));
        return {
          type: 'welcome',
          workerId: this.uint(),
          job: {
            name: this.string(),
            loss: this.string(),
            batchSize: 1 + this.int(512),
            seed: this.int(1) ? this.uint() : -1 - this.int(2 ** 31),
            heartbeatIntervalMs: 1 + this.int(10_000),
            chunkBytes,
            // Local SGD now and then.
            ...(this.int(1) === 0 ? {} : { local: { steps: 1 + this.int(64), optimizer: { name: this.string(), learningRate: Math.abs(this.finite()) }, innerState: this.int(1) ? 'keep' : 'reset' } }),
          },
          modelTopology: { class_name: this.string(), config: { layers: [{ units: this.int(100) }] } },
          layout,
          version: this.uint(),
          shards,
          data: { numSamples: this.uint(), featureShape: [this.int(1000)], labelShape: [this.int(10), 1], chunkSize: 1 + this.int(4096) },
        };
      }
      case 'assignment': {
        const batchId = this.uint();
        const sampleIds = this.uint32(1 + this.length(maxLength));
        const message = { type: 'assignment' as const, step: this.uint(), epoch: this.uint(), version: this.uint(), batchId, sampleIds };
        if (this.int(1) === 0) return message;
        // A local-SGD round: the sample ids shared out among up to 4 batches, the first the assignment's.
        const batches: { batchId: number; size: number }[] = [];
        for (let left = sampleIds.length; left > 0; ) {
          const size = batches.length === 3 ? left : 1 + this.int(left - 1);
          batches.push({ batchId: batches.length === 0 ? batchId : this.uint(), size });
          left -= size;
        }
        return { ...message, batches };
      }
      case 'prefetch':
        return { type: 'prefetch', sampleIds: this.uint32(this.length(maxLength)) };
      case 'readFailure':
        return { type: 'readFailure', step: this.uint(), file: this.string(), message: this.string() };
      case 'dataChunk':
        return { type: 'dataChunk', chunkId: this.uint(), start: this.uint(), count: this.uint(), features: this.float32(this.length(maxLength)), labels: this.float32(this.length(maxLength)) };
      case 'pushReport': {
        // A diverged worker reports a non-finite loss (and sent no chunks).
        const finite = this.int(3) !== 0;
        const loss = finite ? this.finite() : [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, this.finite()][this.int(3)] ?? Number.NaN;
        return {
          type: 'pushReport',
          workerId: this.uint(),
          step: this.uint(),
          version: this.uint(),
          batchId: this.uint(),
          sampleCount: 1 + this.int(4096),
          loss,
          computeSeconds: Math.abs(this.finite()),
          finite,
          // Optional: absent from regression jobs and older workers.
          ...(this.int(1) === 0 ? {} : { accuracy: this.int(1000) / 1000, dataSeconds: Math.abs(this.finite()) }),
        };
      }
      case 'heartbeat':
        return { type: 'heartbeat', kind: this.int(1) ? 'ping' : 'pong', sentAt: Math.abs(this.finite()) };
      case 'leave':
        return { type: 'leave', reason: this.string() };
      case 'error':
        return { type: 'error', code: this.string(), message: this.string() };
      case 'standby':
        return { type: 'standby', reason: this.string() };
      case 'shutdown':
        return { type: 'shutdown', reason: this.string(), success: this.int(1) === 1 };
      case 'dataHello':
        return { type: 'dataHello', protocolVersion: this.int(255), token: this.string(), workerId: this.uint() };
      case 'shardHello':
        return { type: 'shardHello', protocolVersion: this.int(255), token: this.string(), index: this.int(300), url: this.string(), host: this.string() };
      case 'shardSetup': {
        const layout: WeightEntry[] = [];
        let offset = 0;
        for (let i = 1 + this.int(3); i > 0; i--) {
          const size = this.int(5000);
          layout.push({ name: this.string(), shape: [size], offset, size, trainable: this.int(1) === 1 });
          offset += size;
        }
        const start = this.int(offset);
        const end = start + this.int(offset - start);
        const withState = this.int(1) === 1;
        return {
          type: 'shardSetup',
          generation: this.uint(),
          layout,
          start,
          end,
          chunkBytes: MIN_CHUNK_BYTES + 4 * this.int(1024),
          optimizer: { name: this.string(), learningRate: Math.abs(this.finite()) },
          version: this.uint(),
          ...(withState ? { optimizerState: this.#stateHeader() } : {}),
        };
      }
      case 'shardState':
        return { type: 'shardState', id: this.uint(), slot: this.string(), offset: this.uint(), values: this.float32(this.length(maxLength)) };
      case 'shardSetupDone':
        return { type: 'shardSetupDone', generation: this.uint() };
      case 'shardReady':
        return { type: 'shardReady', generation: this.uint(), version: this.uint() };
      case 'shardPush':
        return { type: 'shardPush', step: this.uint(), workerId: this.uint(), sampleCount: 1 + this.int(4096), nonFinite: this.int(1) === 1 };
      case 'shardPrepare':
        return { type: 'shardPrepare', step: this.uint(), included: Array.from({ length: this.int(5) }, () => this.uint()), learningRate: 1e-6 + Math.abs(this.finite()) };
      case 'shardPrepared':
        return { type: 'shardPrepared', step: this.uint(), ok: this.int(1) === 1, reason: this.string() };
      case 'shardDecide':
        return { type: 'shardDecide', step: this.uint(), apply: this.int(1) === 1 };
      case 'shardApplied':
        return { type: 'shardApplied', step: this.uint(), version: this.uint(), sampleCount: this.uint(), applySeconds: Math.abs(this.finite()), bytesIn: this.uint(), bytesOut: this.uint() };
      case 'shardSnapshot':
        return { type: 'shardSnapshot', id: this.uint(), optimizer: this.int(1) === 1 };
      case 'shardSnapshotDone':
        return { type: 'shardSnapshotDone', id: this.uint(), version: this.uint(), ...(this.int(1) === 1 ? { optimizerState: this.#stateHeader() } : {}) };
    }
  }

  #stateHeader(): { name: string; iterations: number; learningRate: number; scalars: Record<string, number>; arrays: string[] } {
    return {
      name: this.string(),
      iterations: this.uint(),
      learningRate: this.finite(),
      scalars: Object.fromEntries(Array.from({ length: this.int(3) }, (_, i) => [`s${i}${this.string()}`, this.finite()])),
      arrays: Array.from({ length: this.int(3) }, () => this.string()),
    };
  }
}

/** Tensor fields of a message as raw bytes, for byte-exact comparison (NaN payloads included). */
export function tensorBytes(message: object): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(message)) {
    if (value instanceof Float32Array || value instanceof Uint32Array) out[key] = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  return out;
}

/** The message with its tensors replaced by their element counts and classes, for toEqual on the rest. */
export function withoutTensors(message: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message)) {
    out[key] = value instanceof Float32Array || value instanceof Uint32Array ? `${value.constructor.name}(${value.length})` : value;
  }
  return out;
}
