/**
 * `pnpm bench:chaos`: the chaos soak. A coordinator, 4 workers and 2
 * parameter-server shard processes (`dtrain ps`) train the MNIST MLP on
 * loopback, first without faults (the reference), then again from scratch
 * while a seeded driver injects, on average every --mean-interval seconds,
 * one of: SIGKILL a worker and start a new one, SIGSTOP a worker for longer
 * than the step deadline then SIGCONT it, SIGTERM a worker and start a new
 * one, SIGKILL the coordinator and start it again (it resumes from its
 * newest checkpoint); plus once each, a burst of garbage WebSocket frames
 * from a client holding the token (and random bytes at each shard's data
 * port), and a worker with the wrong token. Both runs train the same epochs
 * of the same samples with the same seed, so the fault-free run's length is
 * the soak's wall time.
 *
 * It prints the faults by kind, the throughput kept (samples/s from the
 * first committed step to the end, against the reference), `dtrain audit`'s
 * verdict over the coordinator's ledger and every worker's own record
 * (exactly once per epoch, every applied batch computed by the worker it is
 * credited to), the final validation accuracy against the reference, and the
 * longest time without a committed step.
 *
 * Run: `node dist/chaos-soak.js [--short] [--seed N] [--epochs E]
 * [--mean-interval S] [--json FILE] [--keep]`. `--short` (CI, about a
 * minute): 30 epochs, a fault every 4 s on average (the deck deals all four
 * kinds and both once-faults within the first six, about 20 s), no
 * reference run. Exit 0 when every run
 * finished and its audit is exact, whatever the throughput (a benchmark
 * reports it); 1 when a job did not finish or an audit found a violation; 2
 * on a bad flag.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { runChaos, STOP_PAST_DEADLINE_MS, type ChaosRunResult } from './chaos-run.js';
import { FAULT_KINDS, ONCE_KINDS } from './chaos-schedule.js';
import { formatTable, num } from './table.js';
import { killWatchedChildren } from './watched-process.js';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const CLI = join(REPO, 'apps/cli/dist/main.js');
const WORKERS = 4;
const SHARDS = 2;
/** The job's step deadline: a SIGSTOPped worker is left out of the step after it. */
const STEP_TIMEOUT_MS = 2_000;
/** Targets from the issue: throughput kept, audit exact. */
const KEPT_TARGET = 0.95;

const usage = (why: string): never => {
  process.stderr.write(`chaos soak: ${why}\nusage: chaos-soak [--short] [--seed N] [--epochs E] [--mean-interval S] [--json FILE] [--keep]\n`);
  process.exit(2);
};
const { values: flags } = parseArgs({
  options: { short: { type: 'boolean' }, seed: { type: 'string' }, epochs: { type: 'string' }, 'mean-interval': { type: 'string' }, json: { type: 'string' }, keep: { type: 'boolean' } },
});
const short = flags.short === true;
const seed = flags.seed === undefined ? 1 : Number(flags.seed);
if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 31) usage(`--seed: expected a whole number from 0 to 2^31, got ${JSON.stringify(flags.seed)}`);
const epochs = flags.epochs === undefined ? (short ? 30 : 60) : Number(flags.epochs);
if (!Number.isInteger(epochs) || epochs < 1 || epochs > 1000) usage(`--epochs: expected a whole number from 1 to 1000, got ${JSON.stringify(flags.epochs)}`);
const meanIntervalS = flags['mean-interval'] === undefined ? (short ? 4 : 10) : Number(flags['mean-interval']);
const minIntervalS = (STEP_TIMEOUT_MS + STOP_PAST_DEADLINE_MS + 500) / 1000;
if (!Number.isFinite(meanIntervalS) || meanIntervalS <= minIntervalS || meanIntervalS > 600) usage(`--mean-interval: expected seconds above ${minIntervalS} (a SIGSTOP must end before the next fault) up to 600, got ${JSON.stringify(flags['mean-interval'])}`);

const say = (text: string): void => void process.stdout.write(`${text}\n`);
const progress = (text: string): void => void process.stderr.write(`chaos soak: ${text}\n`);

const work = mkdtempSync(join(tmpdir(), 'dtrain-chaos-'));
const cleanUp = (): void => {
  killWatchedChildren();
  if (flags.keep !== true) rmSync(work, { recursive: true, force: true });
};
process.once('exit', cleanUp);
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.once(signal, () => process.exit(code));

