/**
 * Which workers take part in a step. A worker whose smoothed compute time
 * exceeds `ratio` times the median of the others' is a straggler: in a
 * synchronous step every other worker would wait for it, so it is left out of
 * the step quorum (it stays connected and keeps receiving weights). Every
 * `probeEverySteps` steps it gets one batch again, which re-measures it; once
 * it is back within the ratio it rejoins the quorum. Nobody is benched when
 * that would leave fewer than `minWorkers` (or one) workers computing.
 */
export interface StragglerPolicyOptions {
  /** Straggler threshold: compute time over the median of the others' (cluster.stragglerRatio), > 1. */
  readonly ratio: number;
  /** Never bench below this many computing workers (cluster.minWorkers). */
  readonly minWorkers: number;
  /** A benched worker gets a probe batch every this many steps; default 20. */
  readonly probeEverySteps?: number;
  /** Weight of the newest measurement in the moving average, (0, 1]; default 0.3. */
  readonly smoothing?: number;
  /** Measurements before a worker can be judged; default 3. */
  readonly minSamples?: number;
}

interface Timing {
  mean: number;
  samples: number;
  benchedAt: number | undefined;
}

export class StragglerPolicy {
  readonly #o: Required<StragglerPolicyOptions>;
  readonly #timings = new Map<number, Timing>();

  constructor(options: StragglerPolicyOptions) {
    this.#o = { probeEverySteps: 20, smoothing: 0.3, minSamples: 3, ...options };
  }

  /** Records one compute time (seconds) a worker reported. */
  observe(workerId: number, computeSeconds: number): void {
    const t = this.#timings.get(workerId);
    if (t === undefined) {
      this.#timings.set(workerId, { mean: computeSeconds, samples: 1, benchedAt: undefined });
      return;
    }
    t.mean += this.#o.smoothing * (computeSeconds - t.mean);
    t.samples += 1;
  }

  /** Drops what is known about a worker that left. */
  forget(workerId: number): void {
    this.#timings.delete(workerId);
  }

  /** True while the worker is left out of the quorum. */
  isBenched(workerId: number): boolean {
    return this.#timings.get(workerId)?.benchedAt !== undefined;
  }

  /**
   * The workers to assign batches to at `step`, in the given order: everyone
   * but benched stragglers, plus a benched straggler whose probe is due.
   */
  select(workerIds: readonly number[], step: number): number[] {
    this.#judge(workerIds, step);
    return workerIds.filter((id) => {
      const t = this.#timings.get(id);
      if (t?.benchedAt === undefined) return true;
      return (step - t.benchedAt) % this.#o.probeEverySteps === 0 && step !== t.benchedAt;
    });
  }

  #judge(workerIds: readonly number[], step: number): void {
    const known = workerIds.filter((id) => (this.#timings.get(id)?.samples ?? 0) >= this.#o.minSamples);
    for (const id of known) {
      const t = this.#timings.get(id);
      if (t === undefined) continue;
      const others = known.filter((o) => o !== id).map((o) => this.#timings.get(o)?.mean ?? 0);
      if (others.length === 0) {
        t.benchedAt = undefined;
        continue;
      }
      const slow = t.mean > this.#o.ratio * median(others);
      if (!slow) t.benchedAt = undefined;
      else if (t.benchedAt === undefined) {
        const computing = workerIds.filter((w) => !this.isBenched(w)).length;
        if (computing - 1 >= Math.max(1, this.#o.minWorkers)) t.benchedAt = step;
      }
    }
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}
