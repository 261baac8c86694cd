import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryPoint, JobSummary, RunHistoryJson, StatusReport } from '@dtrain/coordinator';
import { readPeakRss } from './peak-rss.js';
import { workerReads, type WorkerReads } from './prom-text.js';
import { expectSuccess, spawnWatched, type WatchedExit, type WatchedProcess } from './watched-process.js';

/**
 * One job as `dtrain coordinator` + `dtrain worker` processes (as
 * runCluster runs them) whose training is bounded in time: when the budget
 * runs out the coordinator gets SIGTERM (it checkpoints, writes
 * summary.json with state 'stopped' and exits 143) and the workers, which
 * would wait to reconnect, get SIGTERM once it is gone. A job that finishes
 * first ends as usual. Meanwhile /status is polled for each worker's data
 * wait, which the coordinator only keeps for the last step, and each
 * worker's /metrics (on a free loopback port) for its sample reads.
 */

export interface BudgetRunOptions {
  /** apps/cli/dist/main.js */
  readonly cli: string;
  readonly configPath: string;
  readonly outDir: string;
  readonly workers: number;
  /** Extra `dtrain worker` flags, e.g. ['--backend', 'wasm']. */
  readonly workerArgs: readonly string[];
  /** Training time, ms from the coordinator listening, after which it is stopped (SIGTERM). */
  readonly budgetMs: number;
  /** Every process is killed (SIGKILL) after this many ms from its start; must leave room for loading and stopping. */
  readonly timeoutMs: number;
  /**
   * A process whose peak RSS passes this many bytes fails the run at once
   * (all are killed): a job that loads what it should stream must not take
   * the machine's memory with it.
   */
  readonly rssLimitBytes: number;
  /** Shown in progress lines. */
  readonly label: string;
}

/** One reading of a worker's data wait: its last step's, when it has reported a step since the last poll. */
export interface DataWaitReading {
  readonly workerId: number;
  /** The job's step when read (/status `step`). */
  readonly step: number;
  readonly seconds: number;
}

export interface BudgetRun {
  readonly summary: JobSummary;
  /** history.json's step series (points of `stride` steps). */
  readonly history: readonly HistoryPoint[];
  /** True when the budget ran out before the job ended (summary.state is 'stopped'). */
  readonly stopped: boolean;
  /** Seconds from the coordinator's start to it listening: loading the config and the data (or, shared, its index). */
  readonly loadSeconds: number;
  readonly coordinator: WatchedExit;
  readonly workers: readonly WatchedExit[];
  /** The workers' /metrics read last (after the coordinator ended when the budget stopped the job, else up to METRICS_POLL_MS before they exited). */
  readonly workerReads: WorkerReads | undefined;
  /**
   * Data wait per step as polled: at most one reading per worker per poll,
   * so steps shorter than the poll interval are sampled, not all counted.
   */
  readonly dataWait: readonly DataWaitReading[];
}

const TOKEN = 'dtrain-bench-token';
/** How often /status is read, ms: each read gives each worker's last step's data wait. */
const STATUS_POLL_MS = 100;
/** How often the workers' /metrics are read, ms. */
const METRICS_POLL_MS = 1_000;
/** How often every process's peak RSS is checked against the limit, ms. */
const RSS_WATCH_MS = 250;
/** Exit codes of a coordinator that SIGTERM stopped after its checkpoint and summary.json (128 + 15). */
const STOPPED_CODES = new Set([143]);

