/**
 * Section 3 of the data-plane benchmark: the issue's 92M-parameter MLP
 * trained for real on wasm, plain single-process tfjs (`trainOnBatch`)
 * against dtrain with one real worker, with every process's peak RSS.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { TimingSummary } from '@dtrain/coordinator';
import { MB, runJob, type BenchContext } from './bench-context.js';
import { mlpJob, mlpParams, type MlpWidths } from './mlp-jobs.js';
import { SHARD_RSS_BASE_BYTES, SHARD_RSS_FACTOR } from './sync-overhead.js';
import { formatTable, num } from './table.js';
import { expectSuccess, spawnWatched, type WatchedExit } from './watched-process.js';

/** dtrain's step time within this multiple of plain single-process tfjs. */
export const LARGE_TARGET = 1.3;
export const LARGE_WIDTHS: MlpWidths = [2048, 8192, 8192, 1024, 10];
const BATCH = 16;
/** dtrain steps (one epoch); its mean includes the first step. */
const DTRAIN_STEPS = 5;
const PLAIN_WARMUP = 1;
const PLAIN_STEPS = 3;
/** Each process is killed after this long. */
const TIMEOUT_MS = 180_000;

interface PlainResult {
  readonly backend: string;
  readonly optimizer: string;
  readonly warmupSeconds: number;
  readonly stepSeconds: readonly number[];
}

export interface LargeFigures {
  readonly params: number;
  readonly weightsBytes: number;
  readonly batchSize: number;
  /** Why plain tfjs could not use the job's optimizer (Adam), if it could not. */
  readonly plainJobOptimizerFailure: string | null;
  readonly plain: PlainResult & { readonly meanStepSeconds: number; readonly peakRssBytes: number };
  /** dtrain with the shard inside the coordinator (0) and with one `dtrain ps` process (1). */
  readonly dtrain: readonly LargeRun[];
  readonly target: number;
}

export interface LargeRun {
  readonly shards: number;
  readonly optimizer: string;
  readonly timing: TimingSummary;
  readonly peakRssBytes: { readonly coordinator: number; readonly workers: readonly number[]; readonly shards: readonly number[] };
  /** A shard's resident state: weights, float64 accumulator and Adam's two slots (20 bytes a parameter). */
  readonly shardStateBytes: number;
  readonly ratio: number;
  readonly targetMet: boolean;
  /** Peak RSS of the worker within plain tfjs's + the model's bytes. */
  readonly workerRssMet: boolean;
  readonly shardRssMet: boolean | null;
}

