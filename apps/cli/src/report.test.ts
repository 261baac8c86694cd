import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHistory, parseSummary, readRunData, type HistoryEpoch, type HistoryPoint, type RunHistoryJson } from './report-data.js';
import { reportSeries } from './report-series.js';
import { LAYER, reportSpec } from './report-spec.js';
import { writeReport } from './report.js';
import { UsageError } from './usage-error.js';

/** A synthetic run: `epochs` epochs of `stepsPerEpoch` steps, some losses not finite, one worker joining late. */
function syntheticRun(epochs: number, stepsPerEpoch: number): { summary: Record<string, unknown>; history: RunHistoryJson } {
  const steps: HistoryPoint[] = [];
  const perEpoch: HistoryEpoch[] = [];
  let t = 0;
  for (let e = 0; e < epochs; e += 1) {
    for (let i = 0; i < stepsPerEpoch; i += 1) {
      const step = e * stepsPerEpoch + i + 1;
      t += 0.05 + Math.random() * 0.02;
      const compute = 0.03 + Math.random() * 0.01;
      steps.push({
        step,
        epoch: e,
        t,
        loss: Math.random() < 0.05 ? null : 2 / (1 + step / 10) + Math.random() * 0.05,
        accuracy: Math.random() < 0.05 ? null : Math.min(1, step / (epochs * stepsPerEpoch)),
        samples: 64,
        samplesPerSecond: 900 + Math.random() * 100,
        computeSeconds: compute,
        waitSeconds: Math.random() * 0.01,
        syncSeconds: 0.01 + Math.random() * 0.005,
        workers: step < 5 ? 1 : 2,
      });
    }
    perEpoch.push({ epoch: e, loss: 1 / (e + 1), accuracy: 0.4 + e * 0.1, valLoss: e === 0 ? null : 1.1 / (e + 1), valAccuracy: 0.5 + e * 0.1, samples: 64 * stepsPerEpoch, samplesPerSecond: 950, wallSeconds: 3 });
  }
  const history: RunHistoryJson = {
    version: 1,
    job: 'synthetic',
    startedAt: '2026-01-01T00:00:00.000Z',
    stride: 1,
    maxPoints: 2000,
    steps,
    epochs: perEpoch,
    events: [
      { t: 0, kind: 'joined', workerId: 0, detail: 'worker 0 joined' },
      { t: 0.2, kind: 'joined', workerId: 1, detail: 'worker 1 joined' },
      { t: t / 2, kind: 'checkpoint', detail: 'checkpoint at step 10' },
      { t: t * 0.7, kind: 'left', workerId: 1, detail: 'worker 1 left' },
    ],
  };
  const summary = {
    name: 'synthetic',
    state: 'done',
    epochs,
    steps: steps.length,
    samples: 64 * steps.length,
    wallSeconds: t,
    samplesPerSecond: (64 * steps.length) / t,
    workers: 2,
    backend: 'cpu',
    version: steps.length,
    final: { loss: 0.3, valLoss: 0.35, valAccuracy: 0.8, testLoss: 0.4, testAccuracy: 0.79 },
    // As JSON.stringify writes EpochRecord: an undefined valLoss is absent.
    history: perEpoch.map(({ valLoss, ...e }) => ({ ...e, ...(valLoss === null ? {} : { valLoss }), appliedMin: 1, appliedMax: 1 })),
    rejected: {},
    skipped: { batches: 0, samples: 0 },
    timing: {},
  };
  return { summary, history };
}

