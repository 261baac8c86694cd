/**
 * Section 2 of the data-plane benchmark: synchronisation overhead of real
 * coordinator and worker processes whose compute is a timer
 * (`--simulate-compute-ms`), against the loopback floor, plus every
 * process's peak RSS beside the model's size.
 */
import { MB, runJob, type BenchContext } from './bench-context.js';
import { mlpJob, mlpParams, type MlpWidths } from './mlp-jobs.js';
import { formatTable, num } from './table.js';

/** Sync overhead within this multiple of the loopback floor. */
export const SYNC_TARGET = 1.5;

interface SyncModel {
  readonly label: string;
  readonly widths: MlpWidths;
  /** Steps per run: more for small models, whose steps are short and noisy. */
  readonly steps: number;
  /** Each process of a run is killed after this long. */
  readonly timeoutMs: number;
}

/** About 1 MB, 64 MB and 368 MB of float32 weights; the last is the 92M-parameter MLP. */
export const SYNC_MODELS: readonly SyncModel[] = [
  { label: '1 MB', widths: [512, 480, 10], steps: 20, timeoutMs: 60_000 },
  { label: '64 MB', widths: [2048, 4096, 2048, 10], steps: 8, timeoutMs: 120_000 },
  { label: '368 MB', widths: [2048, 8192, 8192, 1024, 10], steps: 4, timeoutMs: 180_000 },
];
const SYNC_WORKERS = [1, 2] as const;
/** 0: the shard inside the coordinator; 1: one `dtrain ps` process (workers reach it over the data link). */
const SYNC_SHARDS = [0, 1] as const;
/** A shard's peak RSS within this multiple of its resident state (weights, optimizer slots, accumulator) … */
export const SHARD_RSS_FACTOR = 1.25;
/** … plus this (the Node process itself). */
export const SHARD_RSS_BASE_BYTES = 200 * MB;
/** Below this floor a row is dominated by per-step round trips, not bytes (said so beside the target line). */
const LATENCY_BOUND_FLOOR_SECONDS = 0.005;
const BATCH = 16;

/** One run's figures, before the floor is known. */
export interface SyncRun {
  readonly model: string;
  readonly widths: MlpWidths;
  readonly params: number;
  readonly weightsBytes: number;
  readonly workers: number;
  /** 0: the shard inside the coordinator; K: K `dtrain ps` processes. */
  readonly shards: number;
  readonly steps: number;
  /** The coordinator's bytes in + out per step (summary.timing), one-time traffic included. */
  readonly bytesPerStep: number;
  /** What a step itself moves: gradients in and weights out, per worker. */
  readonly steadyBytesPerStep: number;
  readonly stepSeconds: number;
  readonly slowestComputeSeconds: number;
  readonly syncOverheadSeconds: number;
  readonly peakRssBytes: { readonly coordinator: number; readonly workers: readonly number[]; readonly shards: readonly number[] };
  /** What each shard process holds (SGD: float32 weights + float64 accumulator of its range). */
  readonly shardStateBytes: number;
  /** The coordinator process's life, start to exit. */
  readonly processSeconds: number;
}

export interface SyncRow extends SyncRun {
  /** steadyBytesPerStep ÷ the loopback rate. */
  readonly floorSeconds: number;
  readonly overheadOverFloor: number;
  readonly targetMet: boolean;
}

/** Runs every model with 1 and 2 simulated-compute workers, SGD. */
export async function runSyncCases(ctx: BenchContext, simulateMs: number): Promise<SyncRun[]> {
  const runs: SyncRun[] = [];
  for (const model of SYNC_MODELS) {
    for (const shards of SYNC_SHARDS) for (const workers of SYNC_WORKERS) {
      const name = `dp-${model.label.replace(/\W+/g, '').toLowerCase()}-${workers}w-${shards}ps`;
      const base = mlpJob({ name, widths: model.widths, steps: model.steps, workers, batchSize: BATCH, optimizer: { name: 'sgd', learningRate: 0.01 } });
      const job = { ...base, cluster: { ...(base['cluster'] as Record<string, unknown>), psShards: shards } };
      const run = await runJob(ctx, job, { workers, shards, workerArgs: ['--simulate-compute-ms', String(simulateMs)], timeoutMs: model.timeoutMs });
      const t = run.summary.timing;
      const weightsBytes = mlpParams(model.widths) * 4;
      runs.push({
        model: model.label,
        widths: model.widths,
        params: mlpParams(model.widths),
        weightsBytes,
        workers,
        shards,
        steps: t.steps,
        bytesPerStep: t.meanBytesPerStep,
        steadyBytesPerStep: 2 * weightsBytes * workers,
        // Steady: without the first step, which ships the data and the initial weights (not in the floor's bytes either).
        stepSeconds: t.steadyStepSeconds,
        slowestComputeSeconds: t.meanSlowestComputeSeconds,
        syncOverheadSeconds: t.steadySyncOverheadSeconds,
        peakRssBytes: { coordinator: run.coordinator.peakRssBytes, workers: run.workers.map((w) => w.peakRssBytes), shards: run.shards.map((p) => p.peakRssBytes) },
        shardStateBytes: shards === 0 ? 0 : (12 * mlpParams(model.widths)) / shards,
        processSeconds: run.coordinator.seconds,
      });
    }
  }
  return runs;
}

