import { COORDINATOR_METRIC_NAMES, WORKER_METRIC_NAMES, createMetricsRegistry } from '@dtrain/metrics';
import { describe, expect, it } from 'vitest';
import { renderDashboardJson } from './dashboard-file.js';
import { dashboardExpressions, metricNames } from './dashboard-queries.js';
import { allRules, loadRuleGroups } from './rule-files.js';

/**
 * The dashboard and the alert rules against the metric definitions in
 * @dtrain/metrics: a renamed or missing metric fails here instead of as an
 * empty panel or an alert that can never fire.
 */

const dtrainNames = new Set<string>([...COORDINATOR_METRIC_NAMES, ...WORKER_METRIC_NAMES]);
const histogramSuffix = /_(bucket|sum|count)$/;

/** Every name a scrape can show for a defined metric (histograms: its _bucket, _sum and _count). */
function exposed(name: string): boolean {
  return dtrainNames.has(name) || (histogramSuffix.test(name) && dtrainNames.has(name.replace(histogramSuffix, '')));
}

/** Default process metric names, from the same prom-client setup the coordinator and workers use. */
async function processMetricNames(): Promise<Set<string>> {
  const registry = createMetricsRegistry({ defaultMetrics: true });
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
  registry.clear();
  return new Set(names);
}

const dashboardNames = [...new Set(dashboardExpressions(JSON.parse(renderDashboardJson())).flatMap((e) => metricNames(e.expr)))];
const ruleNames = [...new Set(allRules(loadRuleGroups()).flatMap((r) => metricNames(r.expr)))];

/** Defined metrics the dashboard leaves out on purpose, and why. */
const NOT_ON_DASHBOARD: Readonly<Record<string, string>> = {
  dtrain_worker_steps_total: 'each worker steps once per committed step: dtrain_steps_total shows it',
};

describe('metric names against @dtrain/metrics', () => {
  it('the dashboard reads only metrics dtrain defines (or default process metrics)', async () => {
    const process = await processMetricNames();
    const unknown = dashboardNames.filter((n) => !exposed(n) && !process.has(n));
    expect(unknown, 'dashboard queries name metrics that @dtrain/metrics does not define').toEqual([]);
  });

  it('the alert rules read only metrics dtrain defines', () => {
    expect(ruleNames.length).toBeGreaterThan(4);
    expect(ruleNames.filter((n) => !exposed(n))).toEqual([]);
  });

  it('every metric dtrain defines is on the dashboard, or listed as left out with a reason', () => {
    const used = new Set(dashboardNames.map((n) => n.replace(histogramSuffix, '')));
    const missing = [...dtrainNames].filter((n) => !used.has(n) && NOT_ON_DASHBOARD[n] === undefined);
    expect(missing).toEqual([]);
    for (const name of Object.keys(NOT_ON_DASHBOARD)) expect(dtrainNames.has(name), `${name} is no longer defined`).toBe(true);
  });
});
