/**
 * The connection storm (issue 11): a real coordinator training a job with
 * real workers, hit by raw clients that send half a handshake and vanish and
 * by a thousand reconnects of the workers themselves, then measured for what
 * it kept: RSS and open file descriptors against its steady state.
 * `connection-storm.ts` is the command line; tests/src/connection-storm.test.ts
 * runs that and checks its JSON.
 */
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { JobSummary } from '@dtrain/coordinator';
import { CuttingProxy, type ProxyCounts } from './cutting-proxy.js';
import { halfClient, halfHandshakeWaves, type HalfOutcome } from './half-handshake.js';
import { median, sampleProc, settledSample, type ProcSample } from './proc-sample.js';
import { formatTable, num } from './table.js';
import { spawnWatched, type WatchedExit, type WatchedProcess } from './watched-process.js';

export interface StormPlan {
  readonly label: string;
  /** Raw clients that send half a handshake and vanish. */
  readonly halfClients: number;
  /** Per wave (started together). */
  readonly perWave: number;
  /** Every n-th raw client completes the upgrade and sends half a frame instead. */
  readonly wsEvery: number;
  /** Raw clients that send half an HTTP upgrade and then stay silent, to see the server close them (its headersTimeout, HTTP_SERVER_LIMITS: 10 s, checked every second). */
  readonly lingerHttp: number;
  /** Raw clients that complete the upgrade, send half a frame and stay silent (heartbeat eviction: seconds). */
  readonly lingerWs: number;
  /** How long a lingering client waits for the server to close it, ms. */
  readonly lingerLimitMs: number;
  /** Reconnects of the real workers (connections the proxy accepts while cutting). */
  readonly reconnects: number;
  readonly workers: number;
  /** A cut connection lives this long after its 101, ms: uniform in [min, max]. */
  readonly shortLifeMs: readonly [number, number];
  /** Every n-th connection while cutting lives `longLifeMs` instead, so steps still commit during the storm. */
  readonly longEvery: number;
  readonly longLifeMs: number;
  /**
   * The job must outlast the storm by about this long, s, at the rate it
   * trained before the storm: once it is within this of its end, long lives
   * stop and short ones are `holdLifeMs`, too short for a step to commit.
   */
  readonly tailSeconds: number;
  readonly holdLifeMs: readonly [number, number];
  /** Epochs of the job (its length). */
  readonly epochs: number;
  /** Seconds of training (after the first step) before the steady baseline is taken: RSS grows while a process warms up. */
  readonly warmSeconds: number;
  /**
   * `dtrain worker --simulate-compute-ms`: each step's compute is a timer, so
   * the job's pace (and so how long it outlasts the storm) does not depend on
   * what else the 2 cores are doing; everything the coordinator does (the
   * optimizer, the data plane, shipping data, evaluation) is real. 0: tfjs.
   */
  readonly simulateComputeMs: number;
  /** Quiet time after the storm before the "after" samples, ms. */
  readonly settleMs: number;
  /** Samples per settled reading and their spacing, ms. */
  readonly samples: number;
  readonly sampleEveryMs: number;
  /** Everything is killed after this, ms. */
  readonly timeoutMs: number;
  /**
   * After the "after" samples, force a full GC in the coordinator (a heap
   * snapshot, which collects first: `--heapsnapshot-signal`) and sample
   * again: tells garbage V8 had not collected yet from memory still held.
   */
  readonly gcProbe?: boolean;
  /**
   * Runs the coordinator with glibc's malloc told to give memory back
   * (GLIBC_RETURNS_MEMORY) rather than keep it in per-thread arenas, so that
   * its RSS after the storm shows what it still holds, not what the
   * allocator kept for later. Measured without (`--default-malloc`), the
   * JS heap and external memory were back to steady but RSS was 1.00x to
   * 1.14x steady from run to run.
   */
  readonly defaultMalloc?: boolean;
  /**
   * A control run: no raw clients, no cuts, just this many seconds of
   * training where the storm would be, then the same settle and samples:
   * how much the RSS drifts over a job without any storm.
   */
  readonly controlSeconds?: number;
}

