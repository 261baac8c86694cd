import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { havePromtool, promtool } from './promtool.js';
import { PROMETHEUS_DIR, allRules, loadPrometheusConfig, loadRuleGroups, loadRuleTests } from './rule-files.js';

/**
 * infra/prometheus: the config and rules pass `promtool check`, the rules'
 * unit tests pass `promtool test rules`, and those unit tests cover every
 * alert both firing and staying quiet.
 */

const ALERTS = ['TrainingStalled', 'NoWorkers', 'LossNotFinite', 'StragglerWorker'];

describe('alert rules (structure)', () => {
  const rules = allRules(loadRuleGroups());
  const alerts = rules.filter((r) => r.alert !== undefined);

  it('define the four dtrain alerts, each with a severity, a summary and a description', () => {
    expect([...new Set(alerts.map((r) => r.alert))].sort()).toEqual([...ALERTS].sort());
    for (const rule of alerts) {
      expect(rule.labels?.['severity'], rule.alert).toMatch(/^(critical|warning)$/);
      expect(rule.annotations?.['summary'], rule.alert).toContain('{{ $labels.job }}');
      expect(rule.annotations?.['description']?.length ?? 0, rule.alert).toBeGreaterThan(40);
    }
  });

  it('have unit tests in which each alert fires, and each stays quiet', () => {
    const checks = loadRuleTests().tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const name of ALERTS) {
      const mine = checks.filter((c) => c.alertname === name);
      expect(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${name}: no test where it fires`).toBe(true);
      expect(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${name}: no test where it stays quiet`).toBe(true);
    }
  });

  it('the Prometheus config loads them and scrapes the coordinator and workers in one job', () => {
    const config = loadPrometheusConfig() as { rule_files?: string[]; scrape_configs?: { job_name: string; static_configs?: { targets: string[]; labels?: Record<string, string> }[] }[] };
    expect(config.rule_files).toContain('alerts.yml');
    const jobs = config.scrape_configs ?? [];
    expect(jobs).toHaveLength(1);
    const targets = (jobs[0]?.static_configs ?? []).map((g) => ({ role: g.labels?.['role'], targets: g.targets }));
    expect(targets).toContainEqual({ role: 'coordinator', targets: ['localhost:7070'] });
    expect(targets.find((t) => t.role === 'worker')?.targets.length).toBeGreaterThanOrEqual(1);
  });
});

const canRun = havePromtool();
if (!canRun) {
  console.warn(
    '\n*** SKIPPED: promtool is not on PATH, so `promtool check config`, `promtool check rules` and `promtool test rules` did NOT run. ' +
      'Install Prometheus (Debian: apt-get install prometheus; .ci/run does this) to run them. ***\n',
  );
}

describe.skipIf(!canRun)('promtool', () => {
  // Made in beforeAll: collecting the suite while it is skipped must not leave a folder behind.
  let scratch = '';
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'dtrain-promtool-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('check config: prometheus.yml (and the rule files it loads) is valid', async () => {
    const { code, output } = await promtool(['check', 'config', 'prometheus.yml'], PROMETHEUS_DIR);
    expect(code, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  it('check rules: alerts.yml is valid', async () => {
    const { code, output } = await promtool(['check', 'rules', 'alerts.yml'], PROMETHEUS_DIR);
    expect(code, output).toBe(0);
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('test rules: alerts.test.yml passes', async () => {
    const { code, output } = await promtool(['test', 'rules', 'alerts.test.yml'], PROMETHEUS_DIR);
    expect(code, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  it('test rules: fails when a rule changes (the unit tests pin the thresholds)', async () => {
    // TrainingStalled after 50 minutes instead of 5: the firing case must notice.
    const rules = readFileSync(join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8');
    const mutated = rules.replace(/(dtrain_job_state\{state=~"done\|failed\|stopped"\}\)\)\s*)> 300/, '$1> 3000');
    expect(mutated).not.toBe(rules);
    writeFileSync(join(scratch, 'alerts.yml'), mutated);
    copyFileSync(join(PROMETHEUS_DIR, 'alerts.test.yml'), join(scratch, 'alerts.test.yml'));
    const { code, output } = await promtool(['test', 'rules', 'alerts.test.yml'], scratch);
    expect(code).not.toBe(0);
    expect(output).toContain('alertname: TrainingStalled');
  });
});
