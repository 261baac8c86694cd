import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dtrain, tempDir, writeJob } from './harness.js';
import { Cluster, elasticJob } from './cluster.js';

/**
 * Compute runs on the worker's compute thread, so a step far longer than the
 * heartbeat timeout does not look like a dead worker: the socket thread keeps
 * answering pings. The step here blocks the compute thread for 60 s
 * (DTRAIN_TEST_EXTRA_STEP_MS, Atomics.wait: the thread is as busy as a long
 * matmul would keep it) against a 2 s heartbeat timeout.
 */
describe('a 60-second step', () => {
  const tmp = tempDir('long-step');
  afterAll(() => tmp.cleanup());

  it('is never evicted while the worker is alive, and its gradient is applied', async () => {
    const job = {
      ...elasticJob('long-step', { heartbeatIntervalMs: 250, heartbeatTimeoutMs: 2000, stepTimeoutMs: 150_000 }, { epochs: 1, batchSize: 128 }, { everySteps: 0 }),
      // One batch: the job is one 60-second step.
      dataset: { format: 'synthetic', numSamples: 128, featureShape: [256], numClasses: 8, seed: 9, validationSplit: 0 },
    };
    const c = new Cluster(writeJob(tmp.dir, job), tmp.dir);
    try {
      await c.startCoordinator();
      const started = Date.now();
      const worker = dtrain(['worker', '--coordinator', c.url, '--backend', 'wasm'], { DTRAIN_TOKEN: c.token, DTRAIN_TEST_EXTRA_STEP_MS: '60000' });
      c.workers.push(worker);
      expect(await c.coordinator.exited, c.coordinator.stderr).toEqual({ code: 0, signal: null });
      const seconds = (Date.now() - started) / 1000;
      process.stdout.write(`[measure] one step with the compute thread blocked 60 s: job done in ${seconds.toFixed(1)} s, heartbeat timeout 2 s\n`);
      expect(seconds).toBeGreaterThan(60);
      expect(c.coordinator.stderr).not.toMatch(/evict/);
      const summary = JSON.parse(readFileSync(join(c.out, 'summary.json'), 'utf8')) as { state: string; steps: number; samples: number };
      expect([summary.state, summary.steps, summary.samples]).toEqual(['done', 1, 128]);
      expect(await worker.exited).toEqual({ code: 0, signal: null });
    } finally {
      await c.stop();
    }
  }, 150_000);
});
