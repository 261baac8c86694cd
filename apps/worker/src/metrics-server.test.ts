import { afterEach, describe, expect, it } from 'vitest';
import { WorkerMetrics, createMetricsRegistry } from '@dtrain/metrics';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';

describe('startMetricsServer', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves the registry on /metrics in the Prometheus text format, on a free port when asked for 0', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = new WorkerMetrics(registry, { backend: 'cpu' });
    metrics.stepComputed({ computeSeconds: 0.02, dataSeconds: 0.001, samples: 64 });
    server = await startMetricsServer(registry, { port: 0, host: '127.0.0.1' });
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    expect(body).toMatch(/^dtrain_worker_samples_total 64$/m);
    expect(body).toMatch(/^dtrain_worker_info\{backend="cpu",worker_id="",job=""\} 1$/m);
    // Scrapes see updates made after the server started.
    metrics.stepComputed({ computeSeconds: 0.02, dataSeconds: 0.001, samples: 36 });
    expect(await (await fetch(server.url)).text()).toMatch(/^dtrain_worker_samples_total 100$/m);
  });

  it('answers /healthz, and 404 elsewhere', async () => {
    server = await startMetricsServer(createMetricsRegistry({ defaultMetrics: false }), { port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${server.port}`;
    const health = await fetch(`${base}/healthz`);
    expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
    expect((await fetch(`${base}/status`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});
