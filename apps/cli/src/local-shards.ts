import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { heapFlags } from './local-workers.js';

/** Restarts of one shard process at most, so a shard that cannot start does not loop forever. */
const MAX_RESTARTS = 20;

interface LocalShard {
  readonly index: number;
  readonly port: number;
  child: ChildProcess | undefined;
  restarts: number;
  readonly tail: string[];
}

/**
 * The `dtrain ps` processes `dtrain train --ps-shards K` runs on this
 * machine. Each gets a fixed loopback port, so a shard that dies (SIGKILL,
 * a crash) is restarted at the same URL: the coordinator sets it up again
 * from the last checkpoint and the workers reconnect to it, as Kubernetes
 * would do with a StatefulSet pod.
 */
export class LocalShards {
  readonly #shards: LocalShard[] = [];
  #stopping = false;
  #url = '';
  #token = '';
  #verbose = false;

  async start(count: number, url: string, opts: { token: string; verbose: boolean }): Promise<void> {
    this.#url = url;
    this.#token = opts.token;
    this.#verbose = opts.verbose;
    for (let index = 0; index < count; index += 1) {
      const shard: LocalShard = { index, port: await freePort(), child: undefined, restarts: 0, tail: [] };
      this.#shards.push(shard);
      this.#spawn(shard);
    }
  }

  /** The process ids of the shards now running, by index (tests send them signals). */
  pids(): (number | undefined)[] {
    return this.#shards.map((s) => s.child?.pid);
  }

  /** Waits up to `graceMs` for the shards to exit (they do when the job ends), then kills the rest. */
  async stop(graceMs = 5000): Promise<void> {
    this.#stopping = true;
    const running = this.#shards.map((s) => s.child).filter((c): c is ChildProcess => c !== undefined && c.exitCode === null && c.signalCode === null);
    await Promise.race([
      Promise.all(running.map((c) => new Promise((resolve) => c.once('exit', resolve)))),
      new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
    ]);
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  #spawn(shard: LocalShard): void {
    const main = fileURLToPath(new URL('./main.js', import.meta.url));
    const child = spawn(
      process.execPath,
      [...heapFlags(), main, 'ps', '--coordinator', this.#url, '--index', String(shard.index), '--host', '127.0.0.1', '--port', String(shard.port), '--advertise', `ws://127.0.0.1:${shard.port}`],
      { env: { ...process.env, DTRAIN_TOKEN: this.#token }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    shard.child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (this.#verbose) process.stderr.write(chunk.replace(/^(?=.)/gm, `[shard ${shard.index}] `));
      shard.tail.push(...chunk.split('\n').filter((l) => l !== ''));
      if (shard.tail.length > 20) shard.tail.splice(0, shard.tail.length - 20);
    });
    child.on('exit', (code, signal) => {
      if (this.#stopping || code === 0) return;
      process.stderr.write(`dtrain: local shard ${shard.index} exited with ${code ?? signal}; `);
      if (shard.restarts >= MAX_RESTARTS) {
        process.stderr.write(`not restarting it again (${MAX_RESTARTS} restarts); its last lines:\n`);
        for (const line of shard.tail) process.stderr.write(`  ${line}\n`);
        return;
      }
      shard.restarts += 1;
      process.stderr.write('restarting it (the job rolls back to its last checkpoint)\n');
      this.#spawn(shard);
    });
  }
}

/** A loopback port nobody listens on now (the shard binds it right after; restarts reuse it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