/** glibc malloc settings for the coordinator (see StormPlan.defaultMalloc); the usual ones for a long-running Node service. */
export const GLIBC_RETURNS_MEMORY: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '65536', MALLOC_TRIM_THRESHOLD_: '131072' };

export const FULL_STORM: StormPlan = {
  label: 'full',
  halfClients: 200,
  perWave: 20,
  wsEvery: 4,
  lingerHttp: 10,
  lingerWs: 10,
  lingerLimitMs: 30_000,
  reconnects: 1000,
  workers: 2,
  shortLifeMs: [10, 60],
  longEvery: 20,
  longLifeMs: 1000,
  tailSeconds: 40,
  holdLifeMs: [2, 8],
  epochs: 70,
  warmSeconds: 12,
  simulateComputeMs: 30,
  settleMs: 10_000,
  samples: 15,
  sampleEveryMs: 500,
  timeoutMs: 290_000,
};

/**
 * Quick: the same 200 raw clients, 300 reconnects, and fewer silent
 * half-handshakes.
 */
export const SHORT_STORM: StormPlan = { ...FULL_STORM, label: 'short', reconnects: 300, lingerHttp: 4, lingerWs: 6, epochs: 50, tailSeconds: 30, settleMs: 8_000, samples: 9, timeoutMs: 200_000 };

const TOKEN = 'dtrain-storm-token';
const NUM_SAMPLES = 8000;
const VALIDATION_SPLIT = 0.05;
const BATCH = 128;

/** The job: a small MLP on synthetic data; steps of tens of ms on wasm. */
export function stormJob(plan: StormPlan): Record<string, unknown> & { name: string } {
  return {
    name: 'connection-storm',
    model: {
      layers: [
        { type: 'dense', units: 256, activation: 'relu', inputShape: [256], kernelInitializer: 'heNormal' },
        { type: 'dense', units: 128, activation: 'relu', kernelInitializer: 'heNormal' },
        { type: 'dense', units: 8, activation: 'softmax' },
      ],
    },
    dataset: { format: 'synthetic', numSamples: NUM_SAMPLES, featureShape: [256], numClasses: 8, seed: 9, validationSplit: VALIDATION_SPLIT },
    training: { epochs: plan.epochs, batchSize: BATCH, optimizer: { name: 'adam', learningRate: 0.002 }, loss: 'sparseCategoricalCrossentropy', seed: 4 },
    // Heartbeats evict a silent connection (a WebSocket that never says hello) within seconds;
    // the wait limit is long: during the storm the job may sit below its workers for a while.
    cluster: { minWorkers: 1, stepTimeoutMs: 5000, heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 4000, waitTimeoutMs: 600_000 },
    checkpoint: { everySteps: 0, keep: 1 },
  };
}

/** One row of the table. */
export interface PhaseRow {
  readonly phase: string;
  readonly rssMB: number;
  /** RSS over the steady RSS. */
  readonly ratio: number;
  readonly fds: number;
  readonly notes: string;
}

export interface StormResult {
  readonly plan: StormPlan;
  readonly rows: readonly PhaseRow[];
  readonly steady: { readonly rssMB: number; readonly fds: number };
  readonly peak: { readonly rssMB: number; readonly fds: number };
  /** Settled after the storm, the job still training with its workers. */
  readonly after: { readonly rssMB: number; readonly fds: number; readonly jobState: string };
  /** Settled after the job ended (coordinator --linger, workers gone). */
  readonly afterDone: { readonly rssMB: number; readonly fds: number };
  /** The coordinator's heap at the steady, after and done readings. */
  readonly heap: { readonly steady: HeapReading | null; readonly after: HeapReading | null; readonly done: HeapReading | null };
  readonly halfClients: {
    readonly total: number;
    readonly sentHalf: number;
    readonly httpHalf: number;
    readonly wsHalfFrame: number;
    /** Answered before the client vanished (e.g. 101 to the ws ones). */
    readonly errors: number;
  };
  readonly lingerers: {
    readonly total: number;
    readonly closedByServer: number;
    /** Longest time from the half to the server closing, per kind, s. */
    readonly httpMaxCloseSeconds: number | null;
    readonly wsMaxCloseSeconds: number | null;
    readonly answers: readonly string[];
  };
  readonly reconnects: number;
  readonly proxy: ProxyCounts;
  readonly stormSeconds: number;
  readonly totalSeconds: number;
  readonly job: { readonly state: string; readonly steps: number; readonly epochs: number; readonly coordinatorExit: number | null; readonly workerExits: readonly (number | null)[] };
  /** Reasons the run fails its checks; empty when it passes. */
  readonly failures: readonly string[];
}

