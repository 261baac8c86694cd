/**
 * The pure half of the cluster lab: the step time a parameter server can
 * reach on links of a given rate (BytePS, OSDI'20, §3), steady step times
 * from two readings of the coordinator's step histogram, and the rows the
 * lab prints and writes.
 */

/** A run is on target when its steady step time is within this multiple of the bound. */
export const CLUSTER_TARGET = 1.3;

export interface BoundInput {
  /** Bytes of the model's weights (= of one worker's gradients), M. */
  readonly modelBytes: number;
  /** Workers, N. */
  readonly workers: number;
  /**
   * Shard processes, K; 0 means the one shard embedded in the coordinator,
   * which is bounded as K = 1 (the coordinator's host carries all of it).
   */
  readonly shards: number;
  /** Each host's link rate in each direction, bytes/s, B. */
  readonly bytesPerSecond: number;
}

/**
 * max(2M/B, 2NM/(KB)), seconds: every worker pushes M and pulls M through
 * its own link; the K shard links together take NM in and send NM out. A
 * synchronous step cannot pull before every push is in, so the two halves
 * add instead of overlapping, hence the 2.
 */
export function psBoundSeconds(b: BoundInput): number {
  if (!(b.modelBytes > 0) || !(b.bytesPerSecond > 0) || !Number.isInteger(b.workers) || b.workers < 1 || !Number.isInteger(b.shards) || b.shards < 0) {
    throw new RangeError(`psBoundSeconds: expected M > 0, B > 0, N ≥ 1, K ≥ 0 (whole numbers), got ${JSON.stringify(b)}`);
  }
  const k = Math.max(1, b.shards);
  return Math.max((2 * b.modelBytes) / b.bytesPerSecond, (2 * b.workers * b.modelBytes) / (k * b.bytesPerSecond));
}

/**
 * One scrape of the coordinator's /metrics: steps counted and seconds summed
 * by `dtrain_step_duration_seconds` (assignment to commit), and
 * `dtrain_last_step_timestamp_seconds` (when the last of them committed).
 */
export interface StepReading {
  readonly count: number;
  readonly sum: number;
  /** Unix time of the `count`-th step's commit, seconds. */
  readonly at: number;
}

/** The steps between two readings. */
export interface SteadySteps {
  readonly steps: number;
  /** Commit to commit, averaged: what a step really costs, gaps between steps included. */
  readonly periodSeconds: number;
  /** Assignment to commit, averaged (the coordinator's own step time). */
  readonly wallSeconds: number;
}

/**
 * The steps after `first` up to `last`. With `first` taken once the first
 * step (data, initial weights) is in, these are the steady steps; undefined
 * when no step lies between the readings.
 */
export function steadySteps(first: StepReading, last: StepReading): SteadySteps | undefined {
  const steps = last.count - first.count;
  if (!(steps > 0)) return undefined;
  return { steps, periodSeconds: (last.at - first.at) / steps, wallSeconds: (last.sum - first.sum) / steps };
}

/** What one lab run measured. */
export interface ClusterRun {
  readonly shards: number;
  readonly workers: number;
  readonly modelBytes: number;
  /** Steps of the job (the first included). */
  readonly steps: number;
  /** Steps the steady mean is over. */
  readonly steadySteps: number;
  /** Steady steps, commit to commit: the figure set against the bound. */
  readonly steadyStepSeconds: number;
  /** Steady steps, assignment to commit (the coordinator's step histogram). */
  readonly steadyWallSeconds: number;
  /** The coordinator's own mean over every step (summary.json), first step included. */
  readonly meanStepSeconds: number;
  readonly processSeconds: number;
}

export interface ClusterRow extends ClusterRun {
  /** The bound at the links' nominal (tbf) rate. */
  readonly boundSeconds: number;
  readonly ratio: number;
  /** The bound at the rate raw TCP measured between two lab hosts. */
  readonly measuredBoundSeconds: number;
  readonly measuredRatio: number;
  /** ratio ≤ CLUSTER_TARGET. */
  readonly targetMet: boolean;
  /** measuredRatio ≤ CLUSTER_TARGET: against what a TCP stream really gets through the links (headers, tbf's accounting). */
  readonly measuredTargetMet: boolean;
}

/** Each run beside its bound at the nominal and at the measured link rate. */
export function clusterRow(run: ClusterRun, nominalBytesPerSecond: number, measuredBytesPerSecond: number): ClusterRow {
  const input = { modelBytes: run.modelBytes, workers: run.workers, shards: run.shards };
  const boundSeconds = psBoundSeconds({ ...input, bytesPerSecond: nominalBytesPerSecond });
  const measuredBoundSeconds = psBoundSeconds({ ...input, bytesPerSecond: measuredBytesPerSecond });
  const ratio = run.steadyStepSeconds / boundSeconds;
  const measuredRatio = run.steadyStepSeconds / measuredBoundSeconds;
  return { ...run, boundSeconds, ratio, measuredBoundSeconds, measuredRatio, targetMet: ratio <= CLUSTER_TARGET, measuredTargetMet: measuredRatio <= CLUSTER_TARGET };
}

/** How a K reads in the table. */
export function shardLabel(shards: number): string {
  return shards === 0 ? '0 (in coordinator)' : String(shards);
}