/** The MNIST MLP example with the soak's cluster settings: short deadlines and heartbeats, frequent checkpoints, 2 shard processes (128 KiB chunks: the 0.9 MB model must span both). */
function writeJob(): string {
  const job = parse(readFileSync(join(REPO, 'examples/mnist-mlp.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  const dataset = { ...job['dataset'], images: join(REPO, 'examples/data/mnist/t10k-images-idx3-ubyte.gz'), labels: join(REPO, 'examples/data/mnist/t10k-labels-idx1-ubyte.gz') };
  const soak = {
    ...job,
    name: 'chaos-soak',
    dataset,
    training: { ...job['training'], epochs },
    cluster: { minWorkers: 1, psShards: SHARDS, chunkBytes: 128 * 1024, stepTimeoutMs: STEP_TIMEOUT_MS, heartbeatIntervalMs: 500, heartbeatTimeoutMs: 3_000, waitTimeoutMs: 120_000 },
    checkpoint: { everySteps: 25 },
  };
  const path = join(work, 'chaos-soak.yaml');
  writeFileSync(path, stringify(soak));
  return path;
}

const configPath = writeJob();
const common = { cli: CLI, configPath, workers: WORKERS, shards: SHARDS, stepTimeoutMs: STEP_TIMEOUT_MS, progress };
say(`chaos soak: MNIST MLP, ${epochs} epochs, ${WORKERS} workers (wasm), ${SHARDS} shard processes, loopback; faults every ${meanIntervalS} s on average (seed ${seed})${short ? '; --short: no reference run' : ''}`);

let reference: ChaosRunResult | undefined;
if (!short) {
  progress('the fault-free reference run');
  reference = await runChaos({ ...common, label: 'fault-free', dir: join(work, 'reference'), timeoutMs: 20 * 60_000 });
}
const limitMs = reference === undefined ? 10 * 60_000 : Math.max(10 * 60_000, reference.trainSeconds * 4_000);
progress('the chaos run');
const chaos = await runChaos({ ...common, label: 'chaos', dir: join(work, 'chaos'), timeoutMs: limitMs, faults: { seed, meanIntervalMs: meanIntervalS * 1000 } });

const runs = reference === undefined ? [chaos] : [reference, chaos];
const kept = reference === undefined || reference.samplesPerSecond === 0 ? undefined : chaos.samplesPerSecond / reference.samplesPerSecond;
const accuracyDelta = reference?.valAccuracy === null || reference === undefined || chaos.valAccuracy === null ? undefined : (chaos.valAccuracy - reference.valAccuracy) * 100;

say('');
say(
  formatTable(
    ['run', 'finished', 'epochs', 'train s', 'samples/s', 'kept', 'val acc', 'longest stall s', 'faults', 'audit'],
    runs.map((r) => [
      r.label,
      r.done ? 'yes' : 'NO',
      String(r.epochs),
      num(r.trainSeconds, 1),
      num(r.samplesPerSecond, 0),
      r === chaos && kept !== undefined ? `${(kept * 100).toFixed(1)}%` : r === chaos ? '-' : '100%',
      r.valAccuracy === null ? '-' : r.valAccuracy.toFixed(4),
      num(r.longestStallSeconds, 1),
      String(r.faults.length),
      r.audit.ok ? `exact (${r.audit.matchedBatches}/${r.audit.appliedBatches})` : `FAILED (${r.audit.violationCount})`,
    ]),
  ),
);
say('');
const counts = [...FAULT_KINDS, ...ONCE_KINDS].map((kind) => [kind, String(chaos.faults.filter((f) => f.kind === kind).length)]);
say(formatTable(['fault', 'injected'], counts));
say('');
say(`coordinator processes: ${chaos.coordinatorStarts}; worker processes: ${chaos.workersStarted}; worker records audited: ${chaos.audit.records}`);
say(`audit: ${chaos.audit.appliedBatches} applied batches in the final lineage, ${chaos.audit.rolledBackBatches} dropped by ${chaos.audit.rollbacks} rollback(s)/resume(s), ${chaos.audit.matchedBatches} matched to the credited worker's record`);
if (chaos.garbage !== undefined) {
  say(`garbage: ${chaos.garbage.frames} frames on ${chaos.garbage.connections} connections, ${chaos.garbage.closedByServer} closed by the coordinator; noise to ${chaos.garbage.shardConnections} shard port(s), ${chaos.garbage.shardConnectionsClosed} closed`);
}
if (chaos.wrongTokenExit !== undefined) say(`wrong-token worker: exit ${chaos.wrongTokenExit} (3 = refused)`);
say(`longest time without a committed step: ${num(chaos.longestStallSeconds, 1)} s, from ${num(chaos.longestStallAtSeconds, 1)} s into the run`);
if (kept !== undefined) say(`throughput kept: ${(kept * 100).toFixed(1)}% (target ≥ ${KEPT_TARGET * 100}%); validation accuracy ${accuracyDelta === undefined ? '-' : `${accuracyDelta >= 0 ? '+' : ''}${accuracyDelta.toFixed(2)} points`} against the fault-free run`);
for (const r of runs) {
  if (!r.done) say(`${r.label}: the job did not finish: ${r.failure ?? '?'}`);
  for (const v of r.audit.violations) say(`${r.label}: audit: ${v}`);
}

if (flags.json !== undefined) {
  writeFileSync(flags.json, `${JSON.stringify({ seed, epochs, meanIntervalSeconds: meanIntervalS, workers: WORKERS, shards: SHARDS, short, kept: kept ?? null, keptTarget: KEPT_TARGET, accuracyDeltaPoints: accuracyDelta ?? null, runs }, null, 2)}\n`);
}
const ok = runs.every((r) => r.done && r.audit.ok && (r.garbage === undefined || (r.garbage.closedByServer === r.garbage.connections && r.garbage.shardConnectionsClosed === r.garbage.shardConnections)) && (r.wrongTokenExit === undefined || r.wrongTokenExit === 3));
if (flags.keep === true) say(`kept: ${work}`);
process.exit(ok ? 0 : 1);
