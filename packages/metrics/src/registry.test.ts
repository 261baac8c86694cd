import { describe, expect, it } from 'vitest';
import { register as globalRegistry } from 'prom-client';
import { CoordinatorMetrics } from './coordinator-metrics.js';
import { createMetricsRegistry, renderMetrics } from './registry.js';
import { parseExposition } from './testing/exposition.js';

describe('createMetricsRegistry / renderMetrics', () => {
  it('without default metrics the registry holds only what is registered on it', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    expect((await renderMetrics(registry)).body.trim()).toBe('');
    new CoordinatorMetrics(registry, { job: 'j', backend: 'cpu', version: '0' });
    const names = new Set(parseExposition((await renderMetrics(registry)).body).map((s) => s.name));
    expect([...names].every((n) => n.startsWith('dtrain_'))).toBe(true);
  });

  it('with default metrics it also exports process and Node.js metrics, never on the global registry', async () => {
    const before = (await globalRegistry.metrics()).length;
    const registry = createMetricsRegistry({ defaultMetrics: true });
    const names = new Set(parseExposition((await renderMetrics(registry)).body).map((s) => s.name));
    expect(names).toContain('process_cpu_seconds_total');
    expect(names).toContain('process_resident_memory_bytes');
    expect(names).toContain('nodejs_heap_size_used_bytes');
    expect((await globalRegistry.metrics()).length).toBe(before);
  });

  it('renders the Prometheus text format with its content type', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    new CoordinatorMetrics(registry, { job: 'j', backend: 'cpu', version: '0' });
    const { contentType, body } = await renderMetrics(registry);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('# TYPE dtrain_steps_total counter\n');
    expect(body).toContain('# HELP dtrain_step_wait_seconds ');
  });
});
