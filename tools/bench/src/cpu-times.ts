import { readFileSync } from 'node:fs';

/** The machine's CPU time so far, all cores (Linux /proc/stat), in clock ticks. */
export interface CpuTimes {
  /** Ticks not idle and not waiting for I/O. */
  readonly busy: number;
  readonly total: number;
}

/** The aggregate `cpu` line of a /proc/stat text; undefined without one. */
export function parseCpuTimes(stat: string): CpuTimes | undefined {
  const m = /^cpu\s+(.+)$/m.exec(stat);
  if (m?.[1] === undefined) return undefined;
  // user nice system idle iowait irq softirq steal (guest times are already inside user and nice).
  const fields = m[1].trim().split(/\s+/).slice(0, 8).map(Number);
  if (fields.length < 5 || !fields.every(Number.isFinite)) return undefined;
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** Now's CPU times; undefined where /proc/stat is not readable. */
export function readCpuTimes(): CpuTimes | undefined {
  try {
    return parseCpuTimes(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * User + system clock ticks of one process from its /proc/<pid>/stat text
 * (fields 14 and 15, counted after the parenthesised command name, which may
 * hold spaces); undefined when malformed.
 */
export function parseProcessTicks(stat: string): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return stat.includes(')') && Number.isFinite(ticks) ? ticks : undefined;
}

/** CPU ticks the given processes have used so far (those already gone count 0: read them before they exit). */
export function readProcessTicks(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      ticks += parseProcessTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) ?? 0;
    } catch {
      // Gone.
    }
  }
  return ticks;
}

/** The machine's CPU times and some processes' ticks, read at one moment. */
export interface CpuSnapshot {
  readonly machine: CpuTimes | undefined;
  readonly processTicks: number;
}

export function readCpuSnapshot(pids: readonly number[]): CpuSnapshot {
  return { machine: readCpuTimes(), processTicks: readProcessTicks(pids) };
}

/** Shares of the machine's CPU time between two snapshots, 0..1 (all cores together = 1). */
export interface CpuShares {
  /** Busy, whoever ran. */
  readonly busy: number;
  /** Used by the snapshots' processes. */
  readonly processes: number;
}

/** Undefined without both readings of the machine or without time between them. */
export function cpuShares(from: CpuSnapshot | undefined, to: CpuSnapshot | undefined): CpuShares | undefined {
  const a = from?.machine;
  const b = to?.machine;
  if (from === undefined || to === undefined || a === undefined || b === undefined || b.total <= a.total) return undefined;
  const total = b.total - a.total;
  return { busy: (b.busy - a.busy) / total, processes: (to.processTicks - from.processTicks) / total };
}
