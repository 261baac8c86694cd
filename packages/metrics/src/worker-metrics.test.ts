import { describe, expect, it } from 'vitest';
import { WorkerMetrics } from './worker-metrics.js';
import { createMetricsRegistry, renderMetrics } from './registry.js';
import { parseExposition, valueOf, type Sample } from './testing/exposition.js';

function setup(): { metrics: WorkerMetrics; scrape: () => Promise<Sample[]> } {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const metrics = new WorkerMetrics(registry);
  return { metrics, scrape: async () => parseExposition((await renderMetrics(registry)).body) };
}

describe('WorkerMetrics', () => {
  it('stepComputed moves steps, samples, compute and data time', async () => {
    const { metrics, scrape } = setup();
    metrics.stepComputed({ computeSeconds: 0.03, dataSeconds: 0.0004, samples: 64 });
    metrics.stepComputed({ computeSeconds: 1.5, dataSeconds: 0.003, samples: 32 });
    const s = await scrape();
    expect(valueOf(s, 'dtrain_worker_steps_total')).toBe(2);
    expect(valueOf(s, 'dtrain_worker_samples_total')).toBe(96);
    expect(valueOf(s, 'dtrain_worker_step_compute_seconds_count')).toBe(2);
    expect(valueOf(s, 'dtrain_worker_step_compute_seconds_sum')).toBeCloseTo(1.53, 10);
    expect(valueOf(s, 'dtrain_worker_step_compute_seconds_bucket', { le: '0.05' })).toBe(1);
    expect(valueOf(s, 'dtrain_worker_data_seconds_bucket', { le: '0.001' })).toBe(1);
    expect(valueOf(s, 'dtrain_worker_data_seconds_bucket', { le: '0.005' })).toBe(2);
  });

  it('sampleReads counts hits, misses (both start at 0) and bytes read', async () => {
    const { metrics, scrape } = setup();
    expect([valueOf(await scrape(), 'dtrain_worker_sample_reads_total', { result: 'hit' }), valueOf(await scrape(), 'dtrain_worker_sample_reads_total', { result: 'miss' })]).toEqual([0, 0]);
    metrics.sampleReads({ hits: 60, misses: 4, bytesRead: 4 * 3072 });
    metrics.sampleReads({ hits: 0, misses: 64, bytesRead: 64 * 3072 });
    const s = await scrape();
    expect(valueOf(s, 'dtrain_worker_sample_reads_total', { result: 'hit' })).toBe(60);
    expect(valueOf(s, 'dtrain_worker_sample_reads_total', { result: 'miss' })).toBe(68);
    expect(valueOf(s, 'dtrain_worker_sample_read_bytes_total')).toBe(68 * 3072);
  });

  it('waited records idle time and ignores impossible values', async () => {
    const { metrics, scrape } = setup();
    metrics.waited(0.25);
    metrics.waited(-1);
    metrics.waited(Number.NaN);
    const s = await scrape();
    expect(valueOf(s, 'dtrain_worker_wait_seconds_count')).toBe(1);
    expect(valueOf(s, 'dtrain_worker_wait_seconds_sum')).toBe(0.25);
  });

  it('tfjsMemory sets the tensor and byte gauges to the latest reading', async () => {
    const { metrics, scrape } = setup();
    metrics.tfjsMemory({ numTensors: 40, numBytes: 1_000_000 });
    metrics.tfjsMemory({ numTensors: 12, numBytes: 937_512 });
    const s = await scrape();
    expect(valueOf(s, 'dtrain_tfjs_tensors')).toBe(12);
    expect(valueOf(s, 'dtrain_tfjs_bytes')).toBe(937_512);
  });

  it('dtrain_worker_info fills in as the backend and the welcome become known, one series at a time', async () => {
    const { metrics, scrape } = setup();
    const info = async (): Promise<Sample[]> => (await scrape()).filter((x) => x.name === 'dtrain_worker_info');
    expect(await info()).toEqual([{ name: 'dtrain_worker_info', labels: { backend: '', worker_id: '', job: '' }, value: 1 }]);
    metrics.setInfo({ backend: 'wasm' });
    metrics.setInfo({ workerId: 3, job: 'mnist-mlp' });
    expect(await info()).toEqual([{ name: 'dtrain_worker_info', labels: { backend: 'wasm', worker_id: '3', job: 'mnist-mlp' }, value: 1 }]);
  });
});
