/**
 * A worker's idle time between sending its gradients and receiving the
 * next assignment. What it does in between — applying the new weights,
 * storing data chunks — is work, not waiting, and is subtracted, so the
 * figure is time the worker could have computed but had nothing to do
 * (the synchronisation cost as one worker sees it).
 */
export class IdleClock {
  #since: number | undefined;
  #busyMs = 0;

  /** Gradients sent: idle from now (ms, `performance.now()` clock). */
  start(now: number = performance.now()): void {
    this.#since = now;
    this.#busyMs = 0;
  }

  /** Work done while the clock runs (ignored when it does not). */
  busy(ms: number): void {
    if (this.#since !== undefined) this.#busyMs += ms;
  }

  /** An assignment arrived: seconds idle since `start`, or undefined when not started; stops the clock. */
  stop(now: number = performance.now()): number | undefined {
    const since = this.#since;
    this.#since = undefined;
    if (since === undefined) return undefined;
    return Math.max(0, now - since - this.#busyMs) / 1000;
  }

  /** Forget a running interval (disconnect, new welcome): it measured no step. */
  reset(): void {
    this.#since = undefined;
  }
}
