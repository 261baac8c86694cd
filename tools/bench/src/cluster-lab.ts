/**
 * `pnpm bench:cluster`: scaling beyond one machine, simulated. A lab of
 * Linux network namespaces (netns-lab.ts), one per host, each host's link
 * shaped with tc tbf to R in and R out: the coordinator's host, one host per
 * parameter-server shard (`dtrain ps`) and one per worker (`dtrain worker
 * --simulate-compute-ms`: a timer instead of tfjs, so only the data plane is
 * timed). For K = 0 (the shard inside the coordinator), 1, 2, 4 shards it
 * runs the same job and prints the steady step time (steps after the first,
 * which ships data and initial weights) beside what a parameter server with
 * K shards can reach, max(2M/B, 2NM/(KB)) (BytePS, OSDI'20), with B both the
 * nominal rate and the rate raw TCP measured between two lab hosts.
 *
 * Run: `node dist/cluster-lab.js [--short] [--json FILE] [--rate MBIT]
 * [--shards 0,1,2,4] [--steps N] [--workers N] [--wire float32,bfloat16,float16,bfloat16/bfloat16]
 * [--local-steps 1,4,16]`.
 * Each entry of `--wire` other than float32 (GRADIENTS or GRADIENTS/WEIGHTS:
 * cluster.wire and cluster.wireWeights) runs every K again and
 * is reported against the float32 run of the same K (step time, speed-up,
 * bytes a worker host sends per step). Each entry H > 1 of `--local-steps`
 * (training.localSteps: local SGD, float32) runs every K again with `--steps`
 * rounds of H batches per worker, reported against the synchronous float32
 * run of the same K in samples/s (a round trains on H times a step's
 * samples). `--workers N` replaces the plan's worker hosts (4; 2 with
 * `--short`). `--short` (CI): a small model, 2 workers,
 * K ∈ {0, 2}, a few steps, under 90 s. Exit 0 whatever the ratios (a
 * benchmark reports, it does not assert); 1 when the lab or a run breaks;
 * 0 with a loud SKIPPED line when namespaces cannot be made here (not root,
 * no iproute2, no veth/bridge/tbf); 2 on a bad flag.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { CLUSTER_TARGET, clusterRow, psBoundSeconds, shardLabel, steadySteps, type ClusterRow } from './cluster-bound.js';
import { cpuShares } from './cpu-times.js';
import { boundTable, localStepsSamplesPerSecond, localStepsTable, trafficTable, type LocalStepsRun, type SkippedShards, type TrafficRow } from './cluster-table.js';
import { measureLinkRate, type LinkRate } from './lab-link-rate.js';
import { runLabJob } from './lab-job.js';
import { mlpJob, mlpParams, type MlpWidths } from './mlp-jobs.js';
import { NetnsLab, labUnavailable, removeStaleLabs, type LabHost, type ShaperCounters } from './netns-lab.js';
import { formatTable, num } from './table.js';
import type { ClusterConfig } from '@dtrain/coordinator';

type WireFormat = ClusterConfig['wire'];
/** cluster.wire's formats (checked against the config's type; the coordinator refuses any other). */
const WIRE_FORMATS = ['float32', 'bfloat16', 'float16'] as const satisfies readonly WireFormat[];
import { killWatchedChildren } from './watched-process.js';

/**
 * Each link's rate by default, Mbit/s. Chosen by measurement on the 2-core
 * machine this was written on (see the README): fast enough that a step
 * moves hundreds of MB in seconds, slow enough that the job's processes on
 * two cores keep up with every link at once.
 */
const DEFAULT_RATE_MBIT = 500;
/** Why DEFAULT_RATE_MBIT, printed with it. */
const DEFAULT_RATE_WHY =
  'the default: with 4 shards every link is busy at once and a step cost the processes about 2 CPU-seconds, so at 1 Gbit/s ' +
  '(bound 1.08 s) the 2 cores, not the links, were the limit (1.5x the bound); at 500 Mbit/s the job used under half of them';
/** Simulated compute per step, ms: small against the seconds a step's transfers take. */
const SIMULATE_COMPUTE_MS = 10;
const BATCH = 16;
const TOKEN = 'dtrain-cluster-lab-token';

