import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobSummary } from '@dtrain/coordinator';
import { ChaosCluster } from './chaos-cluster.js';
import { garbageBytes, garbageFrames, StepWatch, type GarbageResult } from './chaos-probes.js';
import { FaultSchedule, pick, seededRandom, type AnyFault } from './chaos-schedule.js';
import { spawnWatched, type WatchedExit, type WatchedProcess } from './watched-process.js';

/** One run of the chaos soak's job: fault-free (the reference) or with a seeded driver injecting faults until the job is done. */
export interface ChaosRunOptions {
  readonly label: string;
  readonly cli: string;
  readonly dir: string;
  readonly configPath: string;
  readonly workers: number;
  readonly shards: number;
  /** The job's cluster.stepTimeoutMs: a SIGSTOP lasts this plus STOP_PAST_DEADLINE_MS. */
  readonly stepTimeoutMs: number;
  /** Faults: none for the reference run. */
  readonly faults?: { readonly seed: number; readonly meanIntervalMs: number };
  /** Everything is killed after this long and the run fails. */
  readonly timeoutMs: number;
  /** Progress lines (stderr). */
  readonly progress: (line: string) => void;
}

export interface InjectedFault {
  readonly atSeconds: number;
  readonly kind: AnyFault;
  readonly detail: string;
}

export interface AuditResult {
  readonly ok: boolean;
  readonly exitCode: number | null;
  readonly appliedBatches: number;
  readonly matchedBatches: number;
  readonly rolledBackBatches: number;
  readonly rollbacks: number;
  readonly violationCount: number;
  readonly violations: readonly string[];
  readonly records: number;
}

export interface ChaosRunResult {
  readonly label: string;
  readonly done: boolean;
  readonly failure: string | undefined;
  readonly epochs: number;
  readonly samples: number;
  /** From the first committed step the watch saw to the job's end. */
  readonly trainSeconds: number;
  readonly samplesPerSecond: number;
  readonly valAccuracy: number | null;
  readonly longestStallSeconds: number;
  /** Seconds into the run at which the longest stall began. */
  readonly longestStallAtSeconds: number;
  readonly faults: readonly InjectedFault[];
  /** Steps committed in each second of the run, from the step watch (started with the coordinator). */
  readonly stepsPerSecond: readonly number[];
  /** Samples applied in each second of the run. */
  readonly samplesTimeline: readonly number[];
  readonly coordinatorStarts: number;
  readonly workersStarted: number;
  readonly audit: AuditResult;
  readonly garbage?: GarbageResult & { readonly shardConnectionsClosed: number; readonly shardConnections: number };
  readonly wrongTokenExit?: number | null;
}

/** How much longer than the step deadline a SIGSTOPped worker stays stopped. */
export const STOP_PAST_DEADLINE_MS = 1_000;
/** Rogue WebSocket connections in the garbage burst. */
const GARBAGE_CONNECTIONS = 20;
const TOKEN = 'dtrain-chaos-token';

/** Resolves after `ms`, or at once when `signal` aborts (its listener removed either way). */
const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

