import { describe, expect, it } from 'vitest';
import { dashboardExpressions, metricNames, substituteVariables } from './dashboard-queries.js';

describe('dashboardExpressions', () => {
  it('finds targets in panels, in collapsed rows and in query variables', () => {
    const found = dashboardExpressions({
      panels: [
        { title: 'a', targets: [{ refId: 'A', expr: 'x{job="$job"}' }] },
        { type: 'row', title: 'r', panels: [{ title: 'b', targets: [{ refId: 'B', expr: 'y' }] }] },
        { title: 'text panel' },
      ],
      templating: { list: [{ type: 'query', name: 'job', query: 'label_values(dtrain_info, job)' }, { type: 'datasource', name: 'ds', query: 'prometheus' }] },
    });
    expect(found).toEqual([
      { where: 'a / A', expr: 'x{job="$job"}' },
      { where: 'b / B', expr: 'y' },
      { where: 'variable job', expr: 'label_values(dtrain_info, job)' },
    ]);
  });
});

describe('substituteVariables', () => {
  it('replaces $name and ${name}', () => {
    expect(substituteVariables('a{job="$job"} / b{job="${job}"}', { job: 'mnist' })).toBe('a{job="mnist"} / b{job="mnist"}');
  });

  it('throws on a variable without a value rather than querying with a literal $', () => {
    expect(() => substituteVariables('a{job="$job", x="$other"}', { job: 'j' })).toThrow(/\$other/);
  });
});

describe('metricNames', () => {
  it('lists metrics, not recording rules, functions or label values', () => {
    expect(
      metricNames('histogram_quantile(0.9, sum by (le) (rate(dtrain_step_wait_seconds_bucket{state="dtrain_x"}[1m]))) / worker:dtrain_worker_compute_seconds:p95_rate5m + process_cpu_seconds_total'),
    ).toEqual(['process_cpu_seconds_total', 'dtrain_step_wait_seconds_bucket'].sort());
  });
});