interface Plan {
  readonly label: string;
  /** The MLP's layer widths (its float32 weights are M). */
  readonly widths: MlpWidths;
  /** Worker hosts, N. */
  readonly workers: number;
  /** The K's to run; 0 = the shard inside the coordinator. */
  readonly shards: readonly number[];
  /** Steps per run, the first (data, initial weights) included. */
  readonly steps: number;
  /** Raw TCP rounds between two lab hosts, before the runs and again after them. */
  readonly linkRounds: number;
  /** Seconds per round. */
  readonly linkSeconds: number;
}

const FULL: Plan = { label: 'full', widths: [2048, 4096, 2048, 10], workers: 4, shards: [0, 1, 2, 4], steps: 6, linkRounds: 3, linkSeconds: 1 };
const SHORT: Plan = { label: 'short', widths: [1024, 1024, 1024, 10], workers: 2, shards: [0, 2], steps: 5, linkRounds: 1, linkSeconds: 1 };

const usage = (message: string): never => {
  process.stderr.write(
    `cluster-lab: ${message}\nusage: cluster-lab [--short] [--json FILE] [--rate MBIT] [--shards 0,1,2,4] [--steps N] [--workers N] [--wire float32,bfloat16,float16,bfloat16/bfloat16] [--local-steps 1,4,16]\n`,
  );
  process.exit(2);
};
const { values: flags } = parseArgs({
  // `pnpm bench:cluster -- --short` hands the script a bare `--` first.
  args: process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === '--')),
  options: {
    short: { type: 'boolean' },
    json: { type: 'string' },
    rate: { type: 'string' },
    shards: { type: 'string' },
    steps: { type: 'string' },
    workers: { type: 'string' },
    wire: { type: 'string' },
    'local-steps': { type: 'string' },
  },
});
const base = flags.short === true ? SHORT : FULL;
const rateMbit = flags.rate === undefined ? DEFAULT_RATE_MBIT : Number(flags.rate);
if (!Number.isFinite(rateMbit) || rateMbit < 1 || rateMbit > 100_000) usage(`--rate: expected Mbit/s from 1 to 100000, got ${JSON.stringify(flags.rate)}`);
const shardList = flags.shards === undefined ? base.shards : flags.shards.split(',').map((s) => Number(s.trim()));
if (shardList.length === 0 || !shardList.every((k) => Number.isInteger(k) && k >= 0 && k <= 8)) usage(`--shards: expected a comma-separated list of shard counts 0..8, got ${JSON.stringify(flags.shards)}`);
const steps = flags.steps === undefined ? base.steps : Number(flags.steps);
if (!Number.isInteger(steps) || steps < 3 || steps > 1000) usage(`--steps: expected a whole number from 3 (one first step, two steady ones) to 1000, got ${JSON.stringify(flags.steps)}`);
const workerCount = flags.workers === undefined ? base.workers : Number(flags.workers);
if (!Number.isInteger(workerCount) || workerCount < 1 || workerCount > 16) usage(`--workers: expected a whole number of worker hosts from 1 to 16, got ${JSON.stringify(flags.workers)}`);
const plan: Plan = { ...base, shards: [...new Set(shardList)].sort((a, b) => a - b), steps, workers: workerCount };
const localStepsList = (flags['local-steps'] ?? '1').split(',').map((h) => Number(h.trim()));
if (!localStepsList.every((h) => Number.isInteger(h) && h >= 1 && h <= 64)) usage(`--local-steps: expected a comma-separated list of whole numbers 1..64 (training.localSteps), got ${JSON.stringify(flags['local-steps'])}`);
/** The H > 1 to run; H = 1 is the synchronous float32 run every K makes anyway. */
const localStepsRuns = [...new Set(localStepsList.filter((h) => h > 1))].sort((a, b) => a - b);
/** The issue's target for local SGD on a slow link: H = 16 trains at least 8 times the samples/s of synchronous float32 at 100 Mbit/s. */
const LOCAL_STEPS_TARGET = { localSteps: 16, speedUp: 8, rateMbit: 100 } as const;
/** Gradients' and weights' formats of one run. */
interface Wire {
  readonly gradients: WireFormat;
  readonly weights: WireFormat;
}
const isFormat = (w: string | undefined): w is WireFormat => (WIRE_FORMATS as readonly string[]).includes(w ?? '');
const wireList: Wire[] = (flags.wire ?? 'float32').split(',').map((entry) => {
  const [gradients, weights = 'float32', extra] = entry.trim().split('/');
  if (!isFormat(gradients) || !isFormat(weights) || extra !== undefined) {
    return usage(`--wire: expected a comma-separated list of GRADIENTS[/WEIGHTS] formats (${WIRE_FORMATS.join(', ')}), got ${JSON.stringify(flags.wire)}`);
  }
  return { gradients, weights };
});
const wireLabel = (w: Wire): string => (w.weights === 'float32' ? w.gradients : `${w.gradients}/${w.weights}`);
const isFloat32 = (w: Wire): boolean => w.gradients === 'float32' && w.weights === 'float32';

