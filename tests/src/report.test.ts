import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dtrain, freePort, syntheticJob, tempDir, waitFor, writeJob } from './harness.js';

interface Summary {
  name: string;
  steps: number;
  history: { epoch: number; loss: number | null; valLoss?: number; valAccuracy?: number; samplesPerSecond: number }[];
}

interface History {
  stride: number;
  steps: { step: number; loss: number | null; accuracy: number | null }[];
  epochs: { valLoss: number | null; valAccuracy: number | null }[];
  events: { kind: string }[];
}

type Node = Record<string, unknown>;

/** Every element of a parsed XML tree (fast-xml-parser's object form), with its tag name. */
function* elements(node: unknown, tag = ''): Generator<{ tag: string; node: Node }> {
  if (Array.isArray(node)) {
    for (const n of node) yield* elements(n, tag);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  yield { tag, node: node as Node };
  for (const [key, child] of Object.entries(node)) if (!key.startsWith('@_') && key !== '#text') yield* elements(child, key);
}

/**
 * One chart layer of report.svg by the name the report gives it (vega puts
 * `<name>_marks` into the mark group's class): how many items it draws
 * (points, bars, rules) and how many vertices its line/area paths have.
 */
function layer(svg: Node, name: string): { items: number; vertices: number } {
  const group = [...elements(svg)].find((e) => e.tag === 'g' && String(e.node['@_class'] ?? '').split(' ').includes(`${name}_marks`));
  if (group === undefined) return { items: 0, vertices: 0 };
  const items = [...elements(group.node)].filter((e) => e.tag === 'path' || e.tag === 'line');
  const vertices = items.reduce((n, e) => n + (String(e.node['@_d'] ?? '').match(/[ML]/g) ?? []).length, 0);
  return { items: items.length, vertices };
}

describe('dtrain report: the report of a real two-worker run', () => {
  const tmp = tempDir('report');
  const out = join(tmp.dir, 'run');
  const job = syntheticJob('report-job', { training: { epochs: 3, metrics: ['accuracy'] }, dataset: { numSamples: 1200 } });
  const config = writeJob(tmp.dir, job);
  let summary: Summary;
  let history: History | undefined;
  let svg: Node;
  let trainRun: { code: number | null; signal: NodeJS.Signals | null };
  let trainErr = '';

  beforeAll(async () => {
    const p = dtrain(['train', '--config', config, '--workers', '2', '--port', '0', '--out', out, '--backend', 'wasm']);
    trainRun = await p.exited;
    trainErr = p.stderr;
    summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    // history.json comes from the coordinator's run history; a run folder without one is reported from summary.json alone.
    history = existsSync(join(out, 'history.json')) ? (JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as History) : undefined;
    svg = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_' }).parse(readFileSync(join(out, 'report.svg'), 'utf8')) as Node;
  }, 300_000);
  afterAll(() => tmp.cleanup());

  it('dtrain train writes report.svg, report.png and report.html at the end of the run', () => {
    expect(trainRun, trainErr).toEqual({ code: 0, signal: null });
    expect(trainErr).toContain(`report written to ${join(out, 'report.html')}`);
    expect(trainErr).not.toContain('warning');
  });

  it('report.svg is an SVG whose series have one mark per plotted value', () => {
    expect(Object.keys(svg)).toContain('svg');
    expect((svg.svg as Node)['@_xmlns']).toBe('http://www.w3.org/2000/svg');
    const epochs = summary.history;
    expect(epochs).toHaveLength(3);
    expect(layer(svg, 'epoch_throughput').items).toBe(epochs.length);
    if (history === undefined) {
      expect(layer(svg, 'train_loss').vertices).toBe(epochs.filter((e) => e.loss !== null).length);
      expect(layer(svg, 'val_loss_points').items).toBe(epochs.filter((e) => e.valLoss !== undefined).length);
      expect(layer(svg, 'step_compute').vertices).toBe(0);
    } else {
      // A job this short stays under history.json's point limit: one point per step.
      if (history.stride === 1) expect(history.steps.length).toBe(summary.steps);
      expect(layer(svg, 'train_loss').vertices).toBe(history.steps.filter((p) => p.loss !== null).length);
      expect(layer(svg, 'train_accuracy').vertices).toBe(history.steps.filter((p) => p.accuracy !== null).length);
      expect(layer(svg, 'val_loss_points').items).toBe(history.epochs.filter((e) => e.valLoss !== null).length);
      expect(layer(svg, 'val_accuracy_points').items).toBe(history.epochs.filter((e) => e.valAccuracy !== null).length);
      // An area's path goes along the top and back along the bottom: two vertices per step.
      for (const band of ['step_compute', 'step_wait', 'step_sync']) expect(layer(svg, band).vertices, band).toBe(2 * history.steps.length);
      expect(layer(svg, 'membership').items).toBe(history.events.filter((e) => ['joined', 'left', 'evicted'].includes(e.kind)).length);
    }
  });

  it('report.png is a PNG over 20 KB, 1200 px wide', () => {
    const png = readFileSync(join(out, 'report.png'));
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.length).toBeGreaterThan(20_000);
    expect(png.readUInt32BE(16)).toBe(1200);
  });

  it('report.html names the job, inlines the chart and requests nothing from the network', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('report-job');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?https?:/i);
    expect(html.includes('no history.json')).toBe(history === undefined);
  });

  it('dtrain report RUN_DIR writes the report again', async () => {
    const before = statSync(join(out, 'report.svg')).mtimeMs;
    const p = dtrain(['report', out]);
    expect(await p.exited, p.stderr).toEqual({ code: 0, signal: null });
    expect(p.stdout.trim().split('\n')).toEqual(['report.svg', 'report.png', 'report.html'].map((f) => join(out, f)));
    expect(statSync(join(out, 'report.svg')).mtimeMs).toBeGreaterThanOrEqual(before);
  });

  it('a folder without summary.json is one line naming the file, exit 2', async () => {
    const p = dtrain(['report', tmp.dir]);
    expect(await p.exited).toEqual({ code: 2, signal: null });
    expect(p.stderr.trim().split('\n')).toHaveLength(1);
    expect(p.stderr).toContain(join(tmp.dir, 'summary.json'));
  });

  it('dtrain coordinator --linger --report writes the report when the job ends, while it goes on serving /status', async () => {
    const config = writeJob(tmp.dir, syntheticJob('linger-report', { training: { epochs: 1 }, dataset: { numSamples: 400 } }), 'linger.yaml');
    const runDir = join(tmp.dir, 'linger-run');
    const port = await freePort();
    const env = { DTRAIN_TOKEN: 'linger-token' };
    const coordinator = dtrain(['coordinator', '--config', config, '--port', String(port), '--host', '127.0.0.1', '--out', runDir, '--backend', 'cpu', '--linger', '--report', '--quiet'], env);
    const worker = dtrain(['worker', '--coordinator', `ws://127.0.0.1:${port}`, '--backend', 'cpu', '--quiet'], env);
    try {
      await waitFor('report.html while the coordinator lingers', async () => (existsSync(join(runDir, 'report.html')) ? true : undefined), 90_000);
      expect(coordinator.child.exitCode).toBeNull();
      const status = await fetch(`http://127.0.0.1:${port}/status`, { headers: { authorization: 'Bearer linger-token' } });
      expect(((await status.json()) as { state: string }).state).toBe('done');
      expect(existsSync(join(runDir, 'report.png'))).toBe(true);
    } finally {
      coordinator.child.kill('SIGTERM');
      worker.child.kill('SIGTERM');
    }
    expect(await coordinator.exited).toEqual({ code: 0, signal: null });
    await worker.exited;
  }, 120_000);
});