/** Slack on open fds after the storm: a checkpoint file, a log rotation, a lazily opened /dev/urandom. */
export const FD_SLACK = 5;
/** RSS after the storm may be at most this times the steady RSS. */
export const RSS_LIMIT = 1.1;

const MB = 1e6;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Status {
  state: string;
  uptimeSeconds: number;
  epoch: number;
  step: number;
  samples: number;
  workers: { id: number; state: string }[];
}

async function status(port: number): Promise<Status | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/status`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(5_000) });
    return res.ok ? ((await res.json()) as Status) : undefined;
  } catch {
    return undefined;
  }
}

async function until(what: string, port: number, predicate: (s: Status) => boolean, timeoutMs: number, coordinator: WatchedProcess): Promise<Status> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void coordinator.exited.then(() => (exited = true), () => (exited = true));
  for (;;) {
    const s = await status(port);
    if (s !== undefined && predicate(s)) return s;
    if (exited) throw new Error(`the coordinator exited while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what} (last state ${s?.state ?? '?'}, step ${s?.step ?? '?'})`);
    await sleep(250);
  }
}

/** Training (not waiting, not finished). */
const running = (s: Status): boolean => ['running', 'paused', 'evaluating', 'checkpointing'].includes(s.state);
/** The coordinator's V8 heap in use and its external memory (ArrayBuffers), from /metrics (prom-client's default metrics), MB. */
export interface HeapReading {
  readonly heapUsedMB: number;
  readonly heapTotalMB: number;
  readonly externalMB: number;
}

async function heap(port: number): Promise<HeapReading | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(5_000) });
    if (!res.ok) return undefined;
    const text = await res.text();
    const metric = (name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN) / MB;
    return { heapUsedMB: metric('nodejs_heap_size_used_bytes'), heapTotalMB: metric('nodejs_heap_size_total_bytes'), externalMB: metric('nodejs_external_memory_bytes') };
  } catch {
    return undefined;
  }
}

const heapNote = (h: HeapReading | undefined): string => (h === undefined ? 'heap ?' : `heap ${num(h.heapUsedMB, 1)}/${num(h.heapTotalMB, 1)} MB, external ${num(h.externalMB, 1)} MB`);

/** Waits until a finished heap snapshot is in `dir` (its size stable for a second); its file names. */
async function waitForSnapshot(dir: string, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let lastSize = -1;
  while (Date.now() < deadline) {
    const files = readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot'));
    const size = files.reduce((t, f) => t + statSync(join(dir, f)).size, 0);
    if (files.length > 0 && size === lastSize && size > 0) return files;
    lastSize = size;
    await sleep(1_000);
  }
  throw new Error(`no heap snapshot from the coordinator in ${timeoutMs / 1000} s`);
}

const active = (s: Status): number => s.workers.filter((w) => w.state === 'joined' || w.state === 'training').length;

/**
 * Runs the storm once. `cli` is apps/cli/dist/main.js, `work` a folder for the
 * job's config and output. Progress goes to `log` (stderr in the bench).
 */
export async function runStorm(plan: StormPlan, cli: string, work: string, log: (line: string) => void): Promise<StormResult> {
  const started = Date.now();
  const job = stormJob(plan);
  const configPath = join(work, 'storm-job.yaml');
  writeFileSync(configPath, stringify(job));
  const outDir = join(work, 'out');
  const env = { ...process.env, DTRAIN_TOKEN: TOKEN };
  const trainSamples = NUM_SAMPLES - Math.round(NUM_SAMPLES * VALIDATION_SPLIT);
  const progress = (s: Status): number => s.samples / (plan.epochs * trainSamples);

  let announce!: (port: number) => void;
  const announced = new Promise<number>((resolve) => (announce = resolve));
  const coordinator = spawnWatched([cli, 'coordinator', '--config', configPath, '--port', '0', '--host', '127.0.0.1', '--out', outDir, '--linger', '--quiet'], {
    label: 'dtrain coordinator',
    timeoutMs: plan.timeoutMs,
    env: {
      ...env,
      ...(plan.defaultMalloc === true ? {} : GLIBC_RETURNS_MEMORY),
      ...(plan.gcProbe === true ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${work}`.trim() } : {}),
    },
    onStderrLine: (line) => {
      const m = /coordinator on ws:\/\/[^:\s]+:(\d+)/.exec(line);
      if (m?.[1] !== undefined) announce(Number(m[1]));
    },
  });
  const workers: WatchedProcess[] = [];
  let proxy: CuttingProxy | undefined;
  const lingering: Promise<HalfOutcome>[] = [];
  try {
    const port = await Promise.race([
      announced,
      coordinator.exited.then((exit) => {
        throw new Error(`dtrain coordinator exited (${exit.code ?? exit.signal}) before it listened:\n${exit.stderrTail.join('\n')}`);
      }),
    ]);
    proxy = new CuttingProxy(port);
    const proxyPort = await proxy.listen();
    log(`coordinator on port ${port}; ${plan.workers} workers through the cutting proxy on ${proxyPort}`);
    for (let i = 0; i < plan.workers; i += 1) {
      workers.push(
        spawnWatched([
          cli,
          'worker',
          '--coordinator',
          `ws://127.0.0.1:${proxyPort}`,
          '--backend',
          'wasm',
          '--reconnect-timeout',
          '600',
          '--quiet',
          ...(plan.simulateComputeMs > 0 ? ['--simulate-compute-ms', String(plan.simulateComputeMs)] : []),
        ], {
          label: `dtrain worker ${i}`,
          timeoutMs: plan.timeoutMs,
          env,
        }),
      );
    }

    // Steady: every worker training for a while.
    await until(`${plan.workers} workers training`, port, (s) => running(s) && active(s) === plan.workers && s.step >= 1, 60_000, coordinator);
    await sleep(plan.warmSeconds * 1000);
    const warmed = await until(`${plan.workers} workers training`, port, (s) => running(s) && active(s) === plan.workers, 60_000, coordinator);
    const steady = await settledSample(coordinator.pid, plan.samples, plan.sampleEveryMs);
    const steadyStatus = await status(port);
    const steadyHeap = await heap(port);
    // When to hold the job: `tailSeconds` before its end at the rate it trained so far.
    const rate = steadyStatus === undefined ? 0 : (steadyStatus.samples - warmed.samples) / ((steadyStatus.uptimeSeconds - warmed.uptimeSeconds) || 1);
    const totalSamples = plan.epochs * trainSamples;
    const holdAt = Math.min(0.9, Math.max(0.05, 1 - (plan.tailSeconds * rate) / totalSamples));
    log(`steady rate ${num(rate, 0)} samples/s: the storm holds the job at ${num(100 * holdAt, 0)}%`);
    log(`steady: RSS ${num(steady.rssBytes / MB, 1)} MB, ${steady.fds} fds at step ${steadyStatus?.step ?? '?'} (${num(100 * (steadyStatus === undefined ? 0 : progress(steadyStatus)), 0)}% of the job)`);

    // The storm.
    const stormStarted = Date.now();
    const stormSamples: ProcSample[] = [];
    const sampler = setInterval(() => {
      const s = sampleProc(coordinator.pid);
      if (s !== undefined) stormSamples.push(s);
    }, 200);
    let hold = false;
    let lastProgress = 0;
    const watcher = setInterval(() => {
      void status(port).then((s) => {
        if (s === undefined) return;
        lastProgress = progress(s);
        if (lastProgress >= holdAt) hold = true;
      });
    }, 500);
    for (let i = 0; i < plan.lingerHttp + plan.lingerWs; i += 1) {
      lingering.push(halfClient({ port, kind: i < plan.lingerHttp ? 'http-half' : 'ws-half-frame', token: TOKEN, holdMs: 'linger', lingerLimitMs: plan.lingerLimitMs }));
    }
    const acceptedBefore = proxy.counts.accepted;
    const uniform = ([lo, hi]: readonly [number, number]): number => lo + Math.random() * (hi - lo);
    if (plan.reconnects > 0) proxy.cut((i) => (hold ? uniform(plan.holdLifeMs) : i % plan.longEvery === plan.longEvery - 1 ? plan.longLifeMs : uniform(plan.shortLifeMs)));
    const reconnectProgress = setInterval(() => {
      const c = proxy?.counts;
      if (c !== undefined) log(`storm: ${c.accepted - acceptedBefore} reconnects, ${c.cuts} cuts, job ${num(100 * lastProgress, 0)}%${hold ? ' (holding)' : ''}`);
    }, 10_000);
    // Half-handshake waves spread over the first part of the storm, while the workers flap.
    const waves = halfHandshakeWaves({ port, token: TOKEN, clients: plan.halfClients, perWave: plan.perWave, wsEvery: plan.wsEvery, waveGapMs: 1500, holdMs: [20, 400] });
    // The storm lasts until the reconnects are done and every raw client is resolved
    // (the silent ones by the server closing them): the workers keep flapping until then.
    const stormLimit = plan.timeoutMs - (Date.now() - started) - 60_000;
    const reconnected = (async (): Promise<void> => {
      const deadline = Date.now() + stormLimit;
      while (proxy.counts.accepted - acceptedBefore < plan.reconnects) {
        if (Date.now() > deadline) throw new Error(`only ${proxy.counts.accepted - acceptedBefore} of ${plan.reconnects} reconnects in ${Math.round(stormLimit / 1000)} s`);
        await sleep(50);
      }
    })();
    const [halves, lingerOutcomes] = await Promise.all([waves, Promise.all(lingering), reconnected, sleep((plan.controlSeconds ?? 0) * 1000)]);
    proxy.passThrough();
    clearInterval(reconnectProgress);
    const stormSeconds = (Date.now() - stormStarted) / 1000;
    const reconnects = proxy.counts.accepted - acceptedBefore;
    const proxyAtStormEnd = proxy.counts;
    log(`storm over after ${num(stormSeconds, 1)} s: ${halves.length} half-handshake clients, ${reconnects} reconnects`);

    // After: the workers back, lingering clients resolved, a quiet settle, then samples.
    await until(`${plan.workers} workers back`, port, (s) => s.state === 'done' || (running(s) && active(s) === plan.workers), 60_000, coordinator);
    clearInterval(watcher);
    await sleep(plan.settleMs);
    clearInterval(sampler);
    const after = await settledSample(coordinator.pid, plan.samples, plan.sampleEveryMs);
    const afterStatus = await status(port);
    const afterHeap = await heap(port);
    let afterGc: { rssBytes: number; fds: number; heap: HeapReading | undefined } | undefined;
    if (plan.gcProbe === true) {
      coordinator.kill('SIGUSR2');
      const snapshot = await waitForSnapshot(work, 30_000);
      for (const f of snapshot) rmSync(join(work, f), { force: true });
      const s = await settledSample(coordinator.pid, 5, plan.sampleEveryMs);
      afterGc = { rssBytes: s.rssBytes, fds: s.fds, heap: await heap(port) };
      log(`after a forced full GC: RSS ${num(s.rssBytes / MB, 1)} MB, ${heapNote(afterGc.heap)}`);
    }
    log(`after: RSS ${num(after.rssBytes / MB, 1)} MB, ${after.fds} fds, job ${afterStatus?.state ?? '?'} at ${num(100 * (afterStatus === undefined ? 0 : progress(afterStatus)), 0)}%`);

    // The job completes; the coordinator lingers so it can be sampled once more.
    await until('the job to end', port, (s) => s.state === 'done' || s.state === 'failed', plan.timeoutMs - (Date.now() - started) - 10_000, coordinator);
    const workerExits: WatchedExit[] = await Promise.all(workers.map((w) => Promise.race([w.exited, sleep(30_000).then(() => undefined)]))).then((exits) =>
      exits.map((e, i) => e ?? { label: `dtrain worker ${i}`, code: null, signal: null, timedOut: true, peakRssBytes: 0, seconds: 0, stdout: '', stderrTail: [] }),
    );
    await sleep(2_000);
    const afterDone = await settledSample(coordinator.pid, Math.max(3, Math.floor(plan.samples / 2)), plan.sampleEveryMs);
    const doneHeap = await heap(port);
    coordinator.kill('SIGTERM');
    const coordinatorExit = await Promise.race([coordinator.exited, sleep(20_000).then(() => undefined)]);
    const summary = JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8')) as JobSummary;

    const peakRss = Math.max(steady.rssBytes, ...stormSamples.map((s) => s.rssBytes));
    const peakFds = Math.max(steady.fds, ...stormSamples.map((s) => s.fds));
    const ratio = (bytes: number): number => bytes / steady.rssBytes;
    const http = lingerOutcomes.filter((o) => o.kind === 'http-half');
    const ws = lingerOutcomes.filter((o) => o.kind === 'ws-half-frame');
    const maxClose = (outcomes: HalfOutcome[]): number | null => {
      const closed = outcomes.filter((o) => o.closedByServer && o.serverCloseAfterMs !== undefined);
      return closed.length === 0 ? null : Math.max(...closed.map((o) => (o.serverCloseAfterMs as number) / 1000));
    };
    const lingerers = {
      total: lingerOutcomes.length,
      closedByServer: lingerOutcomes.filter((o) => o.closedByServer).length,
      httpMaxCloseSeconds: maxClose(http),
      wsMaxCloseSeconds: maxClose(ws),
      answers: [...new Set(lingerOutcomes.map((o) => o.answer ?? o.error ?? '(nothing)'))],
    };
    const halfClients = {
      total: halves.length,
      sentHalf: halves.filter((o) => o.sentHalf).length,
      httpHalf: halves.filter((o) => o.kind === 'http-half').length,
      wsHalfFrame: halves.filter((o) => o.kind === 'ws-half-frame').length,
      errors: halves.filter((o) => o.error !== undefined).length,
    };
    const stormMedianRss = median(stormSamples.map((s) => s.rssBytes));
    const rows: PhaseRow[] = [
      { phase: 'steady (training, 2 workers)', rssMB: steady.rssBytes / MB, ratio: 1, fds: steady.fds, notes: `median of ${steady.samples.length}, step ${steadyStatus?.step ?? '?'}; ${heapNote(steadyHeap)}; malloc ${plan.defaultMalloc === true ? 'default' : 'MALLOC_ARENA_MAX=2, fixed thresholds'}` },
      { phase: 'storm (peak)', rssMB: peakRss / MB, ratio: ratio(peakRss), fds: peakFds, notes: `${stormSamples.length} samples in ${num(stormSeconds, 0)} s; median RSS ${num(stormMedianRss / MB, 1)} MB` },
      { phase: 'after storm (training)', rssMB: after.rssBytes / MB, ratio: ratio(after.rssBytes), fds: after.fds, notes: `median of ${after.samples.length} after ${num(plan.settleMs / 1000, 0)} s; job ${afterStatus?.state ?? '?'}; ${heapNote(afterHeap)}` },
      ...(afterGc === undefined
        ? []
        : [{ phase: 'after storm, forced full GC', rssMB: afterGc.rssBytes / MB, ratio: ratio(afterGc.rssBytes), fds: afterGc.fds, notes: `heap snapshot (collects first); ${heapNote(afterGc.heap)}` }]),
      { phase: 'job done (--linger)', rssMB: afterDone.rssBytes / MB, ratio: ratio(afterDone.rssBytes), fds: afterDone.fds, notes: `workers gone; summary ${summary.state}; ${heapNote(doneHeap)}` },
    ];
    const failures: string[] = [];
    if (summary.state !== 'done') failures.push(`job ended ${summary.state}: ${summary.failure ?? ''}`);
    if (workerExits.some((e) => e.code !== 0)) failures.push(`worker exits ${workerExits.map((e) => e.code ?? e.signal ?? 'timeout').join(', ')}`);
    if (reconnects < plan.reconnects) failures.push(`only ${reconnects} of ${plan.reconnects} reconnects`);
    if (halfClients.sentHalf < halfClients.total) failures.push(`only ${halfClients.sentHalf} of ${halfClients.total} half-handshake clients got to send their half`);
    if (lingerers.closedByServer < lingerers.total) failures.push(`the server kept ${lingerers.total - lingerers.closedByServer} of ${lingerers.total} silent half-handshake connections open for ${plan.lingerLimitMs / 1000} s`);
    if (after.fds > steady.fds + FD_SLACK) failures.push(`open fds after the storm ${after.fds} > steady ${steady.fds} + ${FD_SLACK}`);
    if (afterDone.fds > steady.fds + FD_SLACK) failures.push(`open fds after the job ${afterDone.fds} > steady ${steady.fds} + ${FD_SLACK}`);
    if (after.rssBytes > RSS_LIMIT * steady.rssBytes) failures.push(`RSS after the storm ${num(after.rssBytes / MB, 1)} MB > ${RSS_LIMIT} x steady ${num(steady.rssBytes / MB, 1)} MB`);
    if (afterStatus === undefined || !running(afterStatus)) failures.push(`the job was ${afterStatus?.state ?? '?'} (not training) when the after-storm samples were taken: make it longer`);
    return {
      plan,
      rows,
      steady: { rssMB: steady.rssBytes / MB, fds: steady.fds },
      peak: { rssMB: peakRss / MB, fds: peakFds },
      after: { rssMB: after.rssBytes / MB, fds: after.fds, jobState: afterStatus?.state ?? '?' },
      afterDone: { rssMB: afterDone.rssBytes / MB, fds: afterDone.fds },
      heap: { steady: steadyHeap ?? null, after: afterHeap ?? null, done: doneHeap ?? null },
      halfClients,
      lingerers,
      reconnects,
      proxy: proxyAtStormEnd,
      stormSeconds,
      totalSeconds: (Date.now() - started) / 1000,
      job: { state: summary.state, steps: summary.steps, epochs: summary.epochs, coordinatorExit: coordinatorExit?.code ?? null, workerExits: workerExits.map((e) => e.code) },
      failures,
    };
  } finally {
    await proxy?.close();
    for (const p of [coordinator, ...workers]) p.kill('SIGKILL');
  }
}