const say = (text: string): void => void process.stdout.write(`${text}\n`);
const progress = (text: string): void => void process.stderr.write(`cluster lab: ${text}\n`);
const figures: Record<string, unknown> = {};
const writeJson = (): void => {
  if (flags.json !== undefined) writeFileSync(flags.json, `${JSON.stringify(figures, null, 2)}\n`);
};

const started = performance.now();
const rateBitsPerSecond = rateMbit * 1e6;
const nominalBytesPerSecond = rateBitsPerSecond / 8;
const modelBytes = mlpParams(plan.widths) * 4;
figures.plan = { ...plan, rateMbit, simulateComputeMs: SIMULATE_COMPUTE_MS, batchSize: BATCH, modelBytes, target: CLUSTER_TARGET, localSteps: localStepsRuns };

const unavailable = labUnavailable();
if (unavailable !== undefined) {
  say(`*** SKIPPED: the cluster lab (network namespaces, veth, bridge, tc tbf) cannot be built here: ${unavailable}. Run it as root on Linux with iproute2. ***`);
  figures.skipped = unavailable;
  writeJson();
  process.exit(0);
}
const dist = fileURLToPath(new URL('.', import.meta.url));
const cli = join(resolve(dist, '../../..'), 'apps/cli/dist/main.js');
if (!existsSync(cli)) {
  process.stderr.write(`cluster-lab: ${cli} is missing: build first (pnpm build)\n`);
  process.exit(1);
}
// `dtrain ps` (shard processes) may not exist yet in this build: then only K = 0 runs, and the rest say why.
const psAvailable = /^\s*dtrain ps\b/m.test(execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' }));
const skipped: SkippedShards[] = psAvailable ? [] : plan.shards.filter((k) => k > 0).map((shards) => ({ shards, reason: 'this build has no `dtrain ps`' }));
const shardCounts = plan.shards.filter((k) => k === 0 || psAvailable);

const stale = removeStaleLabs();
if (stale.length > 0) progress(`removed ${stale.length} namespace(s) left by an earlier lab that was killed: ${stale.join(', ')}`);
const lab = new NetnsLab({ rateBitsPerSecond });
const work = mkdtempSync(join(tmpdir(), 'dtrain-cluster-lab-'));
const cleanUp = (): void => {
  killWatchedChildren();
  lab.destroy();
  rmSync(work, { recursive: true, force: true });
};
process.once('exit', cleanUp);
// Every process and command has a time limit already; this one bounds the whole, whatever hangs in between.
// Every K runs once in float32, again per other wire format and again per H > 1.
const runsPerK = [1, ...wireList.filter((w) => !isFloat32(w)).map(() => 1), ...localStepsRuns];
const deadlineSeconds = 60 + 2 * plan.linkRounds * (plan.linkSeconds + 30) + shardCounts.reduce((t, k) => t + runsPerK.reduce((u, h) => u + runTimeoutMs(k, h) / 1000, 0), 0);
setTimeout(() => {
  say(`*** THE CLUSTER LAB BROKE: still running after its time limit of ${num(deadlineSeconds, 0)} s; torn down ***`);
  cleanUp();
  process.exit(1);
}, deadlineSeconds * 1000).unref();
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    progress(`${signal}: tearing the lab down`);
    cleanUp();
    process.exit(code);
  });
}