export async function runChaos(o: ChaosRunOptions): Promise<ChaosRunResult> {
  mkdirSync(o.dir, { recursive: true });
  const cluster = await ChaosCluster.create({ cli: o.cli, dir: o.dir, configPath: o.configPath, token: TOKEN, shards: o.shards, timeoutMs: o.timeoutMs });
  const t0 = Date.now();
  const since = (): number => (Date.now() - t0) / 1000;
  const killedOnPurpose = new Set<WatchedProcess>();
  const faults: InjectedFault[] = [];
  const pending: Promise<unknown>[] = [];
  const ended = new AbortController();
  let garbage: ChaosRunResult['garbage'];
  let wrongTokenExit: number | null | undefined;
  const overall = setTimeout(() => {
    o.progress(`${o.label}: past its time limit (${o.timeoutMs / 1000} s): killing everything`);
    cluster.killAll();
  }, o.timeoutMs);

  const first = cluster.startCoordinator();
  await Promise.race([
    waitHealthy(cluster.port, o.timeoutMs),
    first.exited.then((exit) => Promise.reject(new Error(`the coordinator exited ${exit.code ?? exit.signal} before it was healthy: ${exit.stderrTail.join(' | ')}`))),
  ]).catch((error: unknown) => {
    clearTimeout(overall);
    cluster.killAll();
    throw error;
  });
  cluster.startShards();
  for (let i = 0; i < o.workers; i += 1) cluster.startWorker();
  const watch = new StepWatch(cluster.port, TOKEN, t0);

  const inject = async (kind: AnyFault, random: () => number): Promise<string> => {
    switch (kind) {
      case 'kill-worker':
      case 'term-worker': {
        const victim = pick(random, cluster.liveWorkers());
        if (victim === undefined) return 'no live worker: skipped';
        victim.gone = true;
        victim.process.kill(kind === 'kill-worker' ? 'SIGKILL' : 'SIGTERM');
        const next = cluster.startWorker();
        return `worker#${victim.index} ${kind === 'kill-worker' ? 'SIGKILL' : 'SIGTERM'}, worker#${next.index} started`;
      }
      case 'stop-worker': {
        const victim = pick(random, cluster.liveWorkers());
        if (victim === undefined) return 'no live worker: skipped';
        const ms = o.stepTimeoutMs + STOP_PAST_DEADLINE_MS;
        victim.stopped = true;
        victim.process.kill('SIGSTOP');
        pending.push(
          sleep(ms, new AbortController().signal).then(() => {
            victim.process.kill('SIGCONT');
            victim.stopped = false;
          }),
        );
        return `worker#${victim.index} SIGSTOP for ${ms / 1000} s, then SIGCONT`;
      }
      case 'restart-coordinator': {
        const old = cluster.coordinator;
        killedOnPurpose.add(old);
        old.kill('SIGKILL');
        await old.exited;
        if (ended.signal.aborted) return 'the job ended first';
        cluster.startCoordinator();
        return `coordinator SIGKILL, coordinator#${cluster.coordinatorStarts} started`;
      }
      case 'garbage-frames': {
        const task = (async () => {
          const frames = await garbageFrames(cluster.port, TOKEN, GARBAGE_CONNECTIONS, random);
          const shards = await Promise.all(cluster.shardPorts.map((port) => garbageBytes(port, 4096)));
          garbage = { ...frames, shardConnections: shards.length, shardConnectionsClosed: shards.filter(Boolean).length };
        })();
        pending.push(task);
        await task;
        return `${garbage?.frames ?? 0} frames on ${GARBAGE_CONNECTIONS} connections, ${garbage?.closedByServer ?? 0} closed by the coordinator; 4 KiB of noise to each shard, ${garbage?.shardConnectionsClosed ?? 0}/${cluster.shardPorts.length} closed`;
      }
      case 'wrong-token': {
        const rogue = cluster.startWrongTokenWorker();
        pending.push(rogue.exited.then((exit) => (wrongTokenExit = exit.code)));
        return 'a worker with the wrong token started';
      }
    }
  };

  const driver = (async () => {
    if (o.faults === undefined) return;
    const schedule = new FaultSchedule({ seed: o.faults.seed, meanIntervalMs: o.faults.meanIntervalMs, minIntervalMs: o.stepTimeoutMs + STOP_PAST_DEADLINE_MS + 500 });
    const random = seededRandom(o.faults.seed ^ 0x5bd1e995);
    // The first fault waits for training to be under way.
    while (watch.firstCommitAt === undefined && !ended.signal.aborted) await sleep(200, ended.signal);
    for (;;) {
      const planned = schedule.next();
      await sleep(planned.delayMs, ended.signal);
      if (ended.signal.aborted) return;
      const atSeconds = since();
      const detail = await inject(planned.kind, random);
      faults.push({ atSeconds, kind: planned.kind, detail });
      o.progress(`${o.label} ${atSeconds.toFixed(1)} s: ${planned.kind}: ${detail}`);
    }
  })();

  // The job's end: the coordinator exits by itself (not by the driver's SIGKILL).
  let exit: WatchedExit;
  for (;;) {
    const current = cluster.coordinator;
    exit = await current.exited;
    if (!killedOnPurpose.has(current)) break;
    while (cluster.coordinator === current && !ended.signal.aborted) await sleep(50, ended.signal);
  }
  const endedAt = Date.now();
  ended.abort();
  watch.stop();
  await driver;
  await Promise.all(pending);
  clearTimeout(overall);
  const endedSeconds = since();
  const { workers, terminated } = await cluster.drain(10_000);
  o.progress(
    `${o.label}: the coordinator exited ${exit.code ?? exit.signal} after ${endedSeconds.toFixed(1)} s; ${faults.length} fault(s); ` +
      `worker exits ${[...new Set(workers.map((w) => String(w.code ?? w.signal)))].join('/')}${terminated > 0 ? `, ${terminated} still dialling after the end and SIGTERMed` : ''}`,
  );

  const summaryPath = join(cluster.outDir, 'summary.json');
  const summary = existsSync(summaryPath) ? (JSON.parse(readFileSync(summaryPath, 'utf8')) as JobSummary) : undefined;
  const done = exit.code === 0 && summary?.state === 'done';
  const epochs = summary?.epochs ?? 0;
  const samples = summary?.samples ?? 0;
  const trainSeconds = watch.firstCommitAt === undefined ? 0 : (endedAt - watch.firstCommitAt) / 1000;
  const records = cluster.records.filter((f) => existsSync(f));
  const audit = await runAudit(o.cli, cluster.ledger, records, epochs > 0 ? samples / epochs : 0, epochs, o.timeoutMs);
  return {
    label: o.label,
    done,
    failure: done ? undefined : (summary?.failure ?? `the coordinator exited ${exit.code ?? exit.signal}: ${exit.stderrTail.slice(-3).join(' | ')}`),
    epochs,
    samples,
    trainSeconds,
    samplesPerSecond: trainSeconds > 0 ? samples / trainSeconds : 0,
    valAccuracy: summary?.final.valAccuracy ?? null,
    longestStallSeconds: watch.longestStallMs / 1000,
    longestStallAtSeconds: watch.longestStallFromMs / 1000,
    faults,
    stepsPerSecond: watch.perSecond,
    samplesTimeline: watch.samplesPerSecond,
    coordinatorStarts: cluster.coordinatorStarts,
    workersStarted: cluster.workers.length,
    audit,
    ...(garbage === undefined ? {} : { garbage }),
    ...(wrongTokenExit === undefined ? {} : { wrongTokenExit }),
  };
}

async function waitHealthy(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the coordinator on port ${port} was not healthy within ${timeoutMs / 1000} s`);
}

/** `dtrain audit --json` over the run's ledger and every worker's record, with the per-epoch sample check. */
async function runAudit(cli: string, ledger: string, records: readonly string[], samples: number, epochs: number, timeoutMs: number): Promise<AuditResult> {
  const args = ['audit', '--ledger', ledger, '--records', ...records, '--json', ...(Number.isInteger(samples) && samples > 0 ? ['--samples', String(samples), '--epochs', String(epochs)] : [])];
  const exit = await spawnWatched([cli, ...args], { label: 'dtrain audit', timeoutMs }).exited;
  try {
    const r = JSON.parse(exit.stdout) as Omit<AuditResult, 'exitCode' | 'records'> & { samplesChecked: boolean };
    return { ...r, ok: r.ok && r.samplesChecked, exitCode: exit.code, records: records.length };
  } catch {
    return { ok: false, exitCode: exit.code, appliedBatches: 0, matchedBatches: 0, rolledBackBatches: 0, rollbacks: 0, violationCount: 1, violations: [`dtrain audit printed no report: ${exit.stderrTail.join(' | ')}`], records: records.length };
  }
}
