import { spawn, type ChildProcess } from 'node:child_process';
import { readPeakRss } from './peak-rss.js';

/** How often a child's peak RSS (VmHWM) is sampled, ms: what a peak in the last interval before exit can miss. */
export const RSS_POLL_MS = 200;
/** Lines of a child's stderr kept to explain a failure. */
const TAIL_LINES = 20;

/** How a watched child ended. */
export interface WatchedExit {
  readonly label: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when it was killed for running past its time limit. */
  readonly timedOut: boolean;
  /** Highest VmHWM seen while it ran, bytes (0 if never read). */
  readonly peakRssBytes: number;
  readonly seconds: number;
  readonly stdout: string;
  readonly stderrTail: readonly string[];
}

export interface WatchOptions {
  /** Shown in errors. */
  readonly label: string;
  /** Killed (SIGKILL) after this many ms. */
  readonly timeoutMs: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Called with every stderr line as it arrives. */
  readonly onStderrLine?: (line: string) => void;
  /** Called with every stdout line as it arrives (stdout is collected either way). */
  readonly onStdoutLine?: (line: string) => void;
  /**
   * Runs node under this command, e.g. `['ip', 'netns', 'exec', NS]`. It must
   * exec node (as `ip netns exec` does) so that the pid, the peak RSS and the
   * kill signal are node's. Default: none, node is started directly.
   */
  readonly launcher?: readonly string[];
}

/** A `node` child whose peak RSS is sampled every RSS_POLL_MS and whose life is bounded. */
export interface WatchedProcess {
  readonly pid: number;
  readonly exited: Promise<WatchedExit>;
  kill(signal?: NodeJS.Signals): void;
}

const live = new Set<ChildProcess>();

/** Kills (SIGKILL) every watched child still running: for cleanup on errors and signals. */
export function killWatchedChildren(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** Starts `node ...args` with stdout collected, stderr's last lines kept, its peak RSS polled and a time limit. */
export function spawnWatched(args: readonly string[], o: WatchOptions): WatchedProcess {
  const started = performance.now();
  // Children run with this process's V8 heap flags (the bench scripts set the one dtrain's own scripts use).
  const [command, ...launcherArgs] = [...(o.launcher ?? []), process.execPath];
  const child = spawn(command ?? process.execPath, [...launcherArgs, ...heapFlags(), ...args], { env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const pid = child.pid ?? -1;
  let peak = 0;
  const sample = (): void => {
    const rss = readPeakRss(pid);
    if (rss !== undefined && rss > peak) peak = rss;
  };
  const poll = setInterval(sample, RSS_POLL_MS);
  let timedOut = false;
  const limit = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, o.timeoutMs);
  let stdout = '';
  let stdoutPartial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    if (o.onStdoutLine === undefined) return;
    const lines = (stdoutPartial + chunk).split('\n');
    stdoutPartial = lines.pop() ?? '';
    for (const line of lines) o.onStdoutLine(line);
  });
  const tail: string[] = [];
  let partial = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      o.onStderrLine?.(line);
      tail.push(line);
    }
    if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
  });
  const exited = new Promise<WatchedExit>((resolve, reject) => {
    child.once('error', (error) => {
      clearInterval(poll);
      clearTimeout(limit);
      live.delete(child);
      reject(error);
    });
    // 'exit' can come before stdio is drained; 'close' comes after both.
    child.once('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(limit);
      live.delete(child);
      if (partial !== '') tail.push(partial);
      resolve({ label: o.label, code, signal, timedOut, peakRssBytes: peak, seconds: (performance.now() - started) / 1000, stdout, stderrTail: tail.slice(-TAIL_LINES) });
    });
  });
  // By 'exit' the process is reaped and /proc/<pid> is gone: the last poll is the last reading.
  sample();
  return { pid, exited, kill: (signal = 'SIGTERM') => child.kill(signal) };
}

/** Throws a readable error unless the child exited 0. */
export function expectSuccess(exit: WatchedExit): WatchedExit {
  if (exit.code === 0) return exit;
  const why = exit.timedOut ? `killed after its time limit (${exit.seconds.toFixed(0)} s)` : `exited with ${exit.code ?? exit.signal ?? '?'}`;
  throw new Error(`${exit.label} ${why}; its last lines:\n${exit.stderrTail.map((l) => `  ${l}`).join('\n')}`);
}

/** The V8 heap-sizing flags this process was started with; nothing else (a test runner's or --inspect). */
export function heapFlags(): string[] {
  return process.execArgv.filter((flag) => /^--(initial|max)-(old|semi)-space-size=\d+$/.test(flag));
}
