/**
 * Small PromQL builders for the dashboard's queries. Every selector they
 * produce carries the dashboard's job matcher, so no panel can forget it and
 * a test can check that each expression is scoped to the selected job.
 */

/**
 * The dashboard's job matcher. `job` here is the label Prometheus sets from
 * the scrape config (`job_name` or a `job` target label), which every series
 * of one scrape job shares; dtrain's own `dtrain_info{job}` label arrives as
 * `exported_job` unless the scrape job is named after the dtrain job, which
 * `infra/prometheus/prometheus.yml` recommends so that the two agree.
 */
export const JOB_MATCHER = 'job="$job"';

/** The rate window. Four samples at Prometheus's default 15 s scrape interval. */
export const RATE_WINDOW = '1m';

/**
 * `name{job="$job",…}`.
 * @param matchers extra label matchers, written as PromQL (`state=~"joined|training"`).
 */
export function selector(name: string, ...matchers: readonly string[]): string {
  return `${name}{${[JOB_MATCHER, ...matchers].join(', ')}}`;
}

/** `rate(name{job="$job",…}[1m])`. */
export function rate(name: string, ...matchers: readonly string[]): string {
  return `rate(${selector(name, ...matchers)}[${RATE_WINDOW}])`;
}

/** `increase(name{job="$job",…}[1m])`: events per minute, for rare counters. */
export function increasePerMinute(name: string, ...matchers: readonly string[]): string {
  return `increase(${selector(name, ...matchers)}[${RATE_WINDOW}])`;
}

/** `sum by (labels) (expr)`; a plain `sum(expr)` when `labels` is empty. */
export function sumBy(labels: readonly string[], expr: string): string {
  return labels.length === 0 ? `sum(${expr})` : `sum by (${labels.join(', ')}) (${expr})`;
}

/**
 * The `q` quantile of a histogram over the rate window, kept apart by
 * `labels` (`[]` merges every series of the job into one distribution).
 * @param histogram base name of a prom-client histogram (without `_bucket`).
 */
export function histogramQuantile(q: number, histogram: string, labels: readonly string[] = []): string {
  return `histogram_quantile(${q}, ${sumBy([...labels, 'le'], rate(`${histogram}_bucket`))})`;
}
