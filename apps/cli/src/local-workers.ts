import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Worker processes started by `dtrain train` on this machine. */
export class LocalWorkers {
  readonly #children: ChildProcess[] = [];
  readonly #tails = new Map<ChildProcess, string[]>();

  /**
   * Starts `count` `dtrain worker` processes against `url`. Their logs are
   * kept (last lines) and shown only if one fails, unless `verbose`. With
   * `metrics`, each serves /metrics on a free loopback port and the URL it
   * prints is passed on (off by default: local workers are usually watched
   * through the coordinator's metrics). With `recordDir`, worker i records
   * its pushes in `recordDir/worker-<i>.jsonl` (`dtrain worker --record`).
   */
  start(count: number, url: string, opts: { backend: string; token: string; verbose: boolean; metrics?: boolean; recordDir?: string }): void {
    const main = fileURLToPath(new URL('./main.js', import.meta.url));
    const metricsFlags = opts.metrics === true ? ['--metrics-port', '0', '--metrics-host', '127.0.0.1'] : [];
    for (let i = 0; i < count; i += 1) {
      const recordFlags = opts.recordDir === undefined ? [] : ['--record', join(opts.recordDir, `worker-${i}.jsonl`)];
      const child = spawn(process.execPath, [...heapFlags(), main, 'worker', '--coordinator', url, '--backend', opts.backend, ...metricsFlags, ...recordFlags], {
        env: { ...process.env, DTRAIN_TOKEN: opts.token },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const tail: string[] = [];
      this.#tails.set(child, tail);
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        if (opts.verbose) process.stderr.write(chunk.replace(/^(?=.)/gm, `[worker ${i}] `));
        else for (const m of chunk.matchAll(/^dtrain worker: (metrics \S+)$/gm)) process.stderr.write(`dtrain: local worker ${i} ${m[1] ?? ''}\n`);
        tail.push(...chunk.split('\n').filter((l) => l !== ''));
        if (tail.length > 20) tail.splice(0, tail.length - 20);
      });
      child.on('exit', (code, signal) => {
        if (code !== 0 && code !== null && !opts.verbose) {
          process.stderr.write(`dtrain: local worker ${i} exited with ${code}${signal === null ? '' : ` (${signal})`}; its last lines:\n`);
          for (const line of tail) process.stderr.write(`  ${line}\n`);
        }
      });
      this.#children.push(child);
    }
  }

  /**
   * Waits up to `graceMs` for every worker to exit (they do when the job
   * ends), then kills the rest. With `leave`, asks them to leave first
   * (SIGTERM), as when the job was stopped rather than finished.
   */
  async stop(graceMs = 5000, leave = false): Promise<void> {
    const running = this.#children.filter((c) => c.exitCode === null && c.signalCode === null);
    if (leave) for (const child of running) child.kill('SIGTERM');
    await Promise.race([
      Promise.all(running.map((c) => new Promise((resolve) => c.once('exit', resolve)))),
      new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
    ]);
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/**
 * The V8 heap-sizing flags this process was started with (e.g. the scripts'
 * --initial-old-space-size), for its workers too. Only those: --inspect or
 * --cpu-prof would collide or multiply.
 */
export function heapFlags(): string[] {
  return process.execArgv.filter((flag) => /^--(initial|max)-(old|semi)-space-size=\d+$/.test(flag));
}