/** The readable report: the phase table, then the counts. */
export function stormReport(r: StormResult): string {
  const table = formatTable(
    ['phase', 'coordinator RSS MB', 'ratio to steady', 'open fds', 'notes'],
    r.rows.map((row) => [row.phase, num(row.rssMB, 1), num(row.ratio, 3), String(row.fds), row.notes]),
  );
  const l = r.lingerers;
  const counts = [
    `half-handshake clients: ${r.halfClients.total} (${r.halfClients.httpHalf} half an HTTP upgrade, ${r.halfClients.wsHalfFrame} upgraded + half a frame), ${r.halfClients.sentHalf} sent their half and vanished`,
    `silent half-handshake clients: ${l.closedByServer} of ${l.total} closed by the server (HTTP half: within ${l.httpMaxCloseSeconds === null ? '-' : num(l.httpMaxCloseSeconds, 1)} s, WebSocket half frame: within ${l.wsMaxCloseSeconds === null ? '-' : num(l.wsMaxCloseSeconds, 1)} s; answers: ${l.answers.join(' | ')})`,
    `worker reconnects: ${r.reconnects} (target ${r.plan.reconnects}; proxy accepted ${r.proxy.accepted}, cut ${r.proxy.cuts}, upgrades ${r.proxy.upgrades}) in a ${num(r.stormSeconds, 1)} s storm`,
    `job: ${r.job.state}, ${r.job.epochs} epochs, ${r.job.steps} steps; worker exits ${r.job.workerExits.join(', ')}; coordinator exit ${r.job.coordinatorExit ?? '?'}; ${num(r.totalSeconds, 0)} s in all`,
    r.failures.length === 0 ? `PASS: fds after <= steady + ${FD_SLACK}, RSS after <= ${RSS_LIMIT} x steady, job done` : `FAIL: ${r.failures.join('; ')}`,
  ];
  return `${table}\n\n${counts.join('\n')}`;
}
