import type { CoordinatorObserver, StepEvent } from './observer.js';

/** Where step time goes, averaged over a job: reported in summary.json and by the benchmark. */
export interface TimingSummary {
  readonly steps: number;
  /** Mean wall time of a step (assignment to commit), seconds. */
  readonly meanStepSeconds: number;
  /** Mean compute time of the slowest worker of each step, seconds. */
  readonly meanSlowestComputeSeconds: number;
  /** Mean of (step wall time − slowest worker's compute time): transfer, queuing, averaging, optimizer. */
  readonly meanSyncOverheadSeconds: number;
  /** Mean bytes the coordinator sent plus received per step (gradients, weights, assignments, data chunks). */
  readonly meanBytesPerStep: number;
  /**
   * The same means without the job's first step, which also ships the data
   * and the initial weights to the workers (equal to the means for a job of
   * one step).
   */
  readonly steadyStepSeconds: number;
  readonly steadySyncOverheadSeconds: number;
}

/** Accumulates step timings and traffic; O(1) per step. */
export class StepTimings {
  #steps = 0;
  #wall = 0;
  #slowest = 0;
  #bytes = 0;
  #firstWall = 0;
  #firstSlowest = 0;

  step(e: StepEvent): void {
    let slowest = 0;
    for (const r of e.reports) if (r.computeSeconds !== undefined && r.computeSeconds > slowest) slowest = r.computeSeconds;
    if (this.#steps === 0) {
      this.#firstWall = e.wallSeconds;
      this.#firstSlowest = slowest;
    }
    this.#steps += 1;
    this.#wall += e.wallSeconds;
    this.#slowest += slowest;
  }

  bytes(n: number): void {
    this.#bytes += n;
  }

  /** Wraps an observer so every step and every byte also reaches these timings. */
  observe(observer: CoordinatorObserver): CoordinatorObserver {
    return {
      ...observer,
      stepCommitted: (e) => {
        this.step(e);
        observer.stepCommitted?.(e);
      },
      bytes: (direction, n) => {
        this.bytes(n);
        observer.bytes?.(direction, n);
      },
    };
  }

  summary(): TimingSummary {
    const n = Math.max(1, this.#steps);
    return {
      steps: this.#steps,
      meanStepSeconds: this.#wall / n,
      meanSlowestComputeSeconds: this.#slowest / n,
      meanSyncOverheadSeconds: (this.#wall - this.#slowest) / n,
      meanBytesPerStep: this.#bytes / n,
      steadyStepSeconds: this.#steps > 1 ? (this.#wall - this.#firstWall) / (this.#steps - 1) : this.#wall / n,
      steadySyncOverheadSeconds: this.#steps > 1 ? (this.#wall - this.#firstWall - (this.#slowest - this.#firstSlowest)) / (this.#steps - 1) : (this.#wall - this.#slowest) / n,
    };
  }
}
