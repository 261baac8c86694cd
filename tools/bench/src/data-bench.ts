/**
 * `pnpm bench:data`: datasets larger than memory. Writes synthetic 32×32×3
 * uint8 image sets as .npy shards (npy-shards.ts; by default 1 GB and 4 GB
 * of features, 60 shards each) to a temporary folder, and trains a small
 * MLP (image-job.ts) on each with `dtrain coordinator` + 2 `dtrain worker`
 * processes on the wasm backend, every worker reading its own samples
 * (`dataset.access: shared`, a 256 MiB sample cache each). Per run: the
 * coordinator's and the workers' peak RSS (VmHWM), samples/s past the
 * first 20% of steps, and the workers' data wait per step. The reference
 * is the same job on the smallest set's first shards (about 200 MB: what
 * the coordinator can hold and ship), once shipped (`access: ship`) and
 * once shared: shared ÷ ship is what reading by sample costs.
 *
 * Each job has one epoch and a time budget (`--seconds`, default 60 s of
 * training); there is no step limit in the job config, so a run that the
 * budget ends is stopped with SIGTERM (the coordinator checkpoints and
 * writes summary.json as 'stopped') and its rate is over the steps done.
 * Every set is written just before its runs (the reference's with the
 * smallest set) and removed after them, so the disk holds one set at a
 * time. The files sit in the page cache (this machine has more
 * memory than the sets): what is measured is what the processes hold and
 * do, not the disk.
 *
 * Run: `node dist/data-bench.js [--short] [--sizes 1,4] [--shards 60]
 * [--seconds S] [--reference-mb 200] [--json FILE]`; `--short` (CI):
 * 0.05 and 0.2 GB, 30 s budgets. Exit 0 whatever the numbers; 1 when a run
 * fails; 2 on a bad flag.
 */
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { runWithBudget, type BudgetRun } from './budget-run.js';
import { MB } from './bench-context.js';
import { imageJob, type DataAccess } from './image-job.js';
import { IMAGE_BYTES, writeImageShards, type ImageShard } from './npy-shards.js';
import { WARMUP, steadyFrom, steadyRate } from './steady-rate.js';
import { formatTable, num } from './table.js';
import { killWatchedChildren } from './watched-process.js';

const GB = 1e9;
const WORKERS = 2;
const BATCH_SIZE = 64;
const HIDDEN_UNITS = 64;
/** dataset.cacheBytes: each worker's sample cache with shared access. */
const CACHE_BYTES = 256 * 1024 * 1024;
/** Issue targets: the coordinator's peak RSS, shared against ship. */
const TARGETS = { coordinatorRssBytes: 300 * MB, sharedOverShip: 0.9, flatWithin: 0.1 } as const;
/** Any process of a run past this peak RSS fails it (the machine has 24 GB, no swap; a shipped 4 GB set would be 16 GB of float32). */
const RSS_LIMIT_BYTES = 6e9;
/** Past its budget a run has this long to load, checkpoint and stop before everything is killed. */
const GRACE_MS = 120_000;

const usage = (why: string): never => {
  process.stderr.write(`data bench: ${why}\nusage: data-bench [--short] [--sizes 1,4] [--shards 60] [--seconds S] [--reference-mb 200] [--json FILE]\n`);
  process.exit(2);
};
const { values: flags } = parseArgs({
  // `pnpm bench:data -- --short` hands the script a bare `--` first.
  args: process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === '--')),
  options: { short: { type: 'boolean' }, sizes: { type: 'string' }, shards: { type: 'string' }, seconds: { type: 'string' }, 'reference-mb': { type: 'string' }, json: { type: 'string' } },
});
const short = flags.short === true;
const sizes = (flags.sizes ?? (short ? '0.05,0.2' : '1,4')).split(',').map((s) => Number(s.trim()));
if (!sizes.every((s) => Number.isFinite(s) && s >= 0.001 && s <= 64)) usage(`--sizes: expected GB from 0.001 to 64, comma-separated, got ${JSON.stringify(flags.sizes)}`);
sizes.sort((a, b) => a - b);
const shardCount = Number(flags.shards ?? 60);
if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > 10_000) usage(`--shards: expected a whole number from 1 to 10000, got ${JSON.stringify(flags.shards)}`);
const budgetSeconds = Number(flags.seconds ?? (short ? 30 : 60));
if (!Number.isFinite(budgetSeconds) || budgetSeconds < 5 || budgetSeconds > 600) usage(`--seconds: expected 5 to 600, got ${JSON.stringify(flags.seconds)}`);
const referenceBytes = Number(flags['reference-mb'] ?? 200) * MB;
if (!Number.isFinite(referenceBytes) || referenceBytes < MB) usage(`--reference-mb: expected at least 1, got ${JSON.stringify(flags['reference-mb'])}`);

