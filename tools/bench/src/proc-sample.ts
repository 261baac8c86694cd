import { readFileSync, readdirSync } from 'node:fs';

/** The `VmRSS` (current resident set) line of a /proc/<pid>/status text, bytes; undefined when missing. */
export function parseVmRss(status: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
}

/** One reading of a live process: resident set (VmRSS) and open file descriptors (/proc/PID/fd entries). */
export interface ProcSample {
  /** ms since the epoch */
  readonly at: number;
  readonly rssBytes: number;
  readonly fds: number;
}

/** Reads a process's current RSS and open fd count; undefined once it is gone (or not Linux). */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const rss = parseVmRss(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    return rss === undefined ? undefined : { at: Date.now(), rssBytes: rss, fds };
  } catch {
    return undefined;
  }
}

/** The median of some numbers (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Samples `pid` `count` times, `everyMs` apart; the median RSS and fd count of the readings. */
export async function settledSample(pid: number, count: number, everyMs: number): Promise<{ rssBytes: number; fds: number; samples: ProcSample[] }> {
  const samples: ProcSample[] = [];
  for (let i = 0; i < count; i += 1) {
    const s = sampleProc(pid);
    if (s !== undefined) samples.push(s);
    if (i < count - 1) await new Promise((r) => setTimeout(r, everyMs));
  }
  if (samples.length === 0) throw new Error(`process ${pid} is gone: nothing to sample`);
  return { rssBytes: median(samples.map((s) => s.rssBytes)), fds: median(samples.map((s) => s.fds)), samples };
}
