import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { spawnWatched, type WatchedExit, type WatchedProcess } from './watched-process.js';

/** The chaos soak's processes: one coordinator, K shards, N workers, all on loopback, with what happened to each. */
export interface ChaosClusterOptions {
  /** apps/cli/dist/main.js */
  readonly cli: string;
  /** Where logs, records, the ledger and the job's output go. */
  readonly dir: string;
  readonly configPath: string;
  readonly token: string;
  readonly shards: number;
  /** Every process is SIGKILLed after this long. */
  readonly timeoutMs: number;
}

/** One `dtrain worker` process. */
export interface WorkerSlot {
  readonly index: number;
  readonly process: WatchedProcess;
  /** Its `--record` file. */
  readonly record: string;
  /** Between SIGSTOP and SIGCONT. */
  stopped: boolean;
  /** Signalled to go (SIGKILL/SIGTERM) or exited. */
  gone: boolean;
}

/** A free loopback TCP port (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export class ChaosCluster {
  readonly #o: ChaosClusterOptions;
  readonly #logs: WriteStream;
  readonly #t0 = Date.now();
  readonly port: number;
  readonly shardPorts: readonly number[];
  readonly workers: WorkerSlot[] = [];
  readonly shardProcesses: WatchedProcess[] = [];
  coordinator!: WatchedProcess;
  /** Coordinator processes started (1 + restarts). */
  coordinatorStarts = 0;

  private constructor(o: ChaosClusterOptions, port: number, shardPorts: readonly number[]) {
    this.#o = o;
    this.port = port;
    this.shardPorts = shardPorts;
    this.#logs = createWriteStream(join(o.dir, 'processes.log'));
  }

  static async create(o: ChaosClusterOptions): Promise<ChaosCluster> {
    const port = await freePort();
    const shardPorts: number[] = [];
    for (let i = 0; i < o.shards; i += 1) shardPorts.push(await freePort());
    return new ChaosCluster(o, port, shardPorts);
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }
  get ledger(): string {
    return join(this.#o.dir, 'ledger.jsonl');
  }
  get outDir(): string {
    return join(this.#o.dir, 'out');
  }
  get records(): string[] {
    return this.workers.map((w) => w.record);
  }

  /** Starts (or starts again, on the same port: it resumes from its newest checkpoint) the coordinator. */
  startCoordinator(): WatchedProcess {
    this.coordinatorStarts += 1;
    const label = `coordinator#${this.coordinatorStarts}`;
    this.coordinator = this.#spawn(label, ['coordinator', '--config', this.#o.configPath, '--port', String(this.port), '--host', '127.0.0.1', '--out', this.outDir, '--ledger', this.ledger, '--backend', 'wasm']);
    return this.coordinator;
  }

  startShards(): void {
    this.shardPorts.forEach((port, index) => {
      this.shardProcesses.push(
        this.#spawn(`ps#${index}`, ['ps', '--coordinator', this.url, '--index', String(index), '--host', '127.0.0.1', '--port', String(port), '--advertise', `ws://127.0.0.1:${port}`, '--reconnect-timeout', '300']),
      );
    });
  }

  startWorker(): WorkerSlot {
    const index = this.workers.length;
    const record = join(this.#o.dir, `worker-${index}.jsonl`);
    const process = this.#spawn(`worker#${index}`, ['worker', '--coordinator', this.url, '--backend', 'wasm', '--reconnect-timeout', '300', '--record', record]);
    const slot: WorkerSlot = { index, process, record, stopped: false, gone: false };
    void process.exited.then(() => (slot.gone = true));
    this.workers.push(slot);
    return slot;
  }

  /** A worker with the wrong token: it must be refused (exit 3) and change nothing. */
  startWrongTokenWorker(): WatchedProcess {
    return this.#spawn('worker-wrong-token', ['worker', '--coordinator', this.url, '--backend', 'wasm', '--reconnect-timeout', '10'], 'not-the-job-token');
  }

  /** Workers that are running and not stopped: the ones a fault may pick. */
  liveWorkers(): WorkerSlot[] {
    return this.workers.filter((w) => !w.gone && !w.stopped);
  }

  /** Every process still running. */
  running(): WatchedProcess[] {
    return [this.coordinator, ...this.shardProcesses, ...this.workers.filter((w) => !w.gone).map((w) => w.process)];
  }

  /** SIGCONTs what is stopped and SIGKILLs everything. */
  killAll(): void {
    for (const w of this.workers) if (w.stopped) w.process.kill('SIGCONT');
    for (const p of this.running()) p.kill('SIGKILL');
  }

  /**
   * After the job's end: waits up to `graceMs` for every shard and worker to
   * exit by itself (they do when the coordinator says the job is complete),
   * then SIGTERMs the rest (a replacement started just as the job ended never
   * heard of it and would keep dialling for its reconnect timeout, as a pod
   * of a worker Deployment does), then SIGKILLs what is left after `graceMs`
   * more. Their exits, and how many needed the SIGTERM.
   */
  async drain(graceMs: number): Promise<{ shards: WatchedExit[]; workers: WatchedExit[]; terminated: number }> {
    for (const w of this.workers) if (w.stopped) w.process.kill('SIGCONT');
    const all = [...this.shardProcesses, ...this.workers.map((w) => w.process)];
    const exited = new Set<WatchedProcess>();
    const exits = Promise.all(
      all.map(async (p) => {
        const exit = await p.exited;
        exited.add(p);
        return exit;
      }),
    );
    let terminated = 0;
    const term = setTimeout(() => {
      for (const p of all) {
        if (exited.has(p)) continue;
        terminated += 1;
        p.kill('SIGTERM');
      }
    }, graceMs);
    const kill = setTimeout(() => this.killAll(), 2 * graceMs);
    try {
      const done = await exits;
      return { shards: done.slice(0, this.shardProcesses.length), workers: done.slice(this.shardProcesses.length), terminated };
    } finally {
      clearTimeout(term);
      clearTimeout(kill);
      this.#logs.end();
    }
  }

  #spawn(label: string, args: readonly string[], token = this.#o.token): WatchedProcess {
    return spawnWatched([this.#o.cli, ...args], {
      label,
      timeoutMs: this.#o.timeoutMs,
      env: { ...process.env, DTRAIN_TOKEN: token },
      onStderrLine: (line) => this.#logs.write(`${((Date.now() - this.#t0) / 1000).toFixed(1).padStart(6)} ${label}: ${line}\n`),
    });
  }
}
