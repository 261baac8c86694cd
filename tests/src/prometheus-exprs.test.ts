import { describe, expect, it } from 'vitest';
import { comparisonsAsBool, dashboardExpressions, ruleExpressions, substituteVariables } from './prometheus-exprs.js';
import { testConfig } from './prometheus-server.js';

describe('comparisonsAsBool', () => {
  it('turns every filtering comparison into a bool one', () => {
    expect(comparisonsAsBool('time() - x > 300')).toBe('time() - x > bool 300');
    expect(comparisonsAsBool('a != a or abs(a) == Inf')).toBe('a != bool a or abs(a) == bool Inf');
    expect(comparisonsAsBool('a >= on (job) group_left () 2 * b and a > 0.1')).toBe('a >= bool on (job) group_left () 2 * b and a > bool 0.1');
    expect(comparisonsAsBool('a<=1')).toBe('a<= bool 1');
  });

  it('leaves label matchers, ranges, strings and existing bools alone', () => {
    expect(comparisonsAsBool('sum(x{state!="a>b", le=~"0.1"}[5m]) == bool 0')).toBe('sum(x{state!="a>b", le=~"0.1"}[5m]) == bool 0');
    expect(comparisonsAsBool('label_replace(x, "d", "<", "s", ">=")')).toBe('label_replace(x, "d", "<", "s", ">=")');
  });
});

describe('dashboardExpressions and substituteVariables', () => {
  it('collect panel queries (also in collapsed rows) and fill in variables', () => {
    const found = dashboardExpressions({
      panels: [{ title: 'a', targets: [{ refId: 'A', expr: 'x{job="$job"}' }] }, { title: 'row', panels: [{ title: 'b', targets: [{ refId: 'A', expr: 'y{job="${job}"}' }] }] }],
    } as never);
    expect(found.map((e) => substituteVariables(e.expr, { job: 'j' }))).toEqual(['x{job="j"}', 'y{job="j"}']);
    expect(() => substituteVariables('x{a="$other"}', { job: 'j' })).toThrow(/\$other/);
  });
});

describe('ruleExpressions', () => {
  it('lists recording and alerting rules with their names', () => {
    const rules = ruleExpressions('groups:\n  - name: g\n    rules:\n      - record: r:x\n        expr: sum(x)\n      - alert: A\n        expr: |\n          r:x > 1\n');
    expect(rules).toEqual([
      { kind: 'record', name: 'r:x', where: 'g[0] record r:x', expr: 'sum(x)' },
      { kind: 'alert', name: 'A', where: 'g[1] alert A', expr: 'r:x > 1' },
    ]);
  });
});

describe('testConfig', () => {
  const shipped = {
    global: { scrape_interval: '15s' },
    rule_files: ['alerts.yml'],
    alerting: { alertmanagers: [] },
    scrape_configs: [
      {
        job_name: 'mnist-mlp',
        metrics_path: '/metrics',
        static_configs: [
          { targets: ['localhost:7070'], labels: { role: 'coordinator' } },
          { targets: ['localhost:9400'], labels: { role: 'worker' } },
        ],
      },
    ],
  };

  it('keeps the shipped scrape job but renames it, retargets it and scrapes every second', () => {
    expect(testConfig(shipped, { jobName: 'e2e', coordinator: '127.0.0.1:1', workers: ['127.0.0.1:2', '127.0.0.1:3'] })).toEqual({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: ['alerts.yml'],
      scrape_configs: [
        {
          job_name: 'e2e',
          metrics_path: '/metrics',
          static_configs: [
            { targets: ['127.0.0.1:1'], labels: { role: 'coordinator' } },
            { targets: ['127.0.0.1:2', '127.0.0.1:3'], labels: { role: 'worker' } },
          ],
        },
      ],
    });
  });

  it('refuses a config it cannot map (no worker group)', () => {
    const [job] = shipped.scrape_configs;
    expect(() => testConfig({ scrape_configs: [{ ...job, static_configs: job?.static_configs.slice(0, 1) }] }, { jobName: 'e', coordinator: 'c', workers: [] })).toThrow(/role: worker/);
  });
});