export async function runWithBudget(o: BudgetRunOptions): Promise<BudgetRun> {
  const env = { ...process.env, DTRAIN_TOKEN: TOKEN };
  const started = performance.now();
  let announce!: (url: string) => void;
  const announced = new Promise<string>((resolve) => (announce = resolve));
  const coordinator = spawnWatched([o.cli, 'coordinator', '--config', o.configPath, '--port', '0', '--host', '127.0.0.1', '--out', o.outDir, '--quiet'], {
    label: `dtrain coordinator (${o.label})`,
    timeoutMs: o.timeoutMs,
    env,
    onStderrLine: (line) => {
      const m = /coordinator on (ws:\/\/[^,\s]+)/.exec(line);
      if (m?.[1] !== undefined) announce(m[1]);
    },
  });
  const workers: WatchedProcess[] = [];
  let overLimit: string | undefined;
  // From the coordinator's start: loading is where a job that should stream would take everything.
  const watchdog = setInterval(() => {
    for (const [i, p] of [coordinator, ...workers].entries()) {
      const peak = readPeakRss(p.pid) ?? 0;
      if (peak <= o.rssLimitBytes || overLimit !== undefined) continue;
      overLimit = `${o.label}: ${i === 0 ? 'the coordinator' : `worker ${i - 1}`} passed the limit of ${Math.round(o.rssLimitBytes / 1e6)} MB peak RSS (${Math.round(peak / 1e6)} MB); killed`;
      for (const q of [coordinator, ...workers]) q.kill('SIGKILL');
    }
  }, RSS_WATCH_MS);
  let poller: NodeJS.Timeout | undefined;
  let scraper: NodeJS.Timeout | undefined;
  let budget: NodeJS.Timeout | undefined;
  try {
    const url = await Promise.race([
      announced,
      coordinator.exited.then((exit) => {
        expectSuccess(exit);
        throw new Error(`dtrain coordinator (${o.label}) exited before it listened`);
      }),
    ]);
    const loadSeconds = (performance.now() - started) / 1000;
    const metricsUrls: string[] = [];
    const metricsTexts: string[] = [];
    for (let i = 0; i < o.workers; i += 1) {
      const args = [o.cli, 'worker', '--coordinator', url, '--quiet', '--metrics-port', '0', '--metrics-host', '127.0.0.1', ...o.workerArgs];
      const onStderrLine = (line: string): void => {
        const m = /dtrain worker: metrics (http:\/\/\S+)/.exec(line);
        if (m?.[1] !== undefined) metricsUrls[i] = m[1];
      };
      workers.push(spawnWatched(args, { label: `dtrain worker ${i} (${o.label})`, timeoutMs: o.timeoutMs, env, onStderrLine }));
    }
    const scrape = async (): Promise<void> => {
      await Promise.all(
        metricsUrls.map(async (u, i) => {
          const text = await readText(u);
          if (text !== undefined) metricsTexts[i] = text;
        }),
      );
    };
    scraper = setInterval(() => void scrape(), METRICS_POLL_MS);
    const dataWait: DataWaitReading[] = [];
    const statusUrl = `${url.replace(/^ws/, 'http')}/status`;
    const lastSteps = new Map<number, number>();
    let polling = false;
    poller = setInterval(() => {
      if (polling) return;
      polling = true;
      void readStatus(statusUrl)
        .then((status) => {
          for (const w of status?.workers ?? []) {
            if (w.lastDataSeconds === null || lastSteps.get(w.id) === w.stepsApplied) continue;
            lastSteps.set(w.id, w.stepsApplied);
            dataWait.push({ workerId: w.id, step: status?.step ?? 0, seconds: w.lastDataSeconds });
          }
        })
        .finally(() => (polling = false));
    }, STATUS_POLL_MS);
    let stopping = false;
    budget = setTimeout(() => {
      stopping = true;
      process.stderr.write(`data bench: ${o.label}: ${o.budgetMs / 1000} s budget spent, stopping the job (SIGTERM)\n`);
      coordinator.kill('SIGTERM');
    }, o.budgetMs);
    // A worker that fails fails the run at once; once the job is being stopped, a worker ends by our SIGTERM.
    const workerExits = workers.map((w) => w.exited.then((exit) => (stopping ? exit : expectSuccess(exit))));
    // Handled here too, so that one failing after the coordinator did is not an unhandled rejection.
    for (const exit of workerExits) exit.catch(() => undefined);
    const coordinatorExit = await Promise.race([coordinator.exited, Promise.all(workerExits).then(() => coordinator.exited)]);
    clearTimeout(budget);
    clearInterval(poller);
    clearInterval(scraper);
    const stoppedCleanly = stopping && coordinatorExit.code !== null && STOPPED_CODES.has(coordinatorExit.code);
    if (coordinatorExit.code !== 0 && !stoppedCleanly) expectSuccess(coordinatorExit);
    // Stopped, the coordinator closes the workers' connections without a shutdown: they would wait to reconnect.
    if (stopping) {
      await scrape();
      for (const w of workers) w.kill('SIGTERM');
    }
    const exits = await Promise.all(workerExits);
    const summary = JSON.parse(readFileSync(join(o.outDir, 'summary.json'), 'utf8')) as JobSummary;
    // The budget can run out as the job ends by itself: then it is done, not stopped.
    if (summary.state !== (stoppedCleanly ? 'stopped' : 'done')) throw new Error(`job ${summary.name} ended ${summary.state}: ${summary.failure ?? ''}`);
    const history = (JSON.parse(readFileSync(join(o.outDir, 'history.json'), 'utf8')) as RunHistoryJson).steps;
    const reads = metricsTexts.filter((t) => t !== undefined);
    return { summary, history, stopped: stoppedCleanly, loadSeconds, coordinator: coordinatorExit, workers: exits, dataWait, workerReads: reads.length === 0 ? undefined : workerReads(reads) };
  } catch (error) {
    // The kill is what the other processes saw; the limit is why.
    throw overLimit === undefined ? error : new Error(overLimit);
  } finally {
    clearInterval(watchdog);
    clearTimeout(budget);
    clearInterval(poller);
    clearInterval(scraper);
    for (const p of [coordinator, ...workers]) p.kill('SIGKILL');
  }
}

/** /status, or undefined when it cannot be read (not listening yet, or closing). */
async function readStatus(url: string): Promise<StatusReport | undefined> {
  const text = await readText(url, { authorization: `Bearer ${TOKEN}` });
  return text === undefined ? undefined : (JSON.parse(text) as StatusReport);
}

/** A GET's body, or undefined when the server cannot answer (not listening yet, or gone). */
async function readText(url: string, headers: Record<string, string> = {}): Promise<string | undefined> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(2_000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}
