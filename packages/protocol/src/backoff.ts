/**
 * Capped exponential backoff with full jitter, for reconnecting to a
 * coordinator (or a shard) that restarted: attempt n waits a random time in
 * [0, min(capMs, baseMs * 2^n)].
 */
export interface BackoffOptions {
  /** First ceiling, ms; default 250. */
  readonly baseMs?: number;
  /** Largest ceiling, ms; default 10000. */
  readonly capMs?: number;
  /** Random source in [0, 1); default Math.random. */
  readonly random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 250;
  const cap = options.capMs ?? 10_000;
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 30));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}
