import { readFileSync } from 'node:fs';

/**
 * The `VmHWM` (peak resident set) line of a /proc/<pid>/status text, in
 * bytes; undefined when the line is missing (not Linux, or a zombie).
 */
export function parseVmHwm(status: string): number | undefined {
  const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
}

/** A process's peak resident set so far (Linux VmHWM), in bytes; undefined once it is gone. */
export function readPeakRss(pid: number): number | undefined {
  try {
    return parseVmHwm(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}
