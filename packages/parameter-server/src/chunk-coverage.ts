import type { FlatRange } from '@dtrain/protocol';

/**
 * The elements a step's chunks have covered so far, as sorted, disjoint,
 * non-adjacent intervals: chunks arriving in order merge into one interval,
 * so the bookkeeping stays O(1) per chunk in the usual case and a chunk
 * applied twice is caught before it changes anything.
 */
export class ChunkCoverage {
  /** Flat [start0, end0, start1, end1, …]. */
  private readonly bounds: number[] = [];
  private count = 0;

  /** Elements covered. */
  get covered(): number {
    return this.count;
  }

  clear(): void {
    this.bounds.length = 0;
    this.count = 0;
  }

  /**
   * Adds [from, to) (from ≤ to) unless it overlaps what is covered.
   * @returns undefined if added, else a covered interval it overlaps (nothing is added).
   */
  add(from: number, to: number): FlatRange | undefined {
    if (from === to) return undefined;
    const b = this.bounds;
    // j = the number of intervals that start before `to`; only interval j − 1 can overlap.
    let lo = 0;
    let hi = b.length >> 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((b[2 * mid] as number) < to) lo = mid + 1;
      else hi = mid;
    }
    const j = lo;
    const leftEnd = j > 0 ? (b[2 * j - 1] as number) : -1;
    if (leftEnd > from) return { start: b[2 * j - 2] as number, end: leftEnd };
    const joinsLeft = leftEnd === from;
    const joinsRight = 2 * j < b.length && b[2 * j] === to;
    if (joinsLeft && joinsRight) {
      b[2 * j - 1] = b[2 * j + 1] as number;
      b.splice(2 * j, 2);
    } else if (joinsLeft) {
      b[2 * j - 1] = to;
    } else if (joinsRight) {
      b[2 * j] = from;
    } else {
      b.splice(2 * j, 0, from, to);
    }
    this.count += to - from;
    return undefined;
  }

  /** The first interval of [0, size) not covered, or undefined if all is. */
  firstGap(size: number): FlatRange | undefined {
    const b = this.bounds;
    let at = 0;
    for (let k = 0; k < b.length; k += 2) {
      const start = b[k] as number;
      if (start > at) return { start: at, end: start };
      at = b[k + 1] as number;
    }
    return at < size ? { start: at, end: size } : undefined;
  }
}