function errorOf(f: () => unknown): UsageError {
  try {
    f();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('expected a UsageError');
}

/** How many vertices the path(s) of one named layer draw (M/L commands), or how many items (bars, points) it has. */
function layerOf(svg: string, name: string): { vertices: number; items: number } {
  const start = svg.indexOf(`role-mark ${name}_marks"`);
  if (start < 0) return { vertices: 0, items: 0 };
  const group = svg.slice(start, svg.indexOf('</g>', start));
  const paths = [...group.matchAll(/<path [^>]*\bd="([^"]*)"/g)].map((m) => m[1] ?? '');
  return { vertices: paths.reduce((n, d) => n + (d.match(/[ML]/g) ?? []).length, 0), items: (group.match(/<(path|line) /g) ?? []).length };
}

describe('report data', () => {
  it('accepts a summary and history as the coordinator writes them', () => {
    const { summary, history } = syntheticRun(3, 10);
    const s = parseSummary('summary.json', JSON.parse(JSON.stringify(summary)));
    expect(s.history).toHaveLength(3);
    expect(s.history[0]?.valLoss).toBeNull();
    expect(s.final.testAccuracy).toBe(0.79);
    expect(parseHistory('history.json', JSON.parse(JSON.stringify(history))).steps).toHaveLength(30);
  });

  it('names the file and the field of a malformed value', () => {
    const { summary, history } = syntheticRun(2, 4);
    const badSummary = { ...summary, history: [...(summary.history as object[]), { epoch: 2, loss: 'x' }] };
    const e1 = errorOf(() => parseSummary('/run/summary.json', badSummary));
    expect(e1.code).toBe('DTRAIN_USAGE');
    expect(e1.message).toBe('dtrain report: /run/summary.json: history[2].loss: expected a number or null, got "x"');

    const e2 = errorOf(() => parseSummary('/run/summary.json', { ...summary, final: undefined }));
    expect(e2.message).toBe('dtrain report: /run/summary.json: final: expected an object, got nothing');

    const steps = history.steps.map((p, i) => (i === 3 ? { ...p, computeSeconds: null } : p));
    const e3 = errorOf(() => parseHistory('/run/history.json', { ...history, steps }));
    expect(e3.message).toBe('dtrain report: /run/history.json: steps[3].computeSeconds: expected a number, got null');

    const events = [{ t: 1, kind: 'exploded', detail: '' }];
    expect(errorOf(() => parseHistory('/run/history.json', { ...history, events })).message).toMatch(/history\.json: events\[0\]\.kind: expected one of joined, left/);
    expect(errorOf(() => parseHistory('/run/history.json', { ...history, version: 2 })).message).toMatch(/history\.json: version: expected 1, got 2/);
  });

  it('reports a missing or unparsable summary.json as a usage error naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dtrain-report-'));
    try {
      expect(errorOf(() => readRunData(dir)).message).toContain(`cannot read ${join(dir, 'summary.json')}`);
      writeFileSync(join(dir, 'summary.json'), '{ not json');
      expect(errorOf(() => readRunData(dir)).message).toContain(`${join(dir, 'summary.json')}: not JSON`);
      writeFileSync(join(dir, 'summary.json'), JSON.stringify(syntheticRun(1, 2).summary));
      expect(readRunData(dir).history).toBeUndefined();
      writeFileSync(join(dir, 'history.json'), '[]');
      expect(errorOf(() => readRunData(dir)).message).toContain(`${join(dir, 'history.json')}: (top level): expected an object`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('report series', () => {
  it('plots every finite step point, and validation at the last step of its epoch', () => {
    const { summary, history } = syntheticRun(4, 7);
    const s = reportSeries({ summary: parseSummary('s', summary), history });
    expect(s.xAxis).toBe('step');
    expect(s.trainLoss).toHaveLength(history.steps.filter((p) => p.loss !== null).length);
    expect(s.trainAccuracy).toHaveLength(history.steps.filter((p) => p.accuracy !== null).length);
    expect(s.valLoss.map((p) => p.x)).toEqual([14, 21, 28]);
    expect(s.valAccuracy).toHaveLength(4);
    expect(s.stepTime).toHaveLength(28);
    expect(s.membership.map((m) => m.kind)).toEqual(['joined', 'joined', 'left']);
  });

  it('falls back to the per-epoch history of summary.json without history.json', () => {
    const { summary } = syntheticRun(5, 3);
    const s = reportSeries({ summary: parseSummary('s', summary), history: undefined });
    expect(s.xAxis).toBe('epoch');
    expect(s.trainLoss.map((p) => p.x)).toEqual([1, 2, 3, 4, 5]);
    expect(s.valLoss).toHaveLength(4);
    expect(s.trainAccuracy.map((p) => p.x)).toEqual([1, 2, 3, 4, 5]);
    expect([s.stepTime, s.membership]).toEqual([[], []]);
  });

  it('reads a summary.json written before training accuracy was reported (no accuracy fields)', () => {
    const { summary } = syntheticRun(2, 3);
    const older = { ...summary, history: (summary.history as { accuracy?: number }[]).map(({ accuracy: _a, ...e }) => e) };
    const s = reportSeries({ summary: parseSummary('s', older), history: undefined });
    expect(s.trainAccuracy).toEqual([]);
    expect(s.trainLoss).toHaveLength(2);
  });
});

describe('report spec', () => {
  it('cuts the time axis when one step is far longer than the rest, and says so', () => {
    const { summary, history } = syntheticRun(2, 30);
    const slowFirst = { ...history, steps: history.steps.map((p, i) => (i === 0 ? { ...p, syncSeconds: 5 } : p)) };
    const titles = (h: RunHistoryJson): string[] => JSON.stringify(reportSpec(reportSeries({ summary: parseSummary('s', summary), history: h }), 't')).match(/Time per step[^"]*/g) ?? [];
    expect(titles(history)).toEqual(['Time per step: compute, wait, sync']);
    expect(titles(slowFirst)[0]).toMatch(/^Time per step: compute, wait, sync \(axis cut at 0\.\d\d s; longest step 5\.\d\d s\)$/);
  });
});

describe('writeReport', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('writes an SVG whose layers draw the series, a PNG and a self-contained HTML page', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dtrain-report-'));
    dirs.push(dir);
    const { summary, history } = syntheticRun(3, 40);
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
    writeFileSync(join(dir, 'history.json'), JSON.stringify(history));
    const { files, notes } = await writeReport(dir);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['report.svg', 'report.png', 'report.html']);
    expect(notes).toEqual([]);

    const svg = readFileSync(join(dir, 'report.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(layerOf(svg, LAYER.trainLoss).vertices).toBe(history.steps.filter((p) => p.loss !== null).length);
    expect(layerOf(svg, LAYER.trainAccuracy).vertices).toBe(history.steps.filter((p) => p.accuracy !== null).length);
    expect(layerOf(svg, LAYER.valLossPoints).items).toBe(2);
    expect(layerOf(svg, LAYER.valAccuracyPoints).items).toBe(3);
    expect(layerOf(svg, LAYER.throughput).items).toBe(3);
    expect(layerOf(svg, LAYER.membership).items).toBe(3);

    const png = readFileSync(join(dir, 'report.png'));
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(1200);

    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<h1>dtrain report: synthetic</h1>');
    expect(html).toContain('worker 1 left');
    expect(html).toContain('test accuracy');
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  it('notes a run folder without history.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dtrain-report-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(syntheticRun(2, 5).summary));
    const { notes } = await writeReport(dir);
    expect(notes[0]).toMatch(/no history\.json/);
    expect(layerOf(readFileSync(join(dir, 'report.svg'), 'utf8'), LAYER.trainLoss).vertices).toBe(2);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('no history.json');
  });
});
