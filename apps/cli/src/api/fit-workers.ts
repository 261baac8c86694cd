import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { heapFlags } from '../local-workers.js';

/**
 * The `dtrain worker` processes `fit({ workers: N })` starts on this machine,
 * as `dtrain train` does, plus what an API caller needs: their process ids,
 * and word when all of them exited before the job ended (a job would
 * otherwise wait `cluster.waitTimeoutMs` for workers that never come).
 */
export class FitWorkers {
  readonly #children: ChildProcess[] = [];
  readonly #tails: string[][] = [];
  #exited = 0;

  /**
   * Starts `count` workers against `url`. Their stderr is kept (last lines)
   * and echoed, prefixed, only with `echo`. `onAllExited` is called once
   * every one of them has exited, with their last lines.
   */
  start(count: number, url: string, opts: { backend: string; token: string; echo: boolean; onAllExited: (lastLines: string[]) => void }): void {
    const main = fileURLToPath(new URL('../main.js', import.meta.url));
    for (let i = 0; i < count; i += 1) {
      const child = spawn(process.execPath, [...heapFlags(), main, 'worker', '--coordinator', url, '--backend', opts.backend], {
        env: { ...process.env, DTRAIN_TOKEN: opts.token },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const tail: string[] = [];
      this.#tails.push(tail);
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        if (opts.echo) process.stderr.write(chunk.replace(/^(?=.)/gm, `[worker ${i}] `));
        tail.push(...chunk.split('\n').filter((l) => l !== '').map((l) => `[worker ${i}] ${l}`));
        if (tail.length > 10) tail.splice(0, tail.length - 10);
      });
      child.once('exit', () => {
        this.#exited += 1;
        if (this.#exited === count) opts.onAllExited(this.#tails.flat());
      });
      this.#children.push(child);
    }
  }

  /** Process ids of the workers started (running or not). */
  pids(): number[] {
    return this.#children.flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
  }

  /**
   * Waits up to `graceMs` for every worker to exit (they do when the job is
   * done), asking them to leave (SIGTERM) first with `leave` (a stopped job
   * does not tell its workers to exit), then kills the rest.
   */
  async stop(graceMs: number, leave: boolean): Promise<void> {
    const running = this.#children.filter((c) => c.exitCode === null && c.signalCode === null);
    if (leave) for (const child of running) child.kill('SIGTERM');
    await Promise.race([
      Promise.all(running.map((c) => new Promise((resolve) => c.once('exit', resolve)))),
      new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
    ]);
    const left = running.filter((c) => c.exitCode === null && c.signalCode === null);
    for (const child of left) child.kill('SIGKILL');
    await Promise.all(left.map((c) => new Promise((resolve) => (c.exitCode === null && c.signalCode === null ? c.once('exit', resolve) : resolve(undefined)))));
  }
}
