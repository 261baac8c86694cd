/** The cluster lab's printed tables, from its rows (pure: tested without a lab). */
import { CLUSTER_TARGET, shardLabel, type ClusterRow } from './cluster-bound.js';
import type { CpuShares } from './cpu-times.js';
import { formatTable, num } from './table.js';

/** Bytes as MB (10^6). */
const MB = 1e6;

/** A K that was asked for but not run, and why. */
export interface SkippedShards {
  readonly shards: number;
  readonly reason: string;
}

/** Step time against the bound, one row per K; a K that did not run is a row of dashes and a line saying why. */
export function boundTable(rows: readonly ClusterRow[], skipped: readonly SkippedShards[] = []): string {
  const yes = (met: boolean): string => (met ? 'yes' : 'no');
  const lines = [
    ...rows.map((r) => ({
      shards: r.shards,
      cells: [
        shardLabel(r.shards),
        String(r.workers),
        num(r.modelBytes / MB, 1),
        String(r.steadySteps),
        num(r.steadyStepSeconds, 2),
        num(r.boundSeconds, 2),
        `${num(r.ratio, 2)}x`,
        yes(r.targetMet),
        num(r.measuredBoundSeconds, 2),
        `${num(r.measuredRatio, 2)}x`,
        yes(r.measuredTargetMet),
      ],
    })),
    ...skipped.map((s) => ({ shards: s.shards, cells: [shardLabel(s.shards), ...Array<string>(10).fill('-')] })),
  ].sort((a, b) => a.shards - b.shards);
  const table = formatTable(
    ['K shards', 'workers', 'model MB', 'steady steps', 'step s', 'bound s', '÷ bound', `≤ ${CLUSTER_TARGET}x`, 'bound s (measured B)', '÷ bound', `≤ ${CLUSTER_TARGET}x`],
    lines.map((l) => l.cells),
  );
  return [table, ...skipped.map((s) => `K = ${s.shards}: not run: ${s.reason}`)].join('\n');
}

/** Bytes through one group of hosts' shapers in one run, per step. */
export interface TrafficRow {
  readonly shards: number;
  readonly steps: number;
  /** Sent and received bytes of the coordinator's host, of each shard host, of each worker host, over the whole run. */
  readonly coordinator: { readonly sent: number; readonly received: number };
  readonly shardHosts: readonly { readonly sent: number; readonly received: number }[];
  readonly workerHosts: readonly { readonly sent: number; readonly received: number }[];
  /** Packets the shapers dropped during the run, all hosts. */
  readonly dropped: number;
  readonly peakRssBytes: { readonly coordinator: number; readonly shards: readonly number[]; readonly workers: readonly number[] };
  /** The machine's CPU over the steady steps: busy (the lab's and any other work) and used by the job's processes. */
  readonly cpu: CpuShares | undefined;
}

/** Where the bytes went (MB per step, all steps, headers included), how busy the CPUs were, each process's peak RSS. */
export function trafficTable(rows: readonly TrafficRow[]): string {
  const perStep = (bytes: number, steps: number): string => num(bytes / steps / MB, 0);
  const pair = (t: { sent: number; received: number }, steps: number): string => `${perStep(t.sent, steps)} / ${perStep(t.received, steps)}`;
  const list = (xs: readonly number[]): string => (xs.length === 0 ? '-' : xs.map((x) => num(x / MB, 0)).join(' / '));
  return formatTable(
    ['K shards', 'coordinator host out / in', 'each shard host out / in', 'each worker host out / in', 'drops', 'CPU busy / job', 'RSS MB: coordinator', 'shards', 'workers'],
    rows.map((r) => [
      shardLabel(r.shards),
      pair(r.coordinator, r.steps),
      r.shardHosts.length === 0 ? '-' : r.shardHosts.map((h) => pair(h, r.steps)).join(', '),
      r.workerHosts.map((h) => pair(h, r.steps)).join(', '),
      String(r.dropped),
      r.cpu === undefined ? '-' : `${num(r.cpu.busy * 100, 0)}% / ${num(r.cpu.processes * 100, 0)}%`,
      num(r.peakRssBytes.coordinator / MB, 0),
      list(r.peakRssBytes.shards),
      list(r.peakRssBytes.workers),
    ]),
  );
}
