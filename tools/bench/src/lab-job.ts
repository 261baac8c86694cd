import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobSummary } from '@dtrain/coordinator';
import type { StepReading } from './cluster-bound.js';
import { readCpuSnapshot, type CpuSnapshot } from './cpu-times.js';
import type { LabHost, NetnsLab } from './netns-lab.js';
import { expectSuccess, type WatchedExit, type WatchedProcess } from './watched-process.js';

/** Ports inside each host's own namespace, so they never collide. */
export const COORDINATOR_PORT = 7070;
export const SHARD_PORT = 7100;
/** How often the step probe reads /metrics. */
const PROBE_INTERVAL_MS = 100;
/** How long shards may take to leave on their own once the coordinator has ended. */
const SHARD_EXIT_GRACE_MS = 10_000;

export interface LabJobOptions {
  readonly lab: NetnsLab;
  /** apps/cli/dist/main.js */
  readonly cli: string;
  readonly configPath: string;
  readonly outDir: string;
  readonly coordinator: LabHost;
  /** One host per `dtrain ps` shard (index = position); empty for the shard embedded in the coordinator. */
  readonly shards: readonly LabHost[];
  readonly workers: readonly LabHost[];
  readonly simulateComputeMs: number;
  readonly token: string;
  /** Every process is killed after this many ms. */
  readonly timeoutMs: number;
}

export interface LabJob {
  readonly summary: JobSummary;
  /** The probe's first reading (once the first step is in) and its last (every step). */
  readonly firstReading: StepReading;
  readonly lastReading: StepReading;
  /** The machine's CPU times and the lab processes' ticks when those two readings arrived. */
  readonly firstCpu: CpuSnapshot;
  readonly lastCpu: CpuSnapshot;
  readonly coordinator: WatchedExit;
  readonly shards: readonly WatchedExit[];
  readonly workers: readonly WatchedExit[];
  /** Shards that were still up after the job and were sent SIGTERM. */
  readonly shardsTerminated: number;
}

/**
 * One job across the lab, every process on its own host as on a real
 * cluster: `dtrain coordinator --linger` on the coordinator's host, a step
 * probe beside it, a `dtrain ps` per shard host, a `dtrain worker
 * --simulate-compute-ms` per worker host. Once the job is done (the
 * coordinator lingers, so its /metrics holds every step) the probe's last
 * reading is taken and the coordinator stopped. Any process failing fails
 * the run at once; everything still running is killed on the way out.
 */