/** Runs plain tfjs then dtrain with 1 wasm worker on the 92M MLP (Adam), prints the table and the target line. */
export async function runLargeMlp(ctx: BenchContext, floorBytesPerSecond: number | undefined): Promise<LargeFigures> {
  const params = mlpParams(LARGE_WIDTHS);
  const weightsBytes = params * 4;
  const job = mlpJob({ name: 'dp-large-real', widths: LARGE_WIDTHS, steps: DTRAIN_STEPS, workers: 1, batchSize: BATCH, optimizer: { name: 'adam', learningRate: 0.001 } });
  const configPath = join(ctx.work, 'dp-large-plain.yaml');
  writeFileSync(configPath, stringify(job));
  let wasmAborted = false;
  const plainRun = (optimizer: 'job' | 'sgd'): Promise<WatchedExit> => {
    process.stderr.write(`data-plane bench: running plain tfjs trainOnBatch on the large MLP (${optimizer === 'job' ? 'adam' : 'sgd'})\n`);
    wasmAborted = false;
    return spawnWatched([join(ctx.dist, 'single-process-step.js'), configPath, 'wasm', optimizer, String(PLAIN_WARMUP), String(PLAIN_STEPS)], {
      label: `single-process trainOnBatch (${optimizer === 'job' ? 'adam' : 'sgd'})`,
      timeoutMs: TIMEOUT_MS,
      // Emscripten's abort (e.g. its heap is full) prints this, then a stack that can be long.
      onStderrLine: (line) => (wasmAborted ||= line.includes('Aborted(')),
    }).exited;
  };

  // Plain tfjs keeps Adam's moments and every temporary of its update inside the wasm heap (4 GB
  // at most); dtrain's optimizer runs in the parameter server, outside it. When Adam does not fit,
  // plain SGD (the cheapest update tfjs has) is the baseline: a lower bound on plain Adam's step.
  let plainExit = await plainRun('job');
  let plainJobOptimizerFailure: string | undefined;
  if (plainExit.code !== 0 && !plainExit.timedOut && wasmAborted) {
    plainJobOptimizerFailure = `wasm aborted (its heap is capped at 4 GB) after ${num(plainExit.seconds, 0)} s, peak RSS ${num(plainExit.peakRssBytes / MB, 0)} MB`;
    plainExit = await plainRun('sgd');
  }
  const single = expectSuccess(plainExit);
  const plain = JSON.parse(single.stdout) as PlainResult;
  const plainStep = plain.stepSeconds.reduce((a, b) => a + b, 0) / plain.stepSeconds.length;

  const runs: LargeRun[] = [];
  const rows: string[][] = [];
  const rss = (bytes: number): [string, string] => [num(bytes / MB, 0), `${num(bytes / weightsBytes, 1)}x`];
  for (const shards of [0, 1]) {
    const shardJob = { ...job, name: `dp-large-real-${shards}ps`, cluster: { ...(job['cluster'] as Record<string, unknown>), psShards: shards } };
    const run = await runJob(ctx, shardJob, { workers: 1, shards, workerArgs: ['--backend', 'wasm'], timeoutMs: TIMEOUT_MS });
    const t = run.summary.timing;
    // Steady, like plain's (whose first step is an untimed warm-up): dtrain's first step also ships the data and the initial weights.
    const ratio = t.steadyStepSeconds / plainStep;
    const shardStateBytes = shards === 0 ? 0 : (20 * params) / shards;
    const workerPeak = Math.max(...run.workers.map((w) => w.peakRssBytes));
    const shardPeak = Math.max(0, ...run.shards.map((p) => p.peakRssBytes));
    const where = shards === 0 ? 'shard in the coordinator' : `${shards} dtrain ps`;
    runs.push({
      shards,
      optimizer: 'adam',
      timing: t,
      peakRssBytes: { coordinator: run.coordinator.peakRssBytes, workers: run.workers.map((w) => w.peakRssBytes), shards: run.shards.map((p) => p.peakRssBytes) },
      shardStateBytes,
      ratio,
      targetMet: ratio <= LARGE_TARGET,
      workerRssMet: workerPeak <= single.peakRssBytes + weightsBytes,
      shardRssMet: shards === 0 ? null : shardPeak <= SHARD_RSS_FACTOR * shardStateBytes + SHARD_RSS_BASE_BYTES,
    });
    rows.push(
      [`dtrain (${where}), 1 worker: coordinator`, 'adam', `${t.steps - 1} (+1 first)`, num(t.steadyStepSeconds, 2), num(t.steadyStepSeconds - t.steadySyncOverheadSeconds, 2), num(t.steadySyncOverheadSeconds, 2), num(ratio, 2), ...rss(run.coordinator.peakRssBytes), num(run.coordinator.seconds, 1)],
      ...run.shards.map((p, i) => [`  shard ${i} (state ${num(shardStateBytes / MB, 0)} MB)`, '', '', '', '', '', '', ...rss(p.peakRssBytes), num(p.seconds, 1)]),
      ...run.workers.map((w, i) => [`  worker ${i}`, '', '', '', '', '', '', ...rss(w.peakRssBytes), num(w.seconds, 1)]),
    );
  }

  ctx.say(`3. The ${num(params / 1e6, 0)}M-parameter MLP ${LARGE_WIDTHS.join('-')} (${num(weightsBytes / MB, 0)} MB of weights) for real: wasm, synthetic data, batch ${BATCH}, Adam`);
  if (plainJobOptimizerFailure !== undefined) {
    ctx.say(`*** Plain tfjs with Adam could not run this model: ${plainJobOptimizerFailure}. ***`);
    ctx.say(`*** The plain baseline below is SGD (cheaper than Adam: the ratio overstates dtrain's cost). dtrain runs Adam. ***`);
  }
  ctx.say(
    formatTable(
      ['mode', 'optimizer', 'steps timed', 'step s', 'compute s', 'sync s', 'vs plain', 'peak RSS MB', '÷ weights', 'process s'],
      [
        [`plain tfjs trainOnBatch (1 process, ${plain.backend})`, plain.optimizer, `${plain.stepSeconds.length} (+${PLAIN_WARMUP} warm-up)`, num(plainStep, 2), '-', '-', '1.00', ...rss(single.peakRssBytes), num(single.seconds, 1)],
        ...rows,
      ],
    ),
  );
  const floor = floorBytesPerSecond === undefined ? '' : `, its floor at the loopback rate ${num((2 * weightsBytes) / floorBytesPerSecond, 2)} s`;
  ctx.say(
    `plain: warm-up step ${num(plain.warmupSeconds, 2)} s, untimed; dtrain: steady steps, the first (which also ships the data and the initial weights) left out ` +
      `(with it: ${runs.map((r) => `${num(r.timing.meanStepSeconds, 2)} s`).join(', ')}). A step moves ${num((2 * weightsBytes) / MB, 0)} MB${floor}.`,
  );
  for (const r of runs) {
    const where = r.shards === 0 ? 'the shard in the coordinator' : `${r.shards} dtrain ps`;
    ctx.say(
      `Target (${where}): dtrain's step with 1 real worker ≤ ${LARGE_TARGET}x plain single-process trainOnBatch: ${num(r.ratio, 2)}x, ${r.targetMet ? 'MET' : 'NOT MET'}` +
        `${plainJobOptimizerFailure === undefined ? '' : ' (against plain SGD, since plain Adam cannot run)'}; worker peak RSS ≤ plain's + the model's bytes: ${r.workerRssMet ? 'MET' : 'NOT MET'}` +
        `${r.shardRssMet === null ? '' : `; shard peak RSS ≤ ${SHARD_RSS_FACTOR}x its state + ${num(SHARD_RSS_BASE_BYTES / MB, 0)} MB: ${r.shardRssMet ? 'MET' : 'NOT MET'}`}.`,
    );
  }
  ctx.say('');
  return {
    params,
    weightsBytes,
    batchSize: BATCH,
    plainJobOptimizerFailure: plainJobOptimizerFailure ?? null,
    plain: { ...plain, meanStepSeconds: plainStep, peakRssBytes: single.peakRssBytes },
    dtrain: runs,
    target: LARGE_TARGET,
  };
}