const rows: ClusterRow[] = [];
const traffic: TrafficRow[] = [];
const wireRows: WireRow[] = [];
const localRuns: LocalStepsRun[] = [];
const runs: Record<string, unknown>[] = [];
try {
  say(
    `dtrain cluster lab (${plan.label}): ${plan.workers} simulated-compute workers (${SIMULATE_COMPUTE_MS} ms/step), ` +
      `a ${num(modelBytes / 1e6, 1)} MB MLP (${plan.widths.join('-')}, SGD, batch ${BATCH}), ${plan.steps} steps per run; ` +
      `every host's link shaped to ${rateMbit} Mbit/s each way (tc tbf)${flags.rate === undefined ? ` (${DEFAULT_RATE_WHY})` : ''}\n`,
  );
  if (!psAvailable) say(`*** K ≥ 1 NOT RUN: this build of dtrain has no \`dtrain ps\` (shard processes); only K = 0 (the shard inside the coordinator) ran. ***\n`);
  const maxShards = Math.max(0, ...shardCounts);
  const coordinator = lab.addHost('coord', 1);
  const shardHosts = Array.from({ length: maxShards }, (_, i) => lab.addHost(`ps${i}`, 10 + i));
  const workerHosts = Array.from({ length: plan.workers }, (_, i) => lab.addHost(`w${i}`, 100 + i));
  progress(`${lab.namespaces.length} namespaces up (a bridge, ${lab.hosts.size} hosts); measuring the link`);

  const linkBefore = await measureLinkRate(lab, workerHosts[0] ?? coordinator, coordinator, { rounds: plan.linkRounds, secondsPerRound: plan.linkSeconds });
  /** One run of the lab job with `shards` shard processes, gradients on the `wire` format and `localSteps` batches per worker per round. */
  const runOne = async (shards: number, wire: Wire, localSteps = 1): Promise<{ row: ClusterRow; traffic: TrafficRow }> => {
    const hosts = { coordinator, shards: shardHosts.slice(0, shards), workers: workerHosts };
    const bound = psBoundSeconds({ modelBytes, workers: plan.workers, shards, bytesPerSecond: nominalBytesPerSecond });
    const job = labJob(shards, bound, wire, localSteps);
    const configPath = join(work, `${job.name}.yaml`);
    writeFileSync(configPath, stringify(job));
    const outDir = join(work, job.name);
    const timeoutMs = runTimeoutMs(shards, localSteps);
    const what = `K = ${shards}${isFloat32(wire) ? '' : `, ${wireLabel(wire)} (gradients/weights)`}${localSteps === 1 ? '' : `, H = ${localSteps} local steps`}`;
    progress(`${what}: ${plan.steps} ${localSteps === 1 ? 'steps' : 'rounds'}, bound ${num(bound, 2)} s/step (each process is killed after ${num(timeoutMs / 1000, 0)} s)`);
    const before = counters([coordinator, ...hosts.shards, ...workerHosts]);
    const result = await runLabJob({ lab, cli, configPath, outDir, ...hosts, simulateComputeMs: SIMULATE_COMPUTE_MS, token: TOKEN, timeoutMs });
    const after = counters([coordinator, ...hosts.shards, ...workerHosts]);
    rmSync(outDir, { recursive: true, force: true });
    const steady = steadySteps(result.firstReading, result.lastReading);
    if (steady === undefined) throw new Error(`${what}: no steady step to time (the probe's first reading was at step ${result.firstReading.count} of ${result.lastReading.count})`);
    const row = clusterRow(
      {
        shards,
        workers: plan.workers,
        modelBytes,
        steps: result.summary.steps,
        steadySteps: steady.steps,
        steadyStepSeconds: steady.periodSeconds,
        steadyWallSeconds: steady.wallSeconds,
        meanStepSeconds: result.summary.timing.meanStepSeconds,
        processSeconds: result.coordinator.seconds,
      },
      nominalBytesPerSecond,
      linkBefore.bytesPerSecond,
    );
    const delta = (h: LabHost): { sent: number; received: number } => ({
      sent: (after.get(h.name)?.sentBytes ?? 0) - (before.get(h.name)?.sentBytes ?? 0),
      received: (after.get(h.name)?.receivedBytes ?? 0) - (before.get(h.name)?.receivedBytes ?? 0),
    });
    const dropped = [...after].reduce((n, [name, c]) => n + c.dropped - (before.get(name)?.dropped ?? 0), 0);
    const t: TrafficRow = {
      shards,
      steps: result.summary.steps,
      coordinator: delta(coordinator),
      shardHosts: hosts.shards.map(delta),
      workerHosts: workerHosts.map(delta),
      dropped,
      cpu: cpuShares(result.firstCpu, result.lastCpu),
      peakRssBytes: { coordinator: result.coordinator.peakRssBytes, shards: result.shards.map((s) => s.peakRssBytes), workers: result.workers.map((w) => w.peakRssBytes) },
    };
    runs.push({ ...row, wire: wireLabel(wire), localSteps, traffic: t, firstReading: result.firstReading, lastReading: result.lastReading, shardsTerminated: result.shardsTerminated });
    progress(`${what}: steady ${num(steady.periodSeconds, 2)} s/step = ${num(row.ratio, 2)}x the bound`);
    return { row, traffic: t };
  };
  for (const shards of shardCounts) {
    const { row, traffic: t } = await runOne(shards, { gradients: 'float32', weights: 'float32' });
    rows.push(row);
    traffic.push(t);
  }
  // The 16-bit wire formats, each against the float32 run of the same K.
  for (const wire of wireList.filter((w) => !isFloat32(w))) {
    for (const shards of shardCounts) {
      const { row, traffic: t } = await runOne(shards, wire);
      wireRows.push({ wire, shards, row, traffic: t });
    }
  }
  // Local SGD (float32), each H against the synchronous float32 run of the same K.
  for (const localSteps of localStepsRuns) {
    for (const shards of shardCounts) {
      const { row, traffic: t } = await runOne(shards, { gradients: 'float32', weights: 'float32' }, localSteps);
      localRuns.push(localStepsRun(localSteps, row, t));
    }
  }
  const linkAfter = await measureLinkRate(lab, workerHosts[0] ?? coordinator, coordinator, { rounds: plan.linkRounds, secondsPerRound: plan.linkSeconds });
  report(linkBefore, linkAfter, rows, traffic);
  if (wireRows.length > 0) reportWire(rows, traffic, wireRows);
  if (localRuns.length > 0) reportLocalSteps(rows.map((r, i) => localStepsRun(1, r, traffic[i])), localRuns);
  // After every table: the wire and local-steps runs are part of what the lab took.
  say(`\n(the lab took ${num((performance.now() - started) / 1000, 0)} s)`);
  figures.link = { nominalBytesPerSecond, before: linkBefore, after: linkAfter };
  figures.skippedShards = skipped;
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  say(`*** THE CLUSTER LAB BROKE: ${message} ***`);
  if (rows.length > 0) say(`\nThe runs that finished before it broke:\n${boundTable(rows)}`);
  figures.failed = message;
  process.exitCode = 1;
} finally {
  figures.runs = runs;
  figures.seconds = (performance.now() - started) / 1000;
  cleanUp();
  writeJson();
}

