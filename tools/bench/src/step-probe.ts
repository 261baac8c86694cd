/**
 * Child process of the cluster lab, run in the coordinator's namespace:
 * polls the coordinator's /metrics over that namespace's loopback (so the
 * polling never crosses a shaped link) every INTERVAL_MS and prints
 * `{"count":…,"sum":…,"at":…}` on stdout each time
 * `dtrain_step_duration_seconds` has counted another step (`at`:
 * `dtrain_last_step_timestamp_seconds`, that step's commit, read in the same
 * scrape). The lab reads the first line (the first step, which ships data
 * and initial weights) and the last one to time the steady steps in between.
 * Runs until killed.
 *
 * Usage: node step-probe.js METRICS_URL INTERVAL_MS
 */
const [url, intervalText] = process.argv.slice(2);
const intervalMs = Number(intervalText);
if (url === undefined || !Number.isFinite(intervalMs) || intervalMs <= 0) {
  process.stderr.write('usage: step-probe METRICS_URL INTERVAL_MS\n');
  process.exit(2);
}
let last = 0;
const poll = async (): Promise<void> => {
  try {
    const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
    const count = Number(/^dtrain_step_duration_seconds_count(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1]);
    const sum = Number(/^dtrain_step_duration_seconds_sum(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1]);
    const at = Number(/^dtrain_last_step_timestamp_seconds(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1]);
    if ([count, sum, at].every(Number.isFinite) && count > last) {
      last = count;
      process.stdout.write(`${JSON.stringify({ count, sum, at })}\n`);
    }
  } catch {
    // Not listening yet, or busy: the next poll tries again.
  }
  setTimeout(() => void poll(), intervalMs);
};
void poll();
