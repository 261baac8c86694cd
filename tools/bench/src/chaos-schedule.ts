/**
 * The chaos soak's seeded fault plan: which fault comes next and when, from
 * a seed alone, so a run that found a bug can be repeated fault for fault.
 */

/** The recurring faults, drawn as from a shuffled deck: every kind once in each run of four. */
export const FAULT_KINDS = ['kill-worker', 'stop-worker', 'term-worker', 'restart-coordinator'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The faults injected once per run, between two recurring ones. */
export const ONCE_KINDS = ['garbage-frames', 'wrong-token'] as const;
export type OnceKind = (typeof ONCE_KINDS)[number];

export type AnyFault = FaultKind | OnceKind;

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PlannedFault {
  /** Wait this long after the previous fault was injected. */
  readonly delayMs: number;
  readonly kind: AnyFault;
}

export interface ScheduleOptions {
  readonly seed: number;
  /** Mean time between recurring faults. */
  readonly meanIntervalMs: number;
  /** No two recurring faults closer than this (a SIGSTOP must be over before the next fault). */
  readonly minIntervalMs: number;
  /** The once-faults come right after these recurring faults (0-based), in ONCE_KINDS order. */
  readonly onceAfter?: readonly number[];
}

/**
 * An endless fault sequence. Recurring faults are spaced minIntervalMs plus
 * an exponential variable with mean (meanIntervalMs − minIntervalMs), so the
 * mean spacing is exactly meanIntervalMs. Kinds come from a deck shuffled
 * anew every four faults, so even a short run sees each kind (a uniform draw
 * left a one-minute run without a coordinator restart as often as not).
 * Each once-fault follows its recurring fault by a short uniform delay.
 */
export class FaultSchedule {
  readonly #random: () => number;
  readonly #o: ScheduleOptions;
  readonly #onceAfter: readonly number[];
  #recurring = 0;
  #deck: FaultKind[] = [];
  #pendingOnce: OnceKind | undefined;

  constructor(o: ScheduleOptions) {
    if (!(o.minIntervalMs >= 0 && o.meanIntervalMs > o.minIntervalMs)) {
      throw new RangeError(`chaos schedule: the mean interval (${o.meanIntervalMs} ms) must exceed the minimum (${o.minIntervalMs} ms)`);
    }
    this.#o = o;
    this.#random = seededRandom(o.seed);
    this.#onceAfter = o.onceAfter ?? [1, 3];
  }

  next(): PlannedFault {
    if (this.#pendingOnce !== undefined) {
      const kind = this.#pendingOnce;
      this.#pendingOnce = undefined;
      return { delayMs: Math.round(500 + this.#random() * 1500), kind };
    }
    const spread = this.#o.meanIntervalMs - this.#o.minIntervalMs;
    const delayMs = Math.round(this.#o.minIntervalMs - spread * Math.log(1 - this.#random()));
    if (this.#deck.length === 0) this.#deck = shuffled(this.#random, FAULT_KINDS);
    const kind = this.#deck.pop() as FaultKind;
    const once = this.#onceAfter.indexOf(this.#recurring);
    if (once >= 0 && once < ONCE_KINDS.length) this.#pendingOnce = ONCE_KINDS[once];
    this.#recurring += 1;
    return { delayMs, kind };
  }
}

/** Picks one element uniformly, or undefined from an empty list. */
export function pick<T>(random: () => number, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[Math.floor(random() * items.length)];
}

/** A Fisher–Yates shuffled copy. */
function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