/**
 * The job every run trains: the plan's MLP, `shards` shard processes,
 * gradients on `wire`, deadlines far above the bound. With local SGD the
 * dataset holds `plan.steps` full rounds (H batches per worker each), so
 * every round trains on H × workers × batch samples and the coordinator's
 * check that an epoch has at least H batches always passes.
 */
function labJob(shards: number, boundSeconds: number, wire: Wire, localSteps: number): Record<string, unknown> & { readonly name: string } {
  const job = mlpJob({
    name: `lab-k${shards}-${wire.gradients}-${wire.weights}-h${localSteps}`,
    widths: plan.widths,
    steps: plan.steps * localSteps,
    workers: plan.workers,
    batchSize: BATCH,
    optimizer: { name: 'sgd', learningRate: 0.01 },
  });
  const cluster = job.cluster as Record<string, unknown>;
  const training = job.training as Record<string, unknown>;
  return {
    ...job,
    training: { ...training, ...(localSteps === 1 ? {} : { localSteps }) },
    cluster: {
      ...cluster,
      ...(shards === 0 ? {} : { psShards: shards }),
      ...(wire.gradients === 'float32' ? {} : { wire: wire.gradients }),
      ...(wire.weights === 'float32' ? {} : { wireWeights: wire.weights }),
      // A slow link is not a dead worker: the step deadline and heartbeat timeout scale with the bound.
      stepTimeoutMs: Math.max(30_000, Math.round(10 * boundSeconds * 1000)),
      heartbeatTimeoutMs: Math.max(10_000, Math.round(4 * boundSeconds * 1000)),
    },
  };
}

/**
 * Each process of a run is killed after this long: start-up, the first step
 * (data, initial weights), then steps at up to 4x the bound; a round adds its
 * H simulated batches (and its share of an H-times larger dataset, shipped
 * as the rounds need it).
 */
