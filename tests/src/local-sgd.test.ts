import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Cluster, elasticJob } from './cluster.js';
import { dtrain, syntheticJob, tempDir, writeJob } from './harness.js';
import { exactlyOnceViolation, readLedger } from './ledger.js';

interface Summary {
  state: string;
  steps: number;
  samples: number;
  final: { valAccuracy: number };
  history: { appliedMin: number; appliedMax: number }[];
  dataPlane: { bytesPerSample: number; localSteps: number; localSgd: { outerOptimizer: { name: string }; innerState: string; meanRoundSeconds: number } | null };
}

/** 1,800 training samples (2,000, 10% held out) in batches of 450: an epoch is exactly four batches, one round of H = 4. */
const ROUND_JOB = { dataset: { numSamples: 2000 }, training: { epochs: 1, batchSize: 450, optimizer: { name: 'adam', learningRate: 0.01 } } };

function floats(file: string): Float32Array {
  const bytes = readFileSync(file);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

describe('local SGD (training.localSteps)', () => {
  const tmp = tempDir('local-sgd');
  afterAll(() => tmp.cleanup());

  async function train(name: string, overrides: { training?: Record<string, unknown>; dataset?: Record<string, unknown> }, psShards = 0): Promise<{ out: string; summary: Summary; weights: Float32Array }> {
    const config = writeJob(tmp.dir, syntheticJob(name, { ...overrides, training: { ...overrides.training } }), `${name}.yaml`);
    const out = join(tmp.dir, name);
    const run = dtrain(['train', '--config', config, '--workers', '1', '--ps-shards', String(psShards), '--backend', 'wasm', '--out', out, '--quiet', '--no-report']);
    expect(await run.exited, run.stderr).toEqual({ code: 0, signal: null });
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    expect(summary.state).toBe('done');
    return { out, summary, weights: floats(join(out, 'model', 'weights.bin')) };
  }

  it('one worker, outer SGD at learning rate 1 without momentum: a round of H local steps is H synchronous steps, to the bit', async () => {
    const sync = await train('sync', ROUND_JOB);
    const localTraining = { ...ROUND_JOB.training, localSteps: 4, outerOptimizer: { name: 'sgd', learningRate: 1 } };
    // One shard process: a fresh job's step-0 checkpoint holds the weights the round started from.
    const local = await train('local', { ...ROUND_JOB, training: localTraining }, 1);
    const embedded = await train('local-embedded', { ...ROUND_JOB, training: localTraining }, 0);
    expect(sync.summary.steps).toBe(4);
    expect(local.summary.steps).toBe(1);
    expect(local.summary.samples).toBe(sync.summary.samples);
    expect(local.summary.dataPlane).toMatchObject({ localSteps: 4, localSgd: { outerOptimizer: { name: 'sgd' }, innerState: 'keep' } });
    const checkpoints = join(local.out, 'checkpoints');
    const first = readdirSync(checkpoints).filter((n) => n.startsWith('ckpt-')).sort()[0] as string;
    const start = floats(join(checkpoints, first, 'weights.bin'));
    expect(start.length).toBe(sync.weights.length);

    // The worker took the same four adam steps as the parameter server did in the synchronous job and
    // pushed d = start − w4 (one float32 rounding); the server applied start − 1·d. So the result is
    // exactly the synchronous weights with that one rounding of the pseudo-gradient, and nothing else.
    let moved = 0;
    let sameAsSync = 0;
    for (let i = 0; i < start.length; i += 1) {
      const w0 = start[i] as number;
      const w4 = sync.weights[i] as number;
      const d = Math.fround(w0 - w4);
      const expected = Math.fround(w0 - d);
      if (local.weights[i] !== expected) expect.fail(`element ${i}: local SGD gave ${local.weights[i]}, H synchronous steps give ${w4} (${expected} after the pseudo-gradient's rounding)`);
      if (w4 !== w0) moved += 1;
      if (local.weights[i] === w4) sameAsSync += 1;
    }
    expect(moved).toBeGreaterThan(start.length * 0.9);
    // Where start − w4 is exact in float32 (most elements: Sterbenz), not even that rounding shows.
    expect(sameAsSync).toBeGreaterThan(start.length * 0.9);
    // Shard processes and the embedded shard compute the same bits.
    expect(Buffer.from(embedded.weights.buffer).equals(Buffer.from(local.weights.buffer))).toBe(true);
  }, 240_000);

  it('localSteps 1 is the synchronous path, bit for bit; H = 4 learns with about a quarter of the bytes per sample, the last round of each epoch shorter', async () => {
    const job = { training: { epochs: 2 } };
    const sync = await train('h-absent', job);
    const one = await train('h-1', { training: { ...job.training, localSteps: 1 } });
    expect(Buffer.from(one.weights.buffer).equals(Buffer.from(sync.weights.buffer))).toBe(true);
    expect(one.summary.dataPlane).toMatchObject({ localSteps: 1, localSgd: null });

    const four = await train('h-4', { training: { ...job.training, localSteps: 4 } });
    // 1,800 samples in batches of 32: 57 batches an epoch, 15 rounds (14 of four and one of one).
    expect(sync.summary.steps).toBe(2 * 57);
    expect(four.summary.steps).toBe(2 * 15);
    expect(four.summary.history.map((h) => [h.appliedMin, h.appliedMax])).toEqual([[1, 1], [1, 1]]);
    expect(four.summary.final.valAccuracy).toBeGreaterThan(0.8);
    const ratio = four.summary.dataPlane.bytesPerSample / sync.summary.dataPlane.bytesPerSample;
    expect(ratio).toBeGreaterThan(0.2);
    expect(ratio).toBeLessThan(0.3);
    expect(four.summary.dataPlane.localSgd).toMatchObject({ outerOptimizer: { name: 'momentum' }, innerState: 'keep' });
    expect(four.summary.dataPlane.localSgd?.meanRoundSeconds).toBeGreaterThan(0);
  }, 240_000);
});

describe('local SGD under faults', () => {
  let cluster: Cluster | undefined;
  let cleanup: (() => void) | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cleanup?.();
  });

  it('a worker SIGKILLed mid-round: its batches go back, every sample of every epoch is applied exactly once, and the audit agrees', async () => {
    const tmp = tempDir('local-sgd-kill');
    cleanup = tmp.cleanup;
    const epochs = 2;
    const numTrain = 8000 - 400;
    // minWorkers 2: after the kill the job waits for the replacement instead of racing it to the end (a loaded machine starts a worker slowly).
    const c = new Cluster(writeJob(tmp.dir, elasticJob('local-kill', { stepTimeoutMs: 3000, minWorkers: 2 }, { epochs, localSteps: 4 })), tmp.dir);
    cluster = c;
    const records = [0, 1, 2].map((i) => join(tmp.dir, `worker-${i}.jsonl`));
    await c.startCoordinator();
    c.startWorker('wasm', records[0]);
    const victim = c.startWorker('wasm', records[1]);
    // Killed while it holds a round (state training: assigned, not yet reported), once both have had rounds applied.
    const before = await c.until('the victim mid-round', (s) => c.activeCount(s) === 2 && s.workers.every((w) => w.stepsApplied > 0) && s.workers.some((w) => w.id === 1 && w.state === 'training') && s.epoch === 0, 90_000);
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    const replacement = c.startWorker('wasm', records[2]);
    await c.until('the replacement active', (s) => c.activeCount(s) === 2 && s.step > before.step, 30_000);
    expect(await c.coordinator.exited, c.coordinator.stderr).toEqual({ code: 0, signal: null });
    expect(await replacement.exited, replacement.stderr).toEqual({ code: 0, signal: null });

    const ledger = readLedger(c.ledger);
    expect(exactlyOnceViolation(ledger, numTrain, epochs)).toBeUndefined();
    // Rounds of several batches: a committed step credits up to four batches to each worker.
    const perStep = new Map<string, number>();
    for (const line of ledger) perStep.set(`${line.step}/${line.workerId}`, (perStep.get(`${line.step}/${line.workerId}`) ?? 0) + 1);
    expect(Math.max(...perStep.values())).toBe(4);
    const summary = JSON.parse(readFileSync(join(c.out, 'summary.json'), 'utf8')) as Summary;
    expect(summary.history.map((h) => [h.appliedMin, h.appliedMax])).toEqual(Array(epochs).fill([1, 1]));

    const audit = dtrain(['audit', '--ledger', c.ledger, '--records', ...records, '--samples', String(numTrain), '--epochs', String(epochs), '--json']);
    expect((await audit.exited).code, audit.stdout + audit.stderr).toBe(0);
    const report = JSON.parse(audit.stdout) as { ok: boolean; appliedBatches: number; matchedBatches: number };
    expect(report.ok).toBe(true);
    expect(report.matchedBatches).toBe(report.appliedBatches);
  }, 240_000);
});
