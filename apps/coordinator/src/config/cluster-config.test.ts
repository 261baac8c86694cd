import { describe, expect, test } from 'vitest';
import { parseClusterConfig } from './cluster-config.js';
import { configError } from './config-error.testkit.js';

const DEFAULTS = {
  minWorkers: 1,
  maxWorkers: 64,
  stepTimeoutMs: 30000,
  waitTimeoutMs: 300000,
  heartbeatIntervalMs: 2000,
  heartbeatTimeoutMs: 10000,
  stragglerRatio: 3,
  chunkBytes: 4194304,
  psShards: 0,
  wire: 'float32',
  wireWeights: 'float32',
};

const MS = 'a positive number of milliseconds, at most 2147483647 (about 24.8 days)';

describe('cluster', () => {
  test.each([
    { raw: undefined, expected: DEFAULTS },
    { raw: null, expected: DEFAULTS },
    { raw: {}, expected: DEFAULTS },
    { raw: { minWorkers: 4, maxWorkers: 4 }, expected: { ...DEFAULTS, minWorkers: 4, maxWorkers: 4 } },
    // An explicit minWorkers above the default maxWorkers raises the default rather than failing.
    { raw: { minWorkers: 100 }, expected: { ...DEFAULTS, minWorkers: 100, maxWorkers: 100 } },
    // The default timeout follows a slower heartbeat, so the pair stays valid.
    { raw: { heartbeatIntervalMs: 5000 }, expected: { ...DEFAULTS, heartbeatIntervalMs: 5000, heartbeatTimeoutMs: 25000 } },
    { raw: { heartbeatIntervalMs: 500, heartbeatTimeoutMs: 600 }, expected: { ...DEFAULTS, heartbeatIntervalMs: 500, heartbeatTimeoutMs: 600 } },
    { raw: { stepTimeoutMs: 1.5, waitTimeoutMs: 2147483647, stragglerRatio: 1.5 }, expected: { ...DEFAULTS, stepTimeoutMs: 1.5, waitTimeoutMs: 2147483647, stragglerRatio: 1.5 } },
    { raw: { chunkBytes: 65536 }, expected: { ...DEFAULTS, chunkBytes: 65536 } },
    { raw: { psShards: 3 }, expected: { ...DEFAULTS, psShards: 3 } },
    { raw: { wire: 'bfloat16' }, expected: { ...DEFAULTS, wire: 'bfloat16' } },
    { raw: { wire: 'float16' }, expected: { ...DEFAULTS, wire: 'float16' } },
    { raw: { wire: 'bfloat16', wireWeights: 'bfloat16' }, expected: { ...DEFAULTS, wire: 'bfloat16', wireWeights: 'bfloat16' } },
  ])('$raw → $expected', ({ raw, expected }) => {
    expect(parseClusterConfig(raw)).toStrictEqual(expected);
  });

  test.each([
    { raw: 4, field: 'cluster', message: 'cluster: expected an object, got 4' },
    { raw: { minWorkers: 0 }, field: 'cluster.minWorkers', message: 'cluster.minWorkers: expected a positive integer, got 0' },
    { raw: { minWorkers: 'two' }, field: 'cluster.minWorkers', message: 'cluster.minWorkers: expected a positive integer, got "two"' },
    { raw: { minWorkers: 4, maxWorkers: 2 }, field: 'cluster.maxWorkers', message: 'cluster.maxWorkers: expected an integer >= minWorkers (4), got 2' },
    { raw: { maxWorkers: 2.5 }, field: 'cluster.maxWorkers', message: 'cluster.maxWorkers: expected an integer >= minWorkers (1), got 2.5' },
    { raw: { stepTimeoutMs: 0 }, field: 'cluster.stepTimeoutMs', message: `cluster.stepTimeoutMs: expected ${MS}, got 0` },
    { raw: { stepTimeoutMs: '30s' }, field: 'cluster.stepTimeoutMs', message: `cluster.stepTimeoutMs: expected ${MS}, got "30s"` },
    { raw: { waitTimeoutMs: 1e10 }, field: 'cluster.waitTimeoutMs', message: `cluster.waitTimeoutMs: expected ${MS}, got 10000000000` },
    { raw: { heartbeatIntervalMs: -1 }, field: 'cluster.heartbeatIntervalMs', message: `cluster.heartbeatIntervalMs: expected ${MS}, got -1` },
    {
      raw: { heartbeatTimeoutMs: 2000 },
      field: 'cluster.heartbeatTimeoutMs',
      message:
        'cluster.heartbeatTimeoutMs: heartbeatTimeoutMs (2000) must exceed heartbeatIntervalMs (2000), or every worker times out between two heartbeats',
    },
    {
      raw: { heartbeatIntervalMs: 2147483647 },
      field: 'cluster.heartbeatIntervalMs',
      message:
        'cluster.heartbeatIntervalMs: heartbeatTimeoutMs (2147483647) must exceed heartbeatIntervalMs (2147483647), or every worker times out between two heartbeats',
    },
    { raw: { stragglerRatio: 1 }, field: 'cluster.stragglerRatio', message: 'cluster.stragglerRatio: expected a number > 1, got 1' },
    { raw: { chunkBytes: 4098 }, field: 'cluster.chunkBytes', message: 'cluster.chunkBytes: expected a multiple of 4 from 4096 to 1073741824 (bytes), got 4098' },
    { raw: { chunkBytes: 1024 }, field: 'cluster.chunkBytes', message: 'cluster.chunkBytes: expected a multiple of 4 from 4096 to 1073741824 (bytes), got 1024' },
    { raw: { psShards: -1 }, field: 'cluster.psShards', message: 'cluster.psShards: expected an integer from 0 (one shard inside the coordinator) to 256, got -1' },
    { raw: { psShards: 1.5 }, field: 'cluster.psShards', message: 'cluster.psShards: expected an integer from 0 (one shard inside the coordinator) to 256, got 1.5' },
    { raw: { wire: 'fp8' }, field: 'cluster.wire', message: 'cluster.wire: expected one of "float32", "bfloat16", "float16", got "fp8"' },
    { raw: { wireWeights: 16 }, field: 'cluster.wireWeights', message: 'cluster.wireWeights: expected one of "float32", "bfloat16", "float16", got 16' },
    { raw: { stepTimeout: 1000 }, field: 'cluster.stepTimeout', message: 'cluster.stepTimeout: unknown key (did you mean "stepTimeoutMs"?)' },
    { raw: { heartbeatTimeout: 1000 }, field: 'cluster.heartbeatTimeout', message: 'cluster.heartbeatTimeout: unknown key (did you mean "heartbeatTimeoutMs"?)' },
    { raw: { maxworker: 2 }, field: 'cluster.maxworker', message: 'cluster.maxworker: unknown key (did you mean "maxWorkers"?)' },
    {
      raw: { workers: 2 },
      field: 'cluster.workers',
      message:
        'cluster.workers: unknown key (expected one of: minWorkers, maxWorkers, stepTimeoutMs, waitTimeoutMs, heartbeatIntervalMs, heartbeatTimeoutMs, stragglerRatio, chunkBytes, psShards, wire, wireWeights)',
    },
  ])('$message', ({ raw, field, message }) => {
    expect(configError(() => parseClusterConfig(raw))).toMatchObject({ code: 'DTRAIN_CONFIG_INVALID', field, message });
  });
});
