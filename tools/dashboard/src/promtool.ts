import { execFile, execFileSync } from 'node:child_process';

/**
 * Runs Prometheus's `promtool`. It comes with the `prometheus` package
 * (Debian: `apt-get install prometheus`; .ci/run installs it when missing);
 * callers skip loudly when `havePromtool()` is false.
 */

/** Whether `promtool` is on PATH. */
export function havePromtool(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** What one promtool run did. */
export interface PromtoolResult {
  /** Exit code (0 = success). */
  readonly code: number;
  /** stdout and stderr together, for failure messages. */
  readonly output: string;
}

/**
 * `promtool ARGS…` in `cwd` (rule and test files name each other relative
 * to it). Never rejects on a failing check: the exit code is the result.
 */
export function promtool(args: readonly string[], cwd: string): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    execFile('promtool', [...args], { cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (error === null) return resolve({ code: 0, output });
      if (typeof error.code === 'number') return resolve({ code: error.code, output });
      reject(new Error(`promtool ${args.join(' ')}: ${error.message}`));
    });
  });
}