/** Prints the overhead and memory tables and the target line; returns the rows. */
export function reportSync(ctx: BenchContext, runs: readonly SyncRun[], floorBytesPerSecond: number, simulateMs: number): SyncRow[] {
  const rows = runs.map((r): SyncRow => {
    // What the step itself moves (gradients in, weights out, per worker): with shard processes the coordinator carries none of it.
    const floorSeconds = r.steadyBytesPerStep / floorBytesPerSecond;
    const overheadOverFloor = r.syncOverheadSeconds / floorSeconds;
    return { ...r, floorSeconds, overheadOverFloor, targetMet: overheadOverFloor <= SYNC_TARGET };
  });
  ctx.say(`2. Sync overhead vs the floor: simulated-compute workers (${simulateMs} ms/step), dense MLPs, SGD, batch ${BATCH} per worker`);
  ctx.say(
    formatTable(
      ['model', 'params', 'shards', 'workers', 'steps', 'MB/step', 'step ms', 'sync overhead ms', 'floor ms', 'overhead ÷ floor', `≤ ${SYNC_TARGET}x`],
      rows.map((r) => [
        `${r.model} (${r.widths.join('-')})`,
        num(r.params),
        r.shards === 0 ? 'in coordinator' : `${r.shards} process`,
        String(r.workers),
        String(r.steps),
        num(r.steadyBytesPerStep / MB, 1),
        num(r.stepSeconds * 1000, 1),
        num(r.syncOverheadSeconds * 1000, 1),
        num(r.floorSeconds * 1000, 1),
        `${num(r.overheadOverFloor, 1)}x`,
        r.targetMet ? 'yes' : 'no',
      ]),
    ),
  );
  ctx.say(
    'MB/step: what a step moves, gradients in and weights out for every worker (2 × weights × workers); with a shard process the coordinator carries none of it. ' +
      'Step and overhead times are steady: the first step (data, initial weights) is left out, as its bytes are.\n',
  );
  ctx.say('Peak RSS (VmHWM, polled every 200 ms) beside the model\'s weights');
  ctx.say(
    formatTable(
      ['model', 'weights MB', 'shards', 'workers', 'coordinator MB', '÷ weights', 'worker MB (each)', '÷ weights (max)', 'shard MB', 'shard state MB', `≤ ${SHARD_RSS_FACTOR}x state + ${num(SHARD_RSS_BASE_BYTES / MB, 0)} MB`, 'coordinator s'],
      rows.map((r) => {
        const shardPeak = Math.max(0, ...r.peakRssBytes.shards);
        return [
          r.model,
          num(r.weightsBytes / MB, 1),
          String(r.shards),
          String(r.workers),
          num(r.peakRssBytes.coordinator / MB, 0),
          `${num(r.peakRssBytes.coordinator / r.weightsBytes, 1)}x`,
          r.peakRssBytes.workers.map((w) => num(w / MB, 0)).join(' / '),
          `${num(Math.max(...r.peakRssBytes.workers) / r.weightsBytes, 1)}x`,
          r.shards === 0 ? '-' : r.peakRssBytes.shards.map((w) => num(w / MB, 0)).join(' / '),
          r.shards === 0 ? '-' : num(r.shardStateBytes / MB, 0),
          r.shards === 0 ? '-' : shardPeak <= SHARD_RSS_FACTOR * r.shardStateBytes + SHARD_RSS_BASE_BYTES ? 'yes' : 'no',
          num(r.processSeconds, 1),
        ];
      }),
    ),
  );
  const met = rows.filter((r) => r.targetMet);
  const ratios = rows.map((r) => r.overheadOverFloor);
  ctx.say(
    `\nTarget: per-step sync overhead ≤ ${SYNC_TARGET}x the loopback floor (the step's bytes ÷ ${num(floorBytesPerSecond / MB, 0)} MB/s): ` +
      `${met.length === rows.length ? 'MET' : 'NOT MET'} in ${met.length} of ${rows.length} rows (ratios ${num(Math.min(...ratios), 1)}x–${num(Math.max(...ratios), 1)}x).`,
  );
  const latencyBound = rows.filter((r) => !r.targetMet && r.floorSeconds < LATENCY_BOUND_FLOOR_SECONDS);
  if (latencyBound.length > 0) {
    ctx.say(
      `(${[...new Set(latencyBound.map((r) => r.model))].join(', ')}: a floor of a few ms is below the step's fixed round trips ` +
        `(assignment, gradient push, report, commit, weights), so those rows measure latency rather than bandwidth.)`,
    );
  }
  ctx.say('');
  return rows;
}
