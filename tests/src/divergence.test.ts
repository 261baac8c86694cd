import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dtrain, syntheticJob, tempDir, writeJob } from './harness.js';
import { countsPerEpoch, readLedger, readSkipped } from './ledger.js';

/**
 * SGD with a learning rate of 1e6 and an L2 penalty, as a new user's typo
 * would have it: each step multiplies the weights by about −2·10⁶, so within
 * a few steps the loss is ±Infinity or NaN. (Without the penalty tfjs's
 * cross-entropy clips its probabilities, and the loss stays finite however
 * wrong the weights are.)
 */
function divergingJob(name: string, nonFinite: Record<string, unknown>, epochs = 1): Record<string, unknown> {
  return syntheticJob(name, {
    model: {
      layers: [
        { type: 'dense', units: 32, activation: 'relu', inputShape: [16], kernelInitializer: 'heNormal', kernelRegularizer: { l2: 1 } },
        { type: 'dense', units: 4, activation: 'softmax' },
      ],
    },
    training: { epochs, optimizer: { name: 'sgd', learningRate: 1e6 }, nonFinite },
  });
}

interface Summary {
  state: string;
  failure: string | null;
  steps: number;
  skipped: { batches: number; samples: number };
}

describe('a diverging job', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  it('fails with DTRAIN_JOB_NON_FINITE after training.nonFinite.maxConsecutiveSteps, naming the step, the last finite loss and the learning rate, and keeps finite weights in its checkpoint', async () => {
    const tmp = tempDir('diverge-fail');
    cleanup = tmp.cleanup;
    const out = join(tmp.dir, 'out');
    const run = dtrain(['train', '--config', writeJob(tmp.dir, divergingJob('diverge-fail', { maxConsecutiveSteps: 3 })), '--workers', '2', '--backend', 'wasm', '--out', out, '--quiet']);
    const exit = await run.exited;
    expect(exit, run.stderr).toEqual({ code: 1, signal: null });
    const line = run.stderr.split('\n').find((l) => l.includes('DTRAIN_JOB_NON_FINITE'));
    expect(line, run.stderr).toMatch(/DTRAIN_JOB_NON_FINITE: step (\d+): no finite gradient in 3 consecutive steps \(training\.nonFinite\.maxConsecutiveSteps=3\); last finite training loss \d+(\.\d+)?(e[+-]?\d+)?, learning rate 1000000/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    expect(summary.state).toBe('failed');
    expect(summary.failure).toMatch(/^DTRAIN_JOB_NON_FINITE: step \d+:/);
    // Nothing non-finite was ever applied: the checkpoint written at the failure holds finite weights.
    const checkpoints = join(out, 'checkpoints');
    const latest = readFileSync(join(checkpoints, 'LATEST'), 'utf8').trim();
    const bytes = readFileSync(join(checkpoints, latest, 'weights.bin'));
    const weights = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    expect(weights.length).toBeGreaterThan(0);
    expect(weights.every((w) => Number.isFinite(w))).toBe(true);
  });

  it("with action 'skip', skips the diverged steps' batches, finishes, and accounts for every sample once: applied or skipped", async () => {
    const tmp = tempDir('diverge-skip');
    cleanup = tmp.cleanup;
    const out = join(tmp.dir, 'out');
    const ledger = join(tmp.dir, 'ledger.jsonl');
    const job = divergingJob('diverge-skip', { maxConsecutiveSteps: 2, action: 'skip' });
    const run = dtrain(['train', '--config', writeJob(tmp.dir, job), '--workers', '2', '--backend', 'wasm', '--out', out, '--ledger', ledger, '--quiet']);
    expect(await run.exited, run.stderr).toEqual({ code: 0, signal: null });
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    expect(summary.state).toBe('done');
    expect(summary.skipped.batches).toBeGreaterThan(0);
    const skipped = readSkipped(ledger);
    expect(skipped.reduce((n, s) => n + s.batchIds.length, 0)).toBe(summary.skipped.batches);
    // 2000 samples, 10% validation: 1800 training samples in batches of 32.
    const numTrain = 1800;
    const applied = countsPerEpoch(readLedger(ledger), numTrain).get(0) ?? new Uint32Array(numTrain);
    const appliedSamples = applied.reduce((n, c) => n + c, 0);
    expect(applied.every((c) => c <= 1)).toBe(true);
    expect(appliedSamples + summary.skipped.samples).toBe(numTrain);
    expect(run.stderr).toMatch(/no finite gradient in 2 consecutive steps: skipping its \d+ batch\(es\)/);
  });
});
