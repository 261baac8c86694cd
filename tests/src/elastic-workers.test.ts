import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, writeJob } from './harness.js';
import { exactlyOnceViolation, readLedger } from './ledger.js';
import { Cluster, elasticJob, logMatch } from './cluster.js';

/**
 * Workers join, leave and die (real signals) while a job runs; the job never
 * hangs and every training sample of every epoch is applied exactly once.
 */
const NUM_TRAIN = 8000 - 400;
const EPOCHS = 6;

describe('elastic workers', () => {
  let cluster: Cluster | undefined;
  let cleanup: (() => void) | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cleanup?.();
  });

  const setUp = (name: string, clusterConfig: Record<string, unknown> = {}, training: Record<string, unknown> = {}): Cluster => {
    const tmp = tempDir(name);
    cleanup = tmp.cleanup;
    cluster = new Cluster(writeJob(tmp.dir, elasticJob(name, clusterConfig, training)), tmp.dir);
    return cluster;
  };
  const finishesExactlyOnce = async (c: Cluster): Promise<void> => {
    expect(await c.coordinator.exited, c.coordinator.stderr).toEqual({ code: 0, signal: null });
    expect(exactlyOnceViolation(readLedger(c.ledger), NUM_TRAIN, EPOCHS)).toBeUndefined();
    const summary = JSON.parse(readFileSync(join(c.out, 'summary.json'), 'utf8')) as { state: string; history: { appliedMin: number; appliedMax: number }[] };
    expect(summary.state).toBe('done');
    expect(summary.history.map((h) => [h.appliedMin, h.appliedMax])).toEqual(Array(EPOCHS).fill([1, 1]));
  };

  it('SIGKILL one of 3 workers mid-step: the next step commits within stepTimeoutMs + 1 s and the job completes', async () => {
    const c = setUp('kill-worker', { stepTimeoutMs: 3000 });
    await c.startCoordinator();
    c.startWorker();
    c.startWorker();
    const victim = c.startWorker();
    const before = await c.until('3 workers training', (s) => c.activeCount(s) === 3 && s.step > 5);
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await c.until('two steps after the kill', (s) => s.step >= before.step + 2, 10_000);
    const recoveryMs = Date.now() - killedAt;
    console.log(`[measure] SIGKILL of a worker → next committed step: ${recoveryMs} ms (stepTimeoutMs 3000)`);
    expect(recoveryMs).toBeLessThan(3000 + 1000);
    expect((await victim.exited).signal).toBe('SIGKILL');
    await finishesExactlyOnce(c);
  });

  it('a worker added mid-training contributes within 2 steps of joining', async () => {
    const c = setUp('join');
    await c.startCoordinator();
    c.startWorker();
    await c.until('training under way', (s) => s.step > 10);
    const late = c.startWorker();
    await c.until('second worker active', (s) => c.activeCount(s) === 2);
    await finishesExactlyOnce(c);
    const joined = logMatch(c.coordinator, /worker 1 joined .* at version (\d+)/);
    expect(joined, c.coordinator.stderr).toBeDefined();
    const joinVersion = Number(joined![1]);
    const first = readLedger(c.ledger).find((l) => l.workerId === 1);
    expect(first).toBeDefined();
    expect(first!.step - joinVersion).toBeLessThanOrEqual(2);
    expect(joinVersion).toBeGreaterThan(10);
    expect(await late.exited).toEqual({ code: 0, signal: null });
  });

  it('SIGTERM: the worker leaves, exits 0 within seconds, and nothing is lost', async () => {
    const c = setUp('sigterm');
    await c.startCoordinator();
    c.startWorker();
    const leaver = c.startWorker();
    await c.until('both training', (s) => c.activeCount(s) === 2 && s.step > 8);
    const sentAt = Date.now();
    leaver.child.kill('SIGTERM');
    expect(await leaver.exited).toEqual({ code: 0, signal: null });
    const exitMs = Date.now() - sentAt;
    console.log(`[measure] worker SIGTERM → exit 0: ${exitMs} ms`);
    expect(exitMs).toBeLessThan(5000);
    expect(logMatch(c.coordinator, /worker \d leaving: SIGTERM/)).toBeDefined();
    await finishesExactlyOnce(c);
  });

  it('a half-open worker (SIGSTOP) is evicted, and rejoins cleanly after SIGCONT', async () => {
    const c = setUp('sigstop', { stepTimeoutMs: 2000, heartbeatTimeoutMs: 3000 }, { epochs: EPOCHS });
    await c.startCoordinator();
    c.startWorker();
    c.startWorker();
    const sleeper = c.startWorker();
    await c.until('3 workers training', (s) => c.activeCount(s) === 3 && s.step > 5);
    sleeper.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await c.until('the stopped worker evicted', (s) => c.activeCount(s) === 2, 15_000);
    console.log(`[measure] SIGSTOP → eviction: ${Date.now() - stoppedAt} ms (stepTimeoutMs 2000)`);
    const evicted = await c.status();
    sleeper.child.kill('SIGCONT');
    await c.until('the worker back', (s) => c.activeCount(s) === 3 && s.step > evicted.step, 30_000);
    await finishesExactlyOnce(c);
    expect(logMatch(c.coordinator, /evicting worker \d: no gradient for step/)).toBeDefined();
    expect(await sleeper.exited).toEqual({ code: 0, signal: null });
  });
});
