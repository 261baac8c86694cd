import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, writeJob } from './harness.js';
import { exactlyOnceViolation, lineage, readRecords } from './ledger.js';
import { Cluster, elasticJob, logMatch } from './cluster.js';

const NUM_TRAIN = 8000 - 400;

describe('coordinator failure and an empty cluster', () => {
  let cluster: Cluster | undefined;
  let cleanup: (() => void) | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cleanup?.();
  });

  it('SIGKILL the coordinator mid-epoch and start it again: it resumes, the same workers reconnect, the loss continues', async () => {
    const tmp = tempDir('coordinator-restart');
    cleanup = tmp.cleanup;
    const epochs = 6;
    const c = (cluster = new Cluster(writeJob(tmp.dir, elasticJob('restart', {}, { epochs }, { everySteps: 5 })), tmp.dir));
    await c.startCoordinator();
    const workers = [c.startWorker(), c.startWorker()];
    const early = await c.until('first loss', (s) => s.lastLoss !== null);
    const before = await c.until('into epoch 2', (s) => s.epoch >= 2 && s.step % 5 > 1);
    c.coordinator.child.kill('SIGKILL');
    await c.coordinator.exited;
    const restartedAt = Date.now();
    await c.startCoordinator();
    const resumed = logMatch(c.coordinator, /resuming from checkpoint .*: epoch (\d+), step (\d+)/);
    expect(resumed, c.coordinator.stderr).toBeDefined();
    const resumeStep = Number(resumed![2]);
    expect(resumeStep).toBeGreaterThan(0);
    expect(resumeStep).toBeLessThanOrEqual(before.step);
    const after = await c.until('a step after the resume', (s) => s.step > resumeStep && s.lastLoss !== null, 60_000);
    console.log(`[measure] coordinator restart → first step after resume: ${Date.now() - restartedAt} ms`);
    // No jump back to the initial loss: the first loss after the resume is near the one before the kill.
    expect(after.lastLoss!).toBeLessThan(early.lastLoss! * 0.6);
    expect(after.lastLoss!).toBeLessThan(before.lastLoss! * 2 + 0.05);
    // The same two worker processes reconnect (with backoff) and get their old ids back.
    const both = await c.until('both workers back', (s) => c.activeCount(s) === 2, 30_000);
    expect(both.workers.map((w) => w.id).sort()).toEqual([0, 1]);
    expect(await c.coordinator.exited, c.coordinator.stderr).toEqual({ code: 0, signal: null });
    for (const w of workers) expect(await w.exited).toEqual({ code: 0, signal: null });
    // Exactly once: the restarted coordinator wrote {"resumed":…} at the checkpoint's step, so the
    // lineage drops what the killed one applied past it and keeps everything the second run applied.
    const { kept, rollbacks } = lineage(readRecords(c.ledger));
    expect(rollbacks.map((r) => r.toStep)).toEqual([resumeStep]);
    expect(exactlyOnceViolation(kept, NUM_TRAIN, epochs)).toBeUndefined();
    const summary = JSON.parse(readFileSync(join(c.out, 'summary.json'), 'utf8')) as { history: { appliedMin: number; appliedMax: number }[] };
    expect(summary.history.map((h) => [h.appliedMin, h.appliedMax])).toEqual(Array(epochs).fill([1, 1]));
  });

  it('a coordinator restarted after its job finished ends done again (a Deployment restarts exited pods), and --linger keeps it up', async () => {
    const tmp = tempDir('restart-finished');
    cleanup = tmp.cleanup;
    const c = (cluster = new Cluster(writeJob(tmp.dir, elasticJob('finished', {}, { epochs: 2 })), tmp.dir));
    await c.startCoordinator();
    const worker = c.startWorker();
    expect(await c.coordinator.exited, c.coordinator.stderr).toEqual({ code: 0, signal: null });
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    const first = JSON.parse(readFileSync(join(c.out, 'summary.json'), 'utf8')) as { state: string; steps: number; final: { valAccuracy: number } };
    await c.startCoordinator(['--linger'], 'healthz');
    const again = await c.until('done again', (s) => s.state === 'done', 30_000);
    expect(again.step).toBe(first.steps);
    await new Promise((r) => setTimeout(r, 300));
    expect(c.coordinator.child.exitCode, 'lingering after done').toBeNull();
    c.coordinator.child.kill('SIGTERM');
    expect(await c.coordinator.exited, c.coordinator.stderr).toEqual({ code: 0, signal: null });
    const second = JSON.parse(readFileSync(join(c.out, 'summary.json'), 'utf8')) as { state: string; steps: number; final: { valAccuracy: number } };
    expect([second.state, second.steps, second.final.valAccuracy]).toEqual(['done', first.steps, first.final.valAccuracy]);
  });

  it('all workers die: the job pauses, then fails clearly after cluster.waitTimeoutMs with the checkpoint kept', async () => {
    const tmp = tempDir('all-dead');
    cleanup = tmp.cleanup;
    const c = (cluster = new Cluster(writeJob(tmp.dir, elasticJob('all-dead', { waitTimeoutMs: 3000 }, { epochs: 50 })), tmp.dir));
    await c.startCoordinator();
    const workers = [c.startWorker(), c.startWorker()];
    await c.until('training', (s) => c.activeCount(s) === 2 && s.step > 5);
    for (const w of workers) w.child.kill('SIGKILL');
    const paused = await c.until('paused', (s) => s.state === 'paused', 10_000);
    expect(c.activeCount(paused)).toBe(0);
    const exit = await c.coordinator.exited;
    expect(exit).toEqual({ code: 1, signal: null });
    expect(c.coordinator.stderr).toMatch(/fewer than cluster\.minWorkers=1 workers for 3 s/);
    const summary = JSON.parse(readFileSync(join(c.out, 'summary.json'), 'utf8')) as { state: string; failure: string; steps: number };
    expect(summary.state).toBe('failed');
    expect(summary.failure).toMatch(/fewer than cluster\.minWorkers/);
    expect(existsSync(join(c.out, 'checkpoints', 'LATEST'))).toBe(true);
    const latest = readFileSync(join(c.out, 'checkpoints', 'LATEST'), 'utf8').trim();
    expect(latest).toMatch(/^ckpt-\d+$/);
    expect(Number(latest.slice(5))).toBe(summary.steps);
  });
});
