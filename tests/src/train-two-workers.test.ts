import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, loadModelFromDir, predict } from '@dtrain/engine';
import { dtrain, syntheticJob, tempDir, writeJob } from './harness.js';
import { exactlyOnceViolation, readLedger } from './ledger.js';

interface Summary {
  state: string;
  epochs: number;
  steps: number;
  samples: number;
  workers: number;
  backend: string;
  final: { loss: number; accuracy: number | null; valLoss: number; valAccuracy: number };
  history: { epoch: number; loss: number; accuracy?: number; valLoss: number; valAccuracy: number; samples: number; appliedMin: number; appliedMax: number }[];
}

describe('dtrain train: coordinator + 2 worker processes', () => {
  const tmp = tempDir('two-workers');
  const out = join(tmp.dir, 'run');
  const ledger = join(tmp.dir, 'ledger.jsonl');
  const job = syntheticJob('two-workers', { training: { epochs: 4 }, dataset: { numSamples: 2400 } });
  const config = writeJob(tmp.dir, job);
  let summary: Summary;
  let run: Awaited<ReturnType<typeof dtrain>['exited']>;
  let stdout = '';
  let stderr = '';

  beforeAll(async () => {
    const p = dtrain(['train', '--config', config, '--workers', '2', '--port', '0', '--out', out, '--json', '--ledger', ledger, '--backend', 'wasm']);
    run = await p.exited;
    stdout = p.stdout;
    stderr = p.stderr;
    summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
  }, 300_000);
  afterAll(() => tmp.cleanup());

  it('exits 0 and reports every epoch as one JSON object on stdout', () => {
    expect(run, stderr).toEqual({ code: 0, signal: null });
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; loss: number });
    expect(lines.map((l) => l.epoch)).toEqual([0, 1, 2, 3]);
    expect(summary.state).toBe('done');
    expect(summary.workers).toBe(2);
    expect(summary.backend).toBe('wasm');
  });

  it('loss falls and the model learns', () => {
    const losses = summary.history.map((h) => h.loss);
    expect(losses[3]).toBeLessThan(losses[0]! * 0.8);
    expect(summary.final.valAccuracy).toBeGreaterThan(0.8);
  });

  it('reports training accuracy per epoch (from the workers\' batches) in summary.json and on stdout', () => {
    const accuracies = summary.history.map((h) => h.accuracy);
    for (const a of accuracies) expect(a).toBeGreaterThanOrEqual(0);
    for (const a of accuracies) expect(a).toBeLessThanOrEqual(1);
    expect(accuracies[3]).toBeGreaterThan(accuracies[0]!);
    expect(accuracies[3]).toBeGreaterThan(0.7);
    expect(summary.final.accuracy).toBe(accuracies[3]);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { accuracy: number | null });
    expect(lines.map((l) => l.accuracy)).toEqual(accuracies);
  });

  it('applies every training sample exactly once per epoch (counted from the audit ledger)', () => {
    const numTrain = 2400 - 240;
    const lines = readLedger(ledger);
    expect(exactlyOnceViolation(lines, numTrain, 4)).toBeUndefined();
    expect(new Set(lines.map((l) => l.workerId))).toEqual(new Set([0, 1]));
    expect(summary.samples).toBe(numTrain * 4);
    for (const h of summary.history) expect([h.samples, h.appliedMin, h.appliedMax]).toEqual([numTrain, 1, 1]);
  });

  it('saves a model tf.loadLayersModel loads, and dtrain evaluate agrees with summary.json', async () => {
    expect(existsSync(join(out, 'model', 'model.json'))).toBe(true);
    await initBackend('cpu');
    const model = await loadModelFromDir(join(out, 'model'));
    const { values, outputShape } = predict(model, new Float32Array(16 * 3).fill(0.5), 3);
    expect(outputShape).toEqual([3, 4]);
    for (let i = 0; i < 3; i += 1) expect(values.subarray(i * 4, i * 4 + 4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);

    const ev = dtrain(['evaluate', '--model', out, '--config', config, '--json']);
    expect(await ev.exited, ev.stderr).toEqual({ code: 0, signal: null });
    const report = JSON.parse(ev.stdout) as { accuracy: number; loss: number; samples: number };
    expect(report.samples).toBe(240);
    expect(report.accuracy).toBeCloseTo(summary.final.valAccuracy, 6);
    expect(report.loss).toBeCloseTo(summary.final.valLoss, 4);
  });

  it('dtrain predict prints one row of class probabilities per input', async () => {
    const input = join(tmp.dir, 'inputs.json');
    writeFileSync(input, JSON.stringify([Array(16).fill(0.1), Array(16).fill(-0.3)]));
    const p = dtrain(['predict', '--model', out, '--input', input]);
    expect(await p.exited, p.stderr).toEqual({ code: 0, signal: null });
    const rows = p.stdout.trim().split('\n');
    expect(rows[0]).toBe('class,p0,p1,p2,p3');
    expect(rows).toHaveLength(3);
    for (const row of rows.slice(1)) {
      const [cls, ...ps] = row.split(',').map(Number);
      expect(ps.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      expect(cls).toBe(ps.indexOf(Math.max(...ps)));
    }
  });
});
