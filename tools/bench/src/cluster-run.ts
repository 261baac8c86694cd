import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobSummary } from '@dtrain/coordinator';
import { expectSuccess, spawnWatched, type WatchedExit, type WatchedProcess } from './watched-process.js';

export interface ClusterRunOptions {
  /** apps/cli/dist/main.js */
  readonly cli: string;
  readonly configPath: string;
  readonly outDir: string;
  readonly workers: number;
  /** Extra `dtrain worker` flags, e.g. ['--simulate-compute-ms', '50'] or ['--backend', 'wasm']. */
  readonly workerArgs: readonly string[];
  /** Every process is killed after this many ms. */
  readonly timeoutMs: number;
  /** `dtrain ps` processes to start (the job config's cluster.psShards must say as many); default 0. */
  readonly shards?: number;
}

export interface ClusterRun {
  readonly summary: JobSummary;
  readonly coordinator: WatchedExit;
  readonly workers: readonly WatchedExit[];
  readonly shards: readonly WatchedExit[];
}

const TOKEN = 'dtrain-bench-token';

/**
 * Runs one job as separate processes, as a user would: `dtrain coordinator`
 * on a free loopback port, then `workers` × `dtrain worker` against it, each
 * watched for peak RSS and bounded in time. Resolves with summary.json once
 * all have exited 0; otherwise kills the rest and rejects with the failing
 * process's last lines.
 */
export async function runCluster(o: ClusterRunOptions): Promise<ClusterRun> {
  const env = { ...process.env, DTRAIN_TOKEN: TOKEN };
  let announce!: (url: string) => void;
  const announced = new Promise<string>((resolve) => (announce = resolve));
  const coordinator = spawnWatched([o.cli, 'coordinator', '--config', o.configPath, '--port', '0', '--host', '127.0.0.1', '--out', o.outDir, '--quiet'], {
    label: 'dtrain coordinator',
    timeoutMs: o.timeoutMs,
    env,
    onStderrLine: (line) => {
      const m = /coordinator on (ws:\/\/[^,\s]+)/.exec(line);
      if (m?.[1] !== undefined) announce(m[1]);
    },
  });
  const started: WatchedProcess[] = [coordinator];
  try {
    const url = await Promise.race([
      announced,
      coordinator.exited.then((exit) => {
        expectSuccess(exit);
        throw new Error('dtrain coordinator exited before it listened');
      }),
    ]);
    const shards: WatchedProcess[] = [];
    for (let i = 0; i < (o.shards ?? 0); i += 1) {
      const shard = spawnWatched([o.cli, 'ps', '--coordinator', url, '--index', String(i), '--host', '127.0.0.1', '--port', '0', '--quiet'], { label: `dtrain ps ${i}`, timeoutMs: o.timeoutMs, env });
      shards.push(shard);
      started.push(shard);
    }
    for (let i = 0; i < o.workers; i += 1) {
      started.push(spawnWatched([o.cli, 'worker', '--coordinator', url, '--quiet', ...o.workerArgs], { label: `dtrain worker ${i}`, timeoutMs: o.timeoutMs, env }));
    }
    // Any failure fails the run at once rather than waiting for the others' time limits.
    const exits = await Promise.all(started.map((p) => p.exited.then(expectSuccess)));
    const summary = JSON.parse(readFileSync(join(o.outDir, 'summary.json'), 'utf8')) as JobSummary;
    if (summary.state !== 'done') throw new Error(`job ${summary.name} ended ${summary.state}: ${summary.failure ?? ''}`);
    const [coordinatorExit, ...rest] = exits;
    if (coordinatorExit === undefined) throw new Error('unreachable: no coordinator exit');
    return { summary, coordinator: coordinatorExit, shards: rest.slice(0, shards.length), workers: rest.slice(shards.length) };
  } finally {
    for (const p of started) p.kill('SIGKILL');
  }
}
