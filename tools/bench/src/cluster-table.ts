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

/** One run of the lab job with H local steps per round; H = 1 is the synchronous float32 run its K is set against. */
export interface LocalStepsRun {
  readonly shards: number;
  /** training.localSteps, H. */
  readonly localSteps: number;
  /** Steady rounds (steps when H = 1), commit to commit, seconds. */
  readonly roundSeconds: number;
  /** Samples a round trains on: H × workers × batch size (the lab's job is sized so that every round is full). */
  readonly samplesPerRound: number;
  /** Mean bytes one worker host sent and received per round, all rounds (the first, with the data, included). */
  readonly workerSentBytesPerRound: number;
  readonly workerReceivedBytesPerRound: number;
}

/** Steady samples per second of a run. */
export function localStepsSamplesPerSecond(run: LocalStepsRun): number {
  return run.samplesPerRound / run.roundSeconds;
}

/**
 * Each K's local-SGD runs beside its synchronous run: round time, samples/s
 * and the speed-up in samples/s (a round trains on H times the samples of a
 * step), MB a worker host sends and receives per round, and the bytes it
 * sends per sample against synchronous. A K without an H = 1 run is left out.
 */
export function localStepsTable(runs: readonly LocalStepsRun[]): string {
  const lines: string[][] = [];
  for (const shards of [...new Set(runs.map((r) => r.shards))]) {
    const mine = runs.filter((r) => r.shards === shards).sort((a, b) => a.localSteps - b.localSteps);
    const sync = mine.find((r) => r.localSteps === 1);
    if (sync === undefined) continue;
    const sentPerSample = (r: LocalStepsRun): number => r.workerSentBytesPerRound / r.samplesPerRound;
    for (const r of mine) {
      lines.push([
        shardLabel(shards),
        r.localSteps === 1 ? '1 (synchronous)' : String(r.localSteps),
        num(r.roundSeconds, 2),
        String(r.samplesPerRound),
        num(localStepsSamplesPerSecond(r), 0),
        `${num(localStepsSamplesPerSecond(r) / localStepsSamplesPerSecond(sync), 2)}x`,
        `${num(r.workerSentBytesPerRound / MB, 1)} / ${num(r.workerReceivedBytesPerRound / MB, 1)}`,
        `${num(sentPerSample(r) / sentPerSample(sync), 3)}x`,
      ]);
    }
  }
  return formatTable(['K shards', 'H local steps', 'round s', 'samples/round', 'samples/s', 'speed-up', 'worker out / in MB per round', 'worker out bytes/sample'], lines);
}