function runTimeoutMs(shards: number, localSteps: number): number {
  const bound = psBoundSeconds({ modelBytes, workers: plan.workers, shards, bytesPerSecond: nominalBytesPerSecond });
  const dataBytes = plan.steps * localSteps * plan.workers * BATCH * ((plan.widths[0] ?? 0) + 1) * 4;
  const dataSeconds = (plan.workers * dataBytes) / nominalBytesPerSecond;
  return Math.round(60_000 + (plan.steps + 2) * (4 * bound * 1000 + localSteps * SIMULATE_COMPUTE_MS) + 4 * dataSeconds * 1000);
}

/** A run's figures for the local-steps table (its rounds are all full: see labJob). */
function localStepsRun(localSteps: number, row: ClusterRow, t: TrafficRow | undefined): LocalStepsRun {
  const perWorkerRound = (pick: (h: { sent: number; received: number }) => number): number =>
    t === undefined ? Number.NaN : t.workerHosts.reduce((n, h) => n + pick(h), 0) / Math.max(1, t.workerHosts.length) / t.steps;
  return {
    shards: row.shards,
    localSteps,
    roundSeconds: row.steadyStepSeconds,
    samplesPerRound: localSteps * plan.workers * BATCH,
    workerSentBytesPerRound: perWorkerRound((h) => h.sent),
    workerReceivedBytesPerRound: perWorkerRound((h) => h.received),
  };
}

function reportLocalSteps(syncRuns: readonly LocalStepsRun[], local: readonly LocalStepsRun[]): void {
  const all = [...syncRuns.filter((r) => local.some((l) => l.shards === r.shards)), ...local];
  say(
    `\n5. Local SGD (training.localSteps H, float32, the default outer optimizer): ${plan.workers} workers at ${rateMbit} Mbit/s, ` +
      `${plan.steps} rounds of H batches of ${BATCH} per worker (${SIMULATE_COMPUTE_MS} ms simulated compute each); steady round, samples/s and the speed-up ` +
      `over synchronous float32 at the same K, MB a worker host sends and receives per round (the first, with the data, included) and its bytes per sample against synchronous`,
  );
  say(localStepsTable(all));
  const at = rateMbit === LOCAL_STEPS_TARGET.rateMbit ? '' : ` (the target is stated at ${LOCAL_STEPS_TARGET.rateMbit} Mbit/s; this run's links were ${rateMbit} Mbit/s)`;
  const verdicts = local
    .filter((r) => r.localSteps === LOCAL_STEPS_TARGET.localSteps)
    .map((r) => {
      const sync = syncRuns.find((s) => s.shards === r.shards);
      const speedUp = sync === undefined ? Number.NaN : localStepsSamplesPerSecond(r) / localStepsSamplesPerSecond(sync);
      return `K = ${r.shards}: ${num(speedUp, 2)}x, ${speedUp >= LOCAL_STEPS_TARGET.speedUp ? 'met' : 'NOT met'}`;
    });
  say(
    `\nTarget: H = ${LOCAL_STEPS_TARGET.localSteps} ≥ ${LOCAL_STEPS_TARGET.speedUp}x the samples/s of synchronous float32 at ${LOCAL_STEPS_TARGET.rateMbit} Mbit/s${at}: ` +
      `${verdicts.length === 0 ? `not run (--local-steps has no ${LOCAL_STEPS_TARGET.localSteps})` : verdicts.join('; ')}`,
  );
  figures.localSteps = local.map((r) => ({ ...r, samplesPerSecond: localStepsSamplesPerSecond(r) }));
}

/** One 16-bit run, beside the float32 run of its K. */
interface WireRow {
  readonly wire: Wire;
  readonly shards: number;
  readonly row: ClusterRow;
  readonly traffic: TrafficRow;
}

