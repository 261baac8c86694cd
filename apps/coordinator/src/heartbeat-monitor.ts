import { WorkerState, type Membership, type WorkerRecord } from './membership.js';

export interface HeartbeatOptions {
  /** How often every worker is pinged, ms (cluster.heartbeatIntervalMs). */
  readonly intervalMs: number;
  /** An idle worker silent for longer than this is evicted, ms (cluster.heartbeatTimeoutMs). */
  readonly timeoutMs: number;
  readonly membership: Membership;
  /** Sends one ping. */
  readonly ping: (worker: WorkerRecord, sentAt: number) => void;
  readonly evict: (worker: WorkerRecord, reason: string) => void;
}

/**
 * Finds dead and half-open connections between steps: pings every worker
 * each interval and evicts an idle one that has sent nothing for longer than
 * the timeout. A worker holding an assignment is left to the step deadline,
 * because it cannot answer while it computes.
 */
export class HeartbeatMonitor {
  readonly #o: HeartbeatOptions;
  #timer: NodeJS.Timeout | undefined;
  #lastTick = Date.now();

  constructor(options: HeartbeatOptions) {
    this.#o = options;
  }

  start(): void {
    this.#lastTick = Date.now();
    this.#timer = setInterval(() => this.tick(Date.now()), this.#o.intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** One round; public for tests, which pass their own clock. */
  tick(now: number): void {
    // If this process itself was busy (evaluation, GC), nobody could be heard: don't blame the workers.
    const stalled = now - this.#lastTick > 2 * this.#o.intervalMs;
    this.#lastTick = now;
    for (const worker of this.#o.membership.all()) {
      if (stalled) worker.lastSeen = now;
      const silent = now - worker.lastSeen;
      if (silent > this.#o.timeoutMs && worker.state !== WorkerState.training) {
        this.#o.evict(worker, `silent for ${silent} ms (cluster.heartbeatTimeoutMs=${this.#o.timeoutMs})`);
        continue;
      }
      this.#o.ping(worker, now);
    }
  }
}