const cli = join(resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..'), 'apps/cli/dist/main.js');
const work = mkdtempSync(join(tmpdir(), 'dtrain-data-bench-'));
const largest = sizes.at(-1) ?? 0;
const smallest = sizes[0] ?? 0;
const free = statfsSync(work);
// One set on disk at a time, with room to spare.
if (free.bavail * free.bsize < largest * GB * 1.1) usage(`${work}: ${num((free.bavail * free.bsize) / GB, 1)} GB free, the largest set needs ${num(largest * 1.1, 1)} GB`);
const cleanUp = (): void => {
  killWatchedChildren();
  rmSync(work, { recursive: true, force: true });
};
process.once('exit', cleanUp);
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.once(signal, () => process.exit(code));
const progress = (text: string): void => void process.stderr.write(`data bench: ${text}\n`);

interface Row {
  /** 'reference': the smallest set's first shards, shipped and shared; 'set': a whole set, shared. */
  readonly role: 'reference' | 'set';
  readonly dataset: string;
  readonly access: DataAccess;
  readonly diskBytes: number;
  readonly samples: number;
  readonly coordinatorPeakRssBytes: number;
  readonly workerPeakRssBytes: readonly number[];
  readonly samplesPerSecond: number | null;
  /** Samples over the whole wall time, start-up included. */
  readonly overallSamplesPerSecond: number;
  /** Mean of the polled readings, ms, past the same warm-up as samplesPerSecond. */
  readonly dataWaitMsPerStep: number | null;
  /** Mean of every polled reading, ms (shipping the first chunks included). */
  readonly dataWaitMsPerStepAll: number | null;
  readonly dataWaitReadings: number;
  /** Shared access, from the workers' /metrics over the whole run: samples found in the cache (prefetched included) of those assigned. */
  readonly cacheHitRatio: number | null;
  /** Feature bytes the workers read from the shards per sample assigned (prefetches included; 3,072 = each sample once). */
  readonly readBytesPerSample: number | null;
  /** dtrain_worker_data_seconds: mean over every step of both workers, ms. */
  readonly workerDataMsPerStep: number | null;
  /** summary.json's step timing: wall, slowest worker's compute, the rest (sync), seconds. */
  readonly timing: { readonly meanStepSeconds: number; readonly meanSlowestComputeSeconds: number; readonly meanSyncOverheadSeconds: number };
  readonly steps: number;
  readonly trainedSamples: number;
  readonly stopped: boolean;
  readonly loadSeconds: number;
  readonly lossFirst: number | null;
  readonly lossLast: number | null;
}

const rows: Row[] = [];

/** Writes `gb` of features as shards; progress and speed on stderr. */
function generate(gb: number): ImageShard[] {
  const started = performance.now();
  const shards = writeImageShards({ dir: join(work, `set-${gb}gb`), images: Math.floor((gb * GB) / IMAGE_BYTES), shards: shardCount, seed: 1 });
  const seconds = (performance.now() - started) / 1000;
  progress(`wrote ${gb} GB (${shards.reduce((n, s) => n + s.images, 0)} images, ${shards.length} shards) in ${num(seconds, 1)} s, ${num(totalBytes(shards) / MB / seconds, 0)} MB/s`);
  return shards;
}

const totalBytes = (shards: readonly ImageShard[]): number => shards.reduce((n, s) => n + s.bytes, 0);

/** One set (or the reference) to train on: its shards and the paths the job names them by. */
interface TrainInput {
  readonly role: Row['role'];
  /** Shown in the table. */
  readonly dataset: string;
  /** Part of the job's name: lowercase letters, digits and '-'. */
  readonly stem: string;
  readonly shards: readonly ImageShard[];
  readonly files: { readonly features: string | readonly string[]; readonly labels: string | readonly string[] };
}

async function train({ role, dataset, stem, shards, files }: TrainInput, access: DataAccess): Promise<void> {
  const name = `data-${stem}-${access}`;
  const configPath = join(work, `${name}.yaml`);
  writeFileSync(configPath, stringify(imageJob({ name, ...files, access, cacheBytes: CACHE_BYTES, batchSize: BATCH_SIZE, hidden: HIDDEN_UNITS, workers: WORKERS })));
  const outDir = join(work, name);
  progress(`training on ${dataset}, access ${access} (at most ${budgetSeconds} s)`);
  let run: BudgetRun;
  try {
    run = await runWithBudget({ cli, configPath, outDir, workers: WORKERS, workerArgs: ['--backend', 'wasm'], budgetMs: budgetSeconds * 1000, timeoutMs: budgetSeconds * 1000 + GRACE_MS, rssLimitBytes: RSS_LIMIT_BYTES, label: `${dataset}, ${access}` });
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  const mean = (values: readonly number[]): number | null => (values.length === 0 ? null : (values.reduce((a, b) => a + b, 0) / values.length) * 1000);
  const reads = run.workerReads;
  const steady = run.dataWait.filter((r) => r.step >= steadyFrom(run.summary.steps)).map((r) => r.seconds);
  const losses = run.history.map((p) => p.loss).filter((l): l is number => l !== null);
  rows.push({
    role,
    dataset,
    access,
    diskBytes: totalBytes(shards),
    samples: shards.reduce((n, s) => n + s.images, 0),
    coordinatorPeakRssBytes: run.coordinator.peakRssBytes,
    workerPeakRssBytes: run.workers.map((w) => w.peakRssBytes),
    samplesPerSecond: steadyRate(run.history) ?? null,
    overallSamplesPerSecond: run.summary.samplesPerSecond,
    dataWaitMsPerStep: mean(steady),
    dataWaitMsPerStepAll: mean(run.dataWait.map((r) => r.seconds)),
    dataWaitReadings: steady.length,
    cacheHitRatio: reads === undefined || reads.hits + reads.misses === 0 ? null : reads.hits / (reads.hits + reads.misses),
    readBytesPerSample: reads === undefined || reads.hits + reads.misses === 0 ? null : reads.bytesRead / (reads.hits + reads.misses),
    workerDataMsPerStep: reads === undefined || reads.dataSteps === 0 ? null : (reads.dataSeconds / reads.dataSteps) * 1000,
    timing: {
      meanStepSeconds: run.summary.timing.meanStepSeconds,
      meanSlowestComputeSeconds: run.summary.timing.meanSlowestComputeSeconds,
      meanSyncOverheadSeconds: run.summary.timing.meanSyncOverheadSeconds,
    },
    steps: run.summary.steps,
    trainedSamples: run.summary.samples,
    stopped: run.stopped,
    loadSeconds: run.loadSeconds,
    lossFirst: losses[0] ?? null,
    lossLast: losses.at(-1) ?? null,
  });
}

try {
  for (const gb of sizes) {
    const shards = generate(gb);
    const files = { features: join(work, `set-${gb}gb`, 'train-*-x.npy'), labels: join(work, `set-${gb}gb`, 'train-*-y.npy') };
    if (gb === smallest) {
      // The reference: as many of the first shards as fit in --reference-mb (at least one), listed by name.
      const shardFeatureBytes = (shards[0]?.images ?? 0) * IMAGE_BYTES;
      const reference = shards.slice(0, Math.max(1, Math.floor(referenceBytes / shardFeatureBytes)));
      const input: TrainInput = {
        role: 'reference',
        dataset: `${num(totalBytes(reference) / MB, 0)} MB (${reference.length} shard${reference.length === 1 ? '' : 's'} of ${gb} GB)`,
        stem: 'reference',
        shards: reference,
        files: { features: reference.map((s) => s.features), labels: reference.map((s) => s.labels) },
      };
      await train(input, 'ship');
      await train(input, 'shared');
    }
    await train({ role: 'set', dataset: `${gb} GB`, stem: `${String(gb).replace('.', '-')}gb`, shards, files }, 'shared');
    rmSync(join(work, `set-${gb}gb`), { recursive: true, force: true });
  }
} catch (error) {
  progress(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
report();

function report(): void {
  const ship = rows.find((r) => r.role === 'reference' && r.access === 'ship');
  const ratio = (r: Row): number | undefined => (ship?.samplesPerSecond == null || r.samplesPerSecond === null ? undefined : r.samplesPerSecond / ship.samplesPerSecond);
  const say = (text: string): void => void process.stdout.write(`${text}\n`);
  say(
    `dtrain data bench: synthetic 32×32×3 uint8 images as .npy shards, MLP 3072-${HIDDEN_UNITS}-10, ${WORKERS} wasm workers, batch ${BATCH_SIZE} per worker, ` +
      `one epoch or ${budgetSeconds} s of training; shared = every worker reads its samples (cache ${CACHE_BYTES / 1024 / 1024} MiB each), ship = the coordinator reads and sends them\n`,
  );
  say(
    formatTable(
      ['dataset', 'access', 'GB on disk', 'coordinator peak RSS MB', 'worker peak RSS MB (max)', 'samples/s', '÷ ship', 'data wait ms/step', 'cache hits %', 'read B/sample', 'steps', 'loss first → last'],
      rows.map((r) => [
        r.dataset,
        r.access,
        num(r.diskBytes / GB, 2),
        num(r.coordinatorPeakRssBytes / MB, 0),
        num(Math.max(...r.workerPeakRssBytes) / MB, 0),
        num(r.samplesPerSecond ?? undefined, 0),
        ratio(r) === undefined ? '-' : `${num(ratio(r), 2)}x`,
        num(r.dataWaitMsPerStep ?? undefined, 2),
        num(r.cacheHitRatio === null ? undefined : r.cacheHitRatio * 100, 1),
        num(r.readBytesPerSample ?? undefined, 0),
        `${r.steps}${r.stopped ? '' : ' (epoch)'}`,
        `${num(r.lossFirst ?? undefined, 3)} → ${num(r.lossLast ?? undefined, 3)}`,
      ]),
    ),
  );
  say(
    `\nsamples/s and data wait: past the first ${WARMUP * 100}% of steps. samples/s from history.json; data wait = the workers' reported time taking in and gathering ` +
      `a step's batch, polled from /status (readings: ${rows.map((r) => r.dataWaitReadings).join(', ')}). Cache hits (prefetched samples included) and ` +
      `bytes read from the shards per sample assigned: the workers' /metrics over the whole run (${IMAGE_BYTES} = each sample read once). Steps '(epoch)': the epoch ended before the budget`,
  );
  say(
    `whole run, start-up included (the coordinator loading and, for ship, sending the data): ` +
      rows.map((r) => `${r.dataset} ${r.access} ${num(r.overallSamplesPerSecond, 0)} samples/s after ${num(r.loadSeconds, 1)} s loading`).join('; '),
  );
  const shared = rows.filter((r) => r.role === 'set');
  const sharedRef = rows.find((r) => r.role === 'reference' && r.access === 'shared');
  const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  for (const r of shared) {
    say(`target: coordinator peak RSS < ${TARGETS.coordinatorRssBytes / MB} MB on ${r.dataset}: ${num(r.coordinatorPeakRssBytes / MB, 0)} MB, ${verdict(r.coordinatorPeakRssBytes < TARGETS.coordinatorRssBytes)}`);
  }
  const [low, high] = [shared[0], shared.at(-1)];
  if (low !== undefined && high !== undefined && low !== high) {
    const growth = high.coordinatorPeakRssBytes / low.coordinatorPeakRssBytes - 1;
    say(
      `target: coordinator peak RSS flat from ${low.dataset} to ${high.dataset} (within ${TARGETS.flatWithin * 100}%): ` +
        `${growth >= 0 ? '+' : ''}${num((high.coordinatorPeakRssBytes - low.coordinatorPeakRssBytes) / MB, 0)} MB (${growth >= 0 ? '+' : ''}${num(growth * 100, 1)}%), ${verdict(growth <= TARGETS.flatWithin)}`,
    );
    // The coordinator evaluates the validation split at the epoch's end: a peak a stopped run never reaches.
    if (low.stopped !== high.stopped) {
      const [ended, stopped] = low.stopped ? [high, low] : [low, high];
      say(`  (the ${ended.dataset} run ended its epoch, so its peak includes the epoch-end validation; the ${stopped.dataset} run was stopped before it)`);
    }
  }
  if (sharedRef !== undefined && ratio(sharedRef) !== undefined) {
    say(`target: shared ≥ ${TARGETS.sharedOverShip}x ship samples/s on ${sharedRef.dataset}: ${num(ratio(sharedRef), 2)}x, ${verdict((ratio(sharedRef) ?? 0) >= TARGETS.sharedOverShip)}`);
  }
  if (flags.json !== undefined) {
    const figures = { sizesGB: sizes, shards: shardCount, budgetSeconds, workers: WORKERS, batchSize: BATCH_SIZE, hiddenUnits: HIDDEN_UNITS, cacheBytes: CACHE_BYTES, targets: TARGETS, rows: rows.map((r) => ({ ...r, ratioToShip: ratio(r) ?? null })) };
    writeFileSync(flags.json, `${JSON.stringify(figures, null, 2)}\n`);
  }
}
