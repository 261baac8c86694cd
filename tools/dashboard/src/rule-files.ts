import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/**
 * The Prometheus files under infra/prometheus, read as data: the tests check
 * their structure (every alert has a firing and a quiet unit test) and read
 * the rule expressions to cross-check metric names.
 */

/** infra/prometheus, from `src/` or `dist/` alike. */
export const PROMETHEUS_DIR = fileURLToPath(new URL('../../../infra/prometheus/', import.meta.url));

/** One rule of a rule group (recording or alerting). */
export interface Rule {
  readonly record?: string;
  readonly alert?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly Rule[];
}

/** One `promtool test rules` alert check. */
export interface AlertRuleTest {
  readonly eval_time: string;
  readonly alertname: string;
  readonly exp_alerts?: readonly { readonly exp_labels?: Record<string, string> }[];
}

/** The parts of a `promtool test rules` file the tests look at. */
export interface RuleTestFile {
  readonly rule_files: readonly string[];
  readonly tests: readonly { readonly alert_rule_test?: readonly AlertRuleTest[] }[];
}

function readYaml(path: string): unknown {
  return parse(readFileSync(path, 'utf8')) as unknown;
}

/** The groups of a rule file (infra/prometheus/alerts.yml by default). */
export function loadRuleGroups(path = `${PROMETHEUS_DIR}alerts.yml`): RuleGroup[] {
  const doc = readYaml(path) as { groups?: RuleGroup[] } | null;
  if (doc?.groups === undefined) throw new Error(`${path}: no "groups"`);
  return doc.groups;
}

/** Every rule of every group. */
export function allRules(groups: readonly RuleGroup[]): Rule[] {
  return groups.flatMap((g) => g.rules);
}

/** The unit-test file (infra/prometheus/alerts.test.yml by default). */
export function loadRuleTests(path = `${PROMETHEUS_DIR}alerts.test.yml`): RuleTestFile {
  return readYaml(path) as RuleTestFile;
}

/** The Prometheus config (infra/prometheus/prometheus.yml by default), untyped. */
export function loadPrometheusConfig(path = `${PROMETHEUS_DIR}prometheus.yml`): Record<string, unknown> {
  return readYaml(path) as Record<string, unknown>;
}
