/**
 * The `cluster:` section: how many workers, and how long to wait for them.
 * Every key is optional.
 */
import { DEFAULT_CHUNK_BYTES, MIN_CHUNK_BYTES, WIRE_FORMATS, type WireFormat } from '@dtrain/protocol';
import { invalidField } from './config-error.js';
import { POSITIVE_INT, fieldPath, has, optionalInt, optionalNumber, optionalObjectWithKeys, optionalOneOf, type NumberRule } from './validators.js';

export interface ClusterConfig {
  /** Workers needed before training starts (and to keep going); integer >= 1, default 1. */
  minWorkers: number;
  /** Workers admitted at most; integer >= minWorkers, default max(64, minWorkers). */
  maxWorkers: number;
  /** Milliseconds a step waits for gradients before evicting the silent workers; default 30000. */
  stepTimeoutMs: number;
  /** Milliseconds the job may sit below minWorkers before failing; default 300000. */
  waitTimeoutMs: number;
  /** Milliseconds between heartbeats; default 2000. */
  heartbeatIntervalMs: number;
  /** Milliseconds without a heartbeat before a worker counts as gone; > heartbeatIntervalMs, default max(10000, 5 × heartbeatIntervalMs). */
  heartbeatTimeoutMs: number;
  /** A worker slower than this multiple of the median compute time is a straggler; > 1, default 3. */
  stragglerRatio: number;
  /**
   * Largest data-plane chunk, bytes: gradients and weights travel in chunks of
   * at most this much payload, summed and applied chunk by chunk. A multiple
   * of 4, at least 4096; default 4 MiB.
   */
  chunkBytes: number;
  /**
   * Parameter-server shards: 0 (default) keeps one shard inside the
   * coordinator process; K ≥ 1 waits for K `dtrain ps` processes, each
   * owning a contiguous range of the flat weights (balanced by bytes at
   * chunk boundaries), which workers push to and pull from directly.
   */
  psShards: number;
  /**
   * Element format of the gradients workers send: 'float32' (default,
   * exact), or 'bfloat16' / 'float16' at half the bytes, each worker keeping
   * an error-feedback residual so what rounding drops from one step is sent
   * with the next. The shards widen to float32; weights, optimizer state and
   * checkpoints stay float32.
   */
  wire: WireFormat;
  /**
   * Element format of the weights the shards send workers: 'float32'
   * (default), or 'bfloat16' / 'float16' at half the bytes. Workers then
   * compute with weights rounded to 16 bits (each version rounded afresh
   * from the float32 weights the server keeps, so no error accumulates);
   * the optimizer, checkpoints and the saved model stay float32.
   */
  wireWeights: WireFormat;
}

export const CLUSTER_DEFAULTS = {
  minWorkers: 1,
  maxWorkers: 64,
  stepTimeoutMs: 30_000,
  waitTimeoutMs: 300_000,
  heartbeatIntervalMs: 2_000,
  heartbeatTimeoutMs: 10_000,
  stragglerRatio: 3,
  chunkBytes: DEFAULT_CHUNK_BYTES,
  psShards: 0,
  wire: 'float32',
  wireWeights: 'float32',
} as const;

/** Missed heartbeats tolerated before the default timeout gives up on a worker. */
const HEARTBEATS_PER_TIMEOUT = 5;

/** setTimeout fires at once for delays beyond a signed 32-bit int: a typo'd "forever" would fail instantly. */
const MAX_TIMER_MS = 2_147_483_647;

const DURATION_MS: NumberRule = {
  min: 0,
  minExclusive: true,
  max: MAX_TIMER_MS,
  expected: `a positive number of milliseconds, at most ${MAX_TIMER_MS} (about 24.8 days)`,
};

const CLUSTER_KEYS = [
  'minWorkers',
  'maxWorkers',
  'stepTimeoutMs',
  'waitTimeoutMs',
  'heartbeatIntervalMs',
  'heartbeatTimeoutMs',
  'stragglerRatio',
  'chunkBytes',
  'psShards',
  'wire',
  'wireWeights',
] as const;

export function parseClusterConfig(raw: unknown): ClusterConfig {
  const fields = optionalObjectWithKeys(raw, 'cluster', CLUSTER_KEYS);
  const minWorkers = optionalInt(fields, 'minWorkers', POSITIVE_INT, CLUSTER_DEFAULTS.minWorkers);
  // A default below an explicit minWorkers would turn a valid config into an error the user never wrote.
  const maxWorkers = optionalInt(fields, 'maxWorkers', atLeast(minWorkers, 'minWorkers'), Math.max(CLUSTER_DEFAULTS.maxWorkers, minWorkers));
  const stepTimeoutMs = optionalNumber(fields, 'stepTimeoutMs', DURATION_MS, CLUSTER_DEFAULTS.stepTimeoutMs);
  const waitTimeoutMs = optionalNumber(fields, 'waitTimeoutMs', DURATION_MS, CLUSTER_DEFAULTS.waitTimeoutMs);
  const heartbeatIntervalMs = optionalNumber(fields, 'heartbeatIntervalMs', DURATION_MS, CLUSTER_DEFAULTS.heartbeatIntervalMs);
  const heartbeatTimeoutMs = optionalNumber(
    fields,
    'heartbeatTimeoutMs',
    DURATION_MS,
    Math.min(MAX_TIMER_MS, Math.max(CLUSTER_DEFAULTS.heartbeatTimeoutMs, HEARTBEATS_PER_TIMEOUT * heartbeatIntervalMs)),
  );
  if (heartbeatTimeoutMs <= heartbeatIntervalMs) {
    const field = has(fields, 'heartbeatTimeoutMs') ? 'heartbeatTimeoutMs' : 'heartbeatIntervalMs';
    throw invalidField(
      fieldPath(fields, field),
      `heartbeatTimeoutMs (${heartbeatTimeoutMs}) must exceed heartbeatIntervalMs (${heartbeatIntervalMs}), or every worker times out between two heartbeats`,
    );
  }
  const stragglerRatio = optionalNumber(fields, 'stragglerRatio', { min: 1, minExclusive: true }, CLUSTER_DEFAULTS.stragglerRatio);
  const chunkBytes = optionalInt(
    fields,
    'chunkBytes',
    { integer: true, min: MIN_CHUNK_BYTES, max: 2 ** 30, multipleOf: 4, expected: `a multiple of 4 from ${MIN_CHUNK_BYTES} to ${2 ** 30} (bytes)` },
    CLUSTER_DEFAULTS.chunkBytes,
  );
  const psShards = optionalInt(fields, 'psShards', { integer: true, min: 0, max: 256, expected: 'an integer from 0 (one shard inside the coordinator) to 256' }, CLUSTER_DEFAULTS.psShards);
  const wire = optionalOneOf(fields, 'wire', WIRE_FORMATS, CLUSTER_DEFAULTS.wire);
  const wireWeights = optionalOneOf(fields, 'wireWeights', WIRE_FORMATS, CLUSTER_DEFAULTS.wireWeights);
  return { minWorkers, maxWorkers, stepTimeoutMs, waitTimeoutMs, heartbeatIntervalMs, heartbeatTimeoutMs, stragglerRatio, chunkBytes, psShards, wire, wireWeights };
}

function atLeast(min: number, name: string): NumberRule {
  return { integer: true, min, expected: `an integer >= ${name} (${min})` };
}
