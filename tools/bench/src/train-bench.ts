/**
 * `pnpm bench` (training): trains the same model on the same data and backend
 * three ways, each for the same number of samples, and prints samples/s and
 * ratios: plain single-process tfjs (model.fit), dtrain with 1 worker, dtrain
 * with 2 workers. For dtrain it also prints the per-step synchronisation
 * overhead (step wall time minus the slowest worker's compute time) and the
 * bytes moved per step.
 *
 * Rates are given over all epochs and over the epochs after the first
 * ("steady"): the first epoch of either carries start-up (JIT and wasm
 * compilation; for dtrain also shipping the data to the workers, which
 * then cache it), the later ones what a long job pays per sample.
 *
 * Env: BENCH_EPOCHS (default 3), BENCH_BACKEND (default wasm), BENCH_BATCH (default 64).
 * `--json FILE` also writes every figure printed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify, parse } from 'yaml';
import { heldTraining, loadJobConfig, loadJobData, type JobSummary } from '@dtrain/coordinator';
import { buildModel, initBackend, tf } from '@dtrain/engine';
import { formatTable, num } from './table.js';
import { heapFlags } from './watched-process.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = resolve(here, '../../..');
const cli = join(repo, 'apps/cli/dist/main.js');
const epochs = Number(process.env.BENCH_EPOCHS ?? 3);
const backend = process.env.BENCH_BACKEND ?? 'wasm';
const batchSize = Number(process.env.BENCH_BATCH ?? 64);
const { values: flags } = parseArgs({ options: { json: { type: 'string' } } });

const work = mkdtempSync(join(tmpdir(), 'dtrain-bench-'));
try {
  const example = parse(readFileSync(join(repo, 'examples/mnist-mlp.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  const job = {
    ...example,
    name: 'bench-mlp',
    dataset: { ...example.dataset, images: join(repo, 'examples/data/mnist/t10k-images-idx3-ubyte.gz'), labels: join(repo, 'examples/data/mnist/t10k-labels-idx1-ubyte.gz') },
    training: { ...example.training, epochs, batchSize },
    checkpoint: { everySteps: 0 },
  };
  const configPath = join(work, 'job.yaml');
  writeFileSync(configPath, stringify(job));

  // 1. Plain single-process tfjs: model.fit on the same data, backend and batch size.
  const info = await initBackend(backend as 'wasm');
  const config = await loadJobConfig(configPath);
  const data = await loadJobData(config);
  const n = data.train.numSamples;
  const model = await buildModel(config.model, { seed: config.training.seed });
  model.compile({ optimizer: tf.train.adam(0.001), loss: 'sparseCategoricalCrossentropy' });
  const xs = tf.tensor2d(heldTraining(data).features, [n, 784]);
  const ys = tf.tensor2d(heldTraining(data).labels, [n, 1]);
  const epochSeconds: number[] = [];
  let epochStart = 0;
  const t0 = performance.now();
  await model.fit(xs, ys, {
    batchSize,
    epochs,
    shuffle: true,
    verbose: 0,
    callbacks: {
      onEpochBegin: () => {
        epochStart = performance.now();
      },
      onEpochEnd: () => {
        epochSeconds.push((performance.now() - epochStart) / 1000);
      },
    },
  });
  const plainSeconds = (performance.now() - t0) / 1000;
  tf.dispose([xs, ys]);
  const plainRate = (n * epochs) / plainSeconds;
  const steadySeconds = (seconds: readonly number[]): number => seconds.slice(1).reduce((a, b) => a + b, 0);
  const plainSteadyRate = epochs > 1 ? (n * (epochs - 1)) / steadySeconds(epochSeconds) : plainRate;

  // 2, 3. dtrain with 1 and 2 local worker processes; 4. 2 workers with heartbeats and step deadlines
  // effectively off, to price the failure detection in steady state.
  const quietConfigPath = join(work, 'job-no-heartbeat.yaml');
  writeFileSync(
    quietConfigPath,
    stringify({ ...job, cluster: { ...example.cluster, heartbeatIntervalMs: 1_000_000_000, heartbeatTimeoutMs: 2_000_000_000, stepTimeoutMs: 2_000_000_000 } }),
  );
  const train = (workers: number, config: string, label: string) => {
    const out = join(work, `${label}-${workers}`);
    const r = spawnSync(process.execPath, [...heapFlags(), cli, 'train', '--config', config, '--workers', String(workers), '--port', '0', '--out', out, '--quiet', '--backend', backend], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`dtrain train --workers ${workers} (${label}) failed: ${r.stderr}`);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as JobSummary;
    const trainSeconds = summary.history.reduce((a, h) => a + h.wallSeconds, 0);
    const later = summary.history.slice(1);
    const steadyRate = later.length === 0 ? summary.samples / trainSeconds : later.reduce((a, h) => a + h.samples, 0) / later.reduce((a, h) => a + h.wallSeconds, 0);
    return { workers, label, summary, trainSeconds, rate: summary.samples / trainSeconds, steadyRate };
  };
  const runs = [train(1, configPath, 'default'), train(2, configPath, 'default'), train(2, quietConfigPath, 'no heartbeats/deadline')];

  process.stdout.write(
    `dtrain training benchmark: MNIST MLP 784-256-128-10, ${n} samples x ${epochs} epoch(s), batch ${batchSize} per worker, backend ${info.name}, ${epochs * n} samples each\n\n`,
  );
  const rows = [
    ['plain tfjs (model.fit, 1 process)', num(n * epochs), num(plainSeconds, 1), num(plainRate), '1.00', num(plainSteadyRate), '1.00', '-', '-', '-', '-'],
    ...runs.map((r) => [
      `dtrain, ${r.workers} worker${r.workers > 1 ? 's' : ''}${r.label === 'default' ? '' : `, ${r.label}`}`,
      num(r.summary.samples),
      num(r.trainSeconds, 1),
      num(r.rate),
      num(r.rate / plainRate, 2),
      num(r.steadyRate),
      num(r.steadyRate / plainSteadyRate, 2),
      num(r.summary.timing.meanStepSeconds * 1000, 1),
      num(r.summary.timing.meanSlowestComputeSeconds * 1000, 1),
      num(r.summary.timing.meanSyncOverheadSeconds * 1000, 1),
      num(r.summary.timing.meanBytesPerStep / 1e6, 2),
    ]),
  ];
  process.stdout.write(
    `${formatTable(['mode', 'samples', 'seconds', 'samples/s', 'vs plain', 'steady samples/s', 'steady vs plain', 'step ms', 'slowest compute ms', 'sync overhead ms', 'MB/step'], rows)}\n`,
  );
  const [one, two, quiet] = runs;
  const twoOverOne = one !== undefined && two !== undefined ? two.steadyRate / one.steadyRate : undefined;
  const heartbeatCost = two !== undefined && quiet !== undefined ? two.rate / quiet.rate : undefined;
  process.stdout.write(`\nsteady = epochs 2..${epochs} (the first epoch carries start-up and, for dtrain, shipping the data to the workers)\n`);
  if (twoOverOne !== undefined) process.stdout.write(`2 workers / 1 worker (steady): ${num(twoOverOne, 2)}x (this machine has 2 cores shared by the coordinator and the workers)\n`);
  for (const r of runs.slice(0, 2)) {
    const target = r.workers === 1 ? 0.95 : 1.5;
    process.stdout.write(`target: dtrain ${r.workers} worker(s) >= ${target}x plain model.fit (steady): ${num(r.steadyRate / plainSteadyRate, 2)}x, ${r.steadyRate / plainSteadyRate >= target ? 'met' : 'NOT met'}\n`);
  }
  if (heartbeatCost !== undefined) {
    process.stdout.write(`heartbeats (every ${String(example.cluster?.['heartbeatIntervalMs'] ?? 2000)} ms) + step deadlines on / off: ${num(heartbeatCost, 3)}x throughput\n`);
  }
  process.stdout.write(`validation accuracy after ${epochs} epoch(s): ${runs.map((r) => `${r.workers}w ${num(r.summary.final.valAccuracy ?? undefined, 4)}`).join(', ')}\n`);
  if (flags.json !== undefined) {
    const figures = {
      model: 'MNIST MLP 784-256-128-10',
      samples: n,
      epochs,
      batchSize,
      backend: info.name,
      plain: { samples: n * epochs, seconds: plainSeconds, samplesPerSecond: plainRate, steadySamplesPerSecond: plainSteadyRate, epochSeconds },
      dtrain: runs.map((r) => ({
        workers: r.workers,
        variant: r.label,
        samples: r.summary.samples,
        seconds: r.trainSeconds,
        samplesPerSecond: r.rate,
        vsPlain: r.rate / plainRate,
        steadySamplesPerSecond: r.steadyRate,
        steadyVsPlain: r.steadyRate / plainSteadyRate,
        timing: r.summary.timing,
        valAccuracy: r.summary.final.valAccuracy ?? null,
      })),
      twoWorkersOverOne: twoOverOne ?? null,
      heartbeatsOnOverOff: heartbeatCost ?? null,
    };
    writeFileSync(flags.json, `${JSON.stringify(figures, null, 2)}\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