export async function runLabJob(o: LabJobOptions): Promise<LabJob> {
  const env = { ...process.env, DTRAIN_TOKEN: o.token };
  const coordinatorUrl = `ws://${o.coordinator.address}:${COORDINATOR_PORT}`;
  let announce!: () => void;
  const announced = new Promise<void>((resolve) => (announce = resolve));
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const coordinator = o.lab.spawn(
    o.coordinator,
    [o.cli, 'coordinator', '--config', o.configPath, '--port', String(COORDINATOR_PORT), '--host', '0.0.0.0', '--out', o.outDir, '--quiet', '--linger'],
    {
      label: `dtrain coordinator (${o.coordinator.name})`,
      timeoutMs: o.timeoutMs,
      env,
      onStderrLine: (line) => {
        if (/coordinator on ws:\/\//.test(line)) announce();
        if (/serving \/status until SIGTERM \(--linger\)/.test(line)) finish();
      },
    },
  );
  const started: WatchedProcess[] = [coordinator];
  const failed = (p: WatchedProcess, what: string): Promise<never> =>
    p.exited.then((exit) => {
      expectSuccess(exit);
      throw new Error(`${exit.label} exited ${what}`);
    });
  try {
    await Promise.race([announced, failed(coordinator, 'before it listened')]);
    const readings: (StepReading & { readonly cpu: CpuSnapshot })[] = [];
    const probe = o.lab.spawn(o.coordinator, [script('step-probe.js'), `http://127.0.0.1:${COORDINATOR_PORT}/metrics`, String(PROBE_INTERVAL_MS)], {
      label: 'step probe',
      timeoutMs: o.timeoutMs,
      // Every process of the job is up by the first step, so each reading's ticks are of the same processes.
      onStdoutLine: (line) => {
        const cpu = readCpuSnapshot(started.filter((p) => p !== probe).map((p) => p.pid));
        try {
          readings.push({ ...(JSON.parse(line) as StepReading), cpu });
        } catch {
          // Not a reading (a runtime warning): the probe prints nothing else on stdout.
        }
      },
    });
    started.push(probe);
    const shards = o.shards.map((host, index) => {
      const args = ['ps', '--coordinator', coordinatorUrl, '--index', String(index), '--host', '0.0.0.0', '--port', String(SHARD_PORT), '--advertise', `ws://${host.address}:${SHARD_PORT}`];
      const p = o.lab.spawn(host, [o.cli, ...args], { label: `dtrain ps ${index} (${host.name})`, timeoutMs: o.timeoutMs, env });
      started.push(p);
      return p;
    });
    const workers = o.workers.map((host, i) => {
      const args = ['worker', '--coordinator', coordinatorUrl, '--quiet', '--simulate-compute-ms', String(o.simulateComputeMs)];
      const p = o.lab.spawn(host, [o.cli, ...args], { label: `dtrain worker ${i} (${host.name})`, timeoutMs: o.timeoutMs, env });
      started.push(p);
      return p;
    });
    // Workers and shards leave (exit 0) when the job is done; one failing, or the lingering coordinator exiting at all, fails the run.
    const workerExits = Promise.all(workers.map((w) => w.exited.then(expectSuccess)));
    const shardFailure = (s: WatchedProcess): Promise<never> => s.exited.then((exit) => (expectSuccess(exit), new Promise<never>(() => undefined)));
    const early = Promise.race([failed(coordinator, 'before the job was done'), ...shards.map(shardFailure)]);
    await Promise.race([Promise.all([finished, workerExits]), early]);
    const summary = JSON.parse(readFileSync(join(o.outDir, 'summary.json'), 'utf8')) as JobSummary;
    if (summary.state !== 'done') throw new Error(`job ${summary.name} ended ${summary.state}: ${summary.failure ?? ''}`);
    const lastReading = await lastProbeReading(readings, summary.steps, probe);
    probe.kill('SIGKILL');
    coordinator.kill('SIGTERM');
    const coordinatorExit = expectSuccess(await coordinator.exited);
    const { exits: shardExits, terminated } = await endShards(shards);
    const first = readings[0];
    if (first === undefined) throw new Error('the step probe read no step');
    const { cpu: firstCpu, ...firstReading } = first;
    const { cpu: lastCpu, ...lastStep } = lastReading;
    return { summary, firstReading, lastReading: lastStep, firstCpu, lastCpu, coordinator: coordinatorExit, shards: shardExits, workers: await workerExits, shardsTerminated: terminated };
  } finally {
    for (const p of started) p.kill('SIGKILL');
  }
}

/** Waits (bounded) for the probe to have read all `steps` steps from the lingering coordinator. */
async function lastProbeReading<R extends StepReading>(readings: readonly R[], steps: number, probe: WatchedProcess): Promise<R> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const last = readings.at(-1);
    if (last !== undefined && last.count >= steps) return last;
    if (performance.now() > deadline) {
      probe.kill('SIGKILL');
      const exit = await probe.exited;
      throw new Error(`the step probe read ${last?.count ?? 0} of ${steps} steps; its last lines:\n${exit.stderrTail.map((l) => `  ${l}`).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Shards are expected to leave on their own once the job is over; one still
 * up after SHARD_EXIT_GRACE_MS gets SIGTERM and may exit 0 or 143 (counted,
 * and shown by the lab).
 */
async function endShards(shards: readonly WatchedProcess[]): Promise<{ exits: WatchedExit[]; terminated: number }> {
  let terminated = 0;
  const exits = await Promise.all(
    shards.map(async (s) => {
      const grace = new Promise<undefined>((r) => setTimeout(() => r(undefined), SHARD_EXIT_GRACE_MS).unref());
      const exit = await Promise.race([s.exited, grace]);
      if (exit !== undefined) return expectSuccess(exit);
      terminated += 1;
      s.kill('SIGTERM');
      const after = await s.exited;
      return after.code === 143 ? after : expectSuccess(after);
    }),
  );
  return { exits, terminated };
}

function script(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}
