import { describe, expect, it } from 'vitest';
import { COMMIT_OUTCOMES, ShardMetrics, type ShardStep } from './shard-metrics.js';
import { createMetricsRegistry, renderMetrics } from './registry.js';
import { parseExposition, valueOf, type Sample } from './testing/exposition.js';

function setup(shards?: readonly number[]): { metrics: ShardMetrics; scrape: () => Promise<Sample[]> } {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const metrics = new ShardMetrics(registry, shards === undefined ? {} : { shards });
  return { metrics, scrape: async () => parseExposition((await renderMetrics(registry)).body) };
}

const step = (overrides: Partial<ShardStep> = {}): ShardStep => ({
  shard: 0,
  applySeconds: 0.0004,
  bytesIn: 3 * 1_073_000,
  bytesOut: 2 * 1_073_000,
  pendingPushes: 3,
  committed: true,
  ...overrides,
});

describe('ShardMetrics', () => {
  it('exports every series of the shards it is given from the start, at 0, and none of other shards', async () => {
    const s = await (setup([0, 3])).scrape();
    for (const shard of ['0', '3']) {
      expect(valueOf(s, 'dtrain_shard_bytes_total', { shard, direction: 'in' })).toBe(0);
      expect(valueOf(s, 'dtrain_shard_bytes_total', { shard, direction: 'out' })).toBe(0);
      for (const outcome of COMMIT_OUTCOMES) expect(valueOf(s, 'dtrain_shard_commits_total', { shard, outcome })).toBe(0);
      expect(valueOf(s, 'dtrain_shard_pushes', { shard })).toBe(0);
      expect(valueOf(s, 'dtrain_shard_apply_seconds_count', { shard })).toBe(0);
      expect(valueOf(s, 'dtrain_shard_apply_seconds_bucket', { shard, le: '+Inf' })).toBe(0);
    }
    expect(s.filter((x) => x.labels.shard !== undefined && !['0', '3'].includes(x.labels.shard))).toEqual([]);
    expect(await setup().scrape()).toEqual([]);
  });

  it('counts bytes both ways, commits by outcome, and keeps the last commit’s pushes', async () => {
    const { metrics, scrape } = setup([0]);
    metrics.shardStep(step());
    metrics.shardStep(step({ pendingPushes: 2, bytesIn: 1000, bytesOut: 500 }));
    metrics.shardStep(step({ committed: false, pendingPushes: 1, bytesIn: 10, bytesOut: 0 }));
    const s = await scrape();
    expect(valueOf(s, 'dtrain_shard_bytes_total', { shard: '0', direction: 'in' })).toBe(3 * 1_073_000 + 1010);
    expect(valueOf(s, 'dtrain_shard_bytes_total', { shard: '0', direction: 'out' })).toBe(2 * 1_073_000 + 500);
    expect(valueOf(s, 'dtrain_shard_commits_total', { shard: '0', outcome: 'committed' })).toBe(2);
    expect(valueOf(s, 'dtrain_shard_commits_total', { shard: '0', outcome: 'refused' })).toBe(1);
    expect(valueOf(s, 'dtrain_shard_pushes', { shard: '0' })).toBe(1);
  });

  it('observes the apply time of committed steps only, in buckets from 0.1 ms', async () => {
    const { metrics, scrape } = setup([0]);
    metrics.shardStep(step({ applySeconds: 0.00015 }));
    metrics.shardStep(step({ applySeconds: 3 }));
    metrics.shardStep(step({ applySeconds: 0.00001, committed: false }));
    const s = await scrape();
    expect(valueOf(s, 'dtrain_shard_apply_seconds_count', { shard: '0' })).toBe(2);
    expect(valueOf(s, 'dtrain_shard_apply_seconds_sum', { shard: '0' })).toBeCloseTo(3.00015, 12);
    expect(valueOf(s, 'dtrain_shard_apply_seconds_bucket', { shard: '0', le: '0.0001' })).toBe(0);
    expect(valueOf(s, 'dtrain_shard_apply_seconds_bucket', { shard: '0', le: '0.0002' })).toBe(1);
    expect(valueOf(s, 'dtrain_shard_apply_seconds_bucket', { shard: '0', le: '2' })).toBe(1);
    expect(valueOf(s, 'dtrain_shard_apply_seconds_bucket', { shard: '0', le: '5' })).toBe(2);
  });

  it('keeps shards apart, and gives a shard first seen in a step all its series', async () => {
    const { metrics, scrape } = setup([0]);
    metrics.shardStep(step({ shard: 2, bytesIn: 7, bytesOut: 9, pendingPushes: 4 }));
    const s = await scrape();
    expect(valueOf(s, 'dtrain_shard_bytes_total', { shard: '2', direction: 'in' })).toBe(7);
    expect(valueOf(s, 'dtrain_shard_bytes_total', { shard: '0', direction: 'in' })).toBe(0);
    expect(valueOf(s, 'dtrain_shard_commits_total', { shard: '2', outcome: 'refused' })).toBe(0);
    expect(valueOf(s, 'dtrain_shard_pushes', { shard: '2' })).toBe(4);
    expect(valueOf(s, 'dtrain_shard_pushes', { shard: '0' })).toBe(0);
  });

  it('ignores a shard index that is not a non-negative integer, and a negative or non-finite apply time', async () => {
    const { metrics, scrape } = setup([0]);
    for (const shard of [-1, 1.5, Number.NaN]) metrics.shardStep(step({ shard }));
    metrics.shardStep(step({ applySeconds: -0.001 }));
    metrics.shardStep(step({ applySeconds: Number.POSITIVE_INFINITY }));
    const s = await scrape();
    expect(new Set(s.map((x) => x.labels.shard))).toEqual(new Set(['0']));
    expect(valueOf(s, 'dtrain_shard_commits_total', { shard: '0', outcome: 'committed' })).toBe(2);
    expect(valueOf(s, 'dtrain_shard_apply_seconds_count', { shard: '0' })).toBe(0);
  });
});