function reportWire(float32Rows: readonly ClusterRow[], float32Traffic: readonly TrafficRow[], wireRows: readonly WireRow[]): void {
  const meanSent = (t: TrafficRow): number => t.workerHosts.reduce((n, h) => n + h.sent, 0) / Math.max(1, t.workerHosts.length) / t.steps;
  const meanReceived = (t: TrafficRow): number => t.workerHosts.reduce((n, h) => n + h.received, 0) / Math.max(1, t.workerHosts.length) / t.steps;
  const lines: string[][] = [];
  for (const shards of [...new Set(wireRows.map((w) => w.shards))]) {
    const base = float32Rows.find((r) => r.shards === shards);
    const baseTraffic = float32Traffic.find((t) => t.shards === shards);
    if (base === undefined || baseTraffic === undefined) continue;
    lines.push([shardLabel(shards), 'float32', num(base.steadyStepSeconds, 2), num((plan.workers * BATCH) / base.steadyStepSeconds, 0), '1.00x', num(meanSent(baseTraffic) / 1e6, 1), num(meanReceived(baseTraffic) / 1e6, 1)]);
    for (const w of wireRows.filter((x) => x.shards === shards)) {
      lines.push([
        shardLabel(shards),
        wireLabel(w.wire),
        num(w.row.steadyStepSeconds, 2),
        num((plan.workers * BATCH) / w.row.steadyStepSeconds, 0),
        `${num(base.steadyStepSeconds / w.row.steadyStepSeconds, 2)}x`,
        `${num(meanSent(w.traffic) / 1e6, 1)} (${num(meanSent(w.traffic) / meanSent(baseTraffic), 2)}x)`,
        `${num(meanReceived(w.traffic) / 1e6, 1)} (${num(meanReceived(w.traffic) / meanReceived(baseTraffic), 2)}x)`,
      ]);
    }
  }
  say(`\n4. A 16-bit wire: gradients (cluster.wire) or gradients/weights (cluster.wireWeights too): steady step, samples/s, speed-up over float32 at the same K, MB a worker host sends and receives per step`);
  say(formatTable(['K shards', 'gradients/weights', 'step s', 'samples/s', 'speed-up', 'worker out MB/step', 'worker in MB/step'], lines));
  figures.wire = wireRows.map((w) => ({ wire: wireLabel(w.wire), shards: w.shards, steadyStepSeconds: w.row.steadyStepSeconds, workerSentBytesPerStep: meanSent(w.traffic), workerReceivedBytesPerStep: meanReceived(w.traffic) }));
}

function counters(hosts: readonly LabHost[]): Map<string, ShaperCounters> {
  return new Map(hosts.map((h) => [h.name, lab.shaperCounters(h)]));
}

function report(linkBefore: LinkRate, linkAfter: LinkRate, rows: readonly ClusterRow[], traffic: readonly TrafficRow[]): void {
  say(`1. Link: raw TCP, one Node process to another, ${linkBefore.from} → ${linkBefore.to} through both shapers and the bridge (4 MiB writes)`);
  const all = [...linkBefore.rounds.map((r) => ({ r, when: 'before the runs' })), ...linkAfter.rounds.map((r) => ({ r, when: 'after the runs' }))];
  say(formatTable(['round', 'when', 'MB', 'seconds', 'Mbit/s'], all.map(({ r, when }, i) => [String(i + 1), when, num(r.bytes / 1e6, 0), num(r.seconds, 2), num((r.bytesPerSecond * 8) / 1e6, 0)])));
  say(
    `measured B (median before the runs): ${num((linkBefore.bytesPerSecond * 8) / 1e6, 0)} Mbit/s = ${num(linkBefore.bytesPerSecond / 1e6, 1)} MB/s of payload, ` +
      `${num((linkBefore.bytesPerSecond * 8) / rateBitsPerSecond * 100, 0)}% of the nominal ${rateMbit} Mbit/s (TCP/IP headers count against tbf's rate)\n`,
  );
  say(`2. Steady step time against the parameter-server bound max(2M/B, 2NM/(KB)) (M = ${num(modelBytes / 1e6, 1)} MB, N = ${plan.workers}; K = 0 is bounded as K = 1)`);
  say(boundTable(rows, skipped));
  const met = rows.filter((r) => r.targetMet).length;
  const metMeasured = rows.filter((r) => r.measuredTargetMet).length;
  say(
    `\nTarget: steady step ≤ ${CLUSTER_TARGET}x the bound: ${met} of ${rows.length} rows at the nominal rate, ${metMeasured} of ${rows.length} at the measured one` +
      `${skipped.length > 0 ? `; ${skipped.length} K not run (${skipped[0]?.reason ?? ''})` : ''}.` +
      ` Steady = the steps after the first (which ships the data and the initial weights), commit to commit (dtrain_last_step_timestamp_seconds).\n`,
  );
  say(
    '3. Where the bytes went: MB per step through each host\'s shapers (all steps, the first included; headers included); ' +
      `CPU: share of the machine's ${availableParallelism()} cores over the steady steps, busy (any work) / used by the job's processes; peak RSS`,
  );
  say(trafficTable(traffic));
}
