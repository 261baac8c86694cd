import { join } from 'node:path';
import { dtrain, freePort, getJson, waitFor, type Proc } from './harness.js';

/** /status as the tests read it. */
export interface Status {
  state: string;
  epoch: number;
  step: number;
  version: number;
  samples: number;
  lastLoss: number | null;
  failure: string | null;
  workers: { id: number; state: string; stepsApplied: number; benched: boolean }[];
  rejected: Record<string, number>;
  shards: { index: number; state: 'embedded' | 'connected' | 'missing'; url: string | null; start: number; end: number }[];
}

/**
 * A coordinator process and any number of worker processes on loopback,
 * started and signalled the way an operator (or Kubernetes) would.
 */
export class Cluster {
  readonly token = 'cluster-token';
  readonly workers: Proc[] = [];
  /** Shard processes by index (the latest one started for each). */
  readonly shards: Proc[] = [];
  readonly #shardPorts: number[] = [];
  coordinator!: Proc;
  port!: number;

  constructor(
    readonly config: string,
    readonly dir: string,
  ) {}

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }
  get ledger(): string {
    return join(this.dir, 'ledger.jsonl');
  }
  get out(): string {
    return join(this.dir, 'out');
  }

  /**
   * Starts (or restarts, on the same port) the coordinator and waits for
   * /readyz, or /healthz for one that will not accept workers (a finished job).
   */
  async startCoordinator(extraArgs: readonly string[] = [], probe: 'readyz' | 'healthz' = 'readyz'): Promise<void> {
    this.port ??= await freePort();
    this.coordinator = dtrain(
      ['coordinator', '--config', this.config, '--port', String(this.port), '--host', '127.0.0.1', '--out', this.out, '--ledger', this.ledger, '--backend', 'wasm', ...extraArgs],
      { DTRAIN_TOKEN: this.token },
    );
    await waitFor(`coordinator /${probe}`, async () => ((await fetch(`http://127.0.0.1:${this.port}/${probe}`).catch(() => undefined))?.ok ? true : undefined), 30_000);
  }

  /**
   * Starts a worker; with `record`, it writes every push it sends there
   * (`dtrain worker --record`); with `wrap`, under that command (see `dtrain`).
   */
  startWorker(backend = 'wasm', record?: string, wrap: readonly string[] = []): Proc {
    const worker = dtrain(['worker', '--coordinator', this.url, '--backend', backend, '--reconnect-timeout', '60', ...(record === undefined ? [] : ['--record', record])], { DTRAIN_TOKEN: this.token }, wrap);
    this.workers.push(worker);
    return worker;
  }

  /**
   * Starts (or restarts) `dtrain ps` shard `index` on a loopback port of its
   * own, the same one at every restart (a StatefulSet pod keeps its name).
   */
  async startShard(index: number): Promise<Proc> {
    this.#shardPorts[index] ??= await freePort();
    const port = this.#shardPorts[index] as number;
    const shard = dtrain(['ps', '--coordinator', this.url, '--index', String(index), '--host', '127.0.0.1', '--port', String(port), '--advertise', `ws://127.0.0.1:${port}`], {
      DTRAIN_TOKEN: this.token,
    });
    this.shards[index] = shard;
    return shard;
  }

  async status(): Promise<Status> {
    return getJson<Status>(`http://127.0.0.1:${this.port}/status`, this.token);
  }

  /** Polls /status until `predicate` holds. */
  async until(what: string, predicate: (s: Status) => boolean, timeoutMs = 60_000): Promise<Status> {
    return waitFor(what, async () => {
      const s = await this.status().catch(() => undefined);
      return s !== undefined && predicate(s) ? s : undefined;
    }, timeoutMs);
  }

  activeCount(s: Status): number {
    return s.workers.filter((w) => w.state === 'joined' || w.state === 'training').length;
  }

  /** SIGKILLs everything still running. */
  async stop(): Promise<void> {
    const all = [this.coordinator, ...this.workers, ...this.shards].filter((p): p is Proc => p !== undefined);
    for (const p of all) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(all.map((p) => p.exited));
  }
}

/** A synthetic job whose steps take tens of milliseconds on wasm, so signals land mid-training. */
export function elasticJob(name: string, cluster: Record<string, unknown>, training: Record<string, unknown> = {}, checkpoint: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    model: {
      layers: [
        { type: 'dense', units: 256, activation: 'relu', inputShape: [256], kernelInitializer: 'heNormal' },
        { type: 'dense', units: 128, activation: 'relu', kernelInitializer: 'heNormal' },
        { type: 'dense', units: 8, activation: 'softmax' },
      ],
    },
    dataset: { format: 'synthetic', numSamples: 8000, featureShape: [256], numClasses: 8, seed: 9, validationSplit: 0.05 },
    training: { epochs: 6, batchSize: 128, optimizer: { name: 'adam', learningRate: 0.002 }, loss: 'sparseCategoricalCrossentropy', seed: 4, ...training },
    cluster: { minWorkers: 1, stepTimeoutMs: 3000, heartbeatIntervalMs: 500, heartbeatTimeoutMs: 3000, waitTimeoutMs: 30_000, ...cluster },
    checkpoint: { everySteps: 10, ...checkpoint },
  };
}

/** The first line of a process's stderr matching `pattern`, or undefined. */
export function logMatch(proc: Proc, pattern: RegExp): RegExpMatchArray | undefined {
  for (const line of proc.stderr.split('\n')) {
    const m = line.match(pattern);
    if (m !== null) return m;
  }
  return undefined;
}
