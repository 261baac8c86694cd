/**
 * `pnpm bench:wire`: what a 16-bit wire costs in accuracy and saves in
 * bytes. Trains the shipped MNIST examples (the MLP and the CNN) with the
 * same data, seed and worker count, once per wire setting — float32,
 * bfloat16 and float16 gradients (cluster.wire), and bfloat16 gradients and
 * weights (cluster.wireWeights too) — and prints, beside float32 of the same
 * run: final validation accuracy (points against float32), data-plane bytes
 * per sample (from summary.json's dataPlane) and samples/s on loopback (not
 * the point here: the link speed-up is the cluster lab's `--wire`).
 *
 * Two workers on one machine do not compute in a fixed order, so two runs
 * of the same setting differ by a few tenths of a point too; `--repeat N`
 * runs float32 N times to show that spread beside the 16-bit gaps.
 *
 * Run: `node dist/wire-bench.js [--models mlp,cnn] [--epochs E] [--repeat N]
 * [--json FILE]`. Exit 0 whatever the numbers; 1 when a run fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import type { JobSummary } from '@dtrain/coordinator';
import { formatTable, num } from './table.js';
import { heapFlags } from './watched-process.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = resolve(here, '../../..');
const cli = join(repo, 'apps/cli/dist/main.js');

const { values: flags } = parseArgs({ options: { models: { type: 'string' }, epochs: { type: 'string' }, repeat: { type: 'string' }, json: { type: 'string' } } });
const models = (flags.models ?? 'mlp,cnn').split(',').map((m) => m.trim());
for (const m of models) if (m !== 'mlp' && m !== 'cnn') usage(`--models: expected mlp and/or cnn, got ${JSON.stringify(flags.models)}`);
const epochsOverride = flags.epochs === undefined ? undefined : Number(flags.epochs);
if (epochsOverride !== undefined && (!Number.isInteger(epochsOverride) || epochsOverride < 1)) usage(`--epochs: expected a whole number ≥ 1, got ${JSON.stringify(flags.epochs)}`);
const repeat = Number(flags.repeat ?? 1);
if (!Number.isInteger(repeat) || repeat < 1 || repeat > 10) usage(`--repeat: expected 1 to 10, got ${JSON.stringify(flags.repeat)}`);

function usage(message: string): never {
  process.stderr.write(`wire-bench: ${message}\nusage: wire-bench [--models mlp,cnn] [--epochs E] [--repeat N] [--json FILE]\n`);
  process.exit(2);
}

interface Setting {
  readonly label: string;
  readonly wire: string;
  readonly wireWeights: string;
}
const SETTINGS: readonly Setting[] = [
  { label: 'float32', wire: 'float32', wireWeights: 'float32' },
  { label: 'bfloat16', wire: 'bfloat16', wireWeights: 'float32' },
  { label: 'float16', wire: 'float16', wireWeights: 'float32' },
  { label: 'bfloat16 + weights', wire: 'bfloat16', wireWeights: 'bfloat16' },
];

interface Row {
  readonly model: string;
  readonly setting: string;
  readonly run: number;
  readonly valAccuracy: number;
  readonly bytesPerSample: number;
  readonly samplesPerSecond: number;
  readonly wallSeconds: number;
}

const work = mkdtempSync(join(tmpdir(), 'dtrain-wire-bench-'));
const rows: Row[] = [];
try {
  for (const model of models) {
    const example = parse(readFileSync(join(repo, `examples/mnist-${model}.yaml`), 'utf8')) as Record<string, Record<string, unknown>>;
    const runs = SETTINGS.flatMap((s) => Array.from({ length: s.label === 'float32' ? repeat : 1 }, (_, run) => ({ s, run })));
    for (const { s, run } of runs) {
      const name = `wire-${model}-${s.wire}-${s.wireWeights}-${run}`;
      const job = {
        ...example,
        name,
        dataset: { ...example.dataset, images: join(repo, 'examples', String(example.dataset?.images)), labels: join(repo, 'examples', String(example.dataset?.labels)) },
        training: { ...example.training, ...(epochsOverride === undefined ? {} : { epochs: epochsOverride }) },
        cluster: { ...example.cluster, wire: s.wire, wireWeights: s.wireWeights },
        checkpoint: { everySteps: 0 },
      };
      const config = join(work, `${name}.yaml`);
      writeFileSync(config, stringify(job));
      const out = join(work, name);
      process.stderr.write(`wire bench: ${model}, ${s.label}${repeat > 1 && s.label === 'float32' ? ` (run ${run + 1})` : ''}\n`);
      const result = spawnSync(process.execPath, [...heapFlags(), cli, 'train', '--config', config, '--workers', '2', '--backend', 'wasm', '--out', out, '--quiet', '--no-report'], { encoding: 'utf8', timeout: 900_000 });
      if (result.status !== 0) {
        process.stderr.write(`wire bench: ${name} failed (exit ${result.status ?? result.signal}):\n${result.stderr}\n`);
        process.exit(1);
      }
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as JobSummary;
      rows.push({
        model,
        setting: s.label,
        run,
        valAccuracy: summary.final.valAccuracy ?? Number.NaN,
        bytesPerSample: summary.dataPlane.bytesPerSample ?? Number.NaN,
        samplesPerSecond: summary.samplesPerSecond,
        wallSeconds: summary.wallSeconds,
      });
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const lines: string[][] = [];
for (const model of models) {
  const mine = rows.filter((r) => r.model === model);
  const reference = mine.filter((r) => r.setting === 'float32');
  const refAccuracy = reference.reduce((n, r) => n + r.valAccuracy, 0) / reference.length;
  const refBytes = reference[0]?.bytesPerSample ?? Number.NaN;
  for (const r of mine) {
    lines.push([
      model,
      r.setting + (reference.length > 1 && r.setting === 'float32' ? ` #${r.run + 1}` : ''),
      num(r.valAccuracy * 100, 2),
      `${r.valAccuracy - refAccuracy >= 0 ? '+' : ''}${num((r.valAccuracy - refAccuracy) * 100, 2)}`,
      num(r.bytesPerSample, 0),
      `${num(r.bytesPerSample / refBytes, 2)}x`,
      num(r.samplesPerSecond, 0),
    ]);
  }
}
process.stdout.write(
  `dtrain wire bench: the shipped MNIST examples, 2 wasm workers on loopback, same data and seed${epochsOverride === undefined ? '' : `, ${epochsOverride} epochs`}; ` +
    `points = validation accuracy against float32${repeat > 1 ? ` (mean of ${repeat} float32 runs)` : ''}\n`,
);
process.stdout.write(`${formatTable(['model', 'wire (gradients / + weights)', 'val acc %', 'points', 'data-plane bytes/sample', '÷ float32', 'samples/s'], lines)}\n`);
if (flags.json !== undefined) writeFileSync(flags.json, `${JSON.stringify({ epochs: epochsOverride ?? null, repeat, rows }, null, 2)}\n`);
