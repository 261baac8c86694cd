import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, writeJob } from './harness.js';
import { exactlyOnceViolation, readLedger } from './ledger.js';
import { Cluster, elasticJob } from './cluster.js';

/**
 * A worker much slower than the rest (the pure-JS cpu backend among wasm
 * workers) is left out of the step quorum past cluster.stragglerRatio, is
 * visible as benched in /status, gets only probe batches, and the job still
 * applies every sample exactly once.
 */
describe('stragglers', () => {
  const tmp = tempDir('straggler');
  afterAll(() => tmp.cleanup());

  it('benches a persistently slow worker and completes without it holding every step', async () => {
    const epochs = 3;
    const c = new Cluster(writeJob(tmp.dir, elasticJob('straggler', { stragglerRatio: 3, stepTimeoutMs: 20_000 }, { epochs })), tmp.dir);
    try {
      await c.startCoordinator();
      c.startWorker('wasm');
      c.startWorker('wasm');
      await c.until('two fast workers', (s) => c.activeCount(s) === 2);
      c.startWorker('cpu');
      const benched = await c.until('the cpu worker benched', (s) => s.workers.some((w) => w.benched), 60_000);
      const slow = benched.workers.find((w) => w.benched)!;
      expect(slow.id).toBe(2);
      expect(await c.coordinator.exited, c.coordinator.stderr).toEqual({ code: 0, signal: null });
      const lines = readLedger(c.ledger);
      expect(exactlyOnceViolation(lines, 8000 - 400, epochs)).toBeUndefined();
      const bySlow = lines.filter((l) => l.workerId === 2).length;
      const byFast = lines.length - bySlow;
      console.log(`[measure] straggler applied ${bySlow} batches, the two fast workers ${byFast}`);
      expect(bySlow * 5).toBeLessThan(byFast);
      const summary = JSON.parse(readFileSync(join(c.out, 'summary.json'), 'utf8')) as { state: string };
      expect(summary.state).toBe('done');
    } finally {
      await c.stop();
    }
  });
});
