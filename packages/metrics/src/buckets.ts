/**
 * Histogram buckets for every `_seconds` histogram dtrain exports, in
 * seconds: a 1-2-5 series from 1 ms to 60 s. Steps run from a few ms (small
 * MLP on a GPU) to tens of seconds (large model on wasm); waits and data
 * gathering sit at the low end. Sixteen buckets keep quantile estimates
 * within one 1-2-5 step while a per-worker histogram stays 18 series.
 */
export const SECONDS_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60,
]);

/**
 * Buckets for durations that are usually well under a millisecond but can
 * reach seconds: a 1-2-5 series from 0.1 ms to 10 s. A shard applies a
 * small model's update in a fraction of a millisecond (where SECONDS_BUCKETS
 * would put every observation into its first bucket) and a large one's in
 * seconds. Sixteen buckets, like SECONDS_BUCKETS.
 */
export const FAST_SECONDS_BUCKETS: readonly number[] = Object.freeze([
  0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10,
]);
