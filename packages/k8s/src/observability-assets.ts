/**
 * The Grafana dashboard and the Prometheus alert rules as Kubernetes objects,
 * made from the files the rest of the project maintains
 * (infra/grafana/dashboards/dtrain.json, infra/prometheus/alerts.yml), never
 * edited by hand: the generator writes them and a test fails when they differ.
 */
import { PrometheusRule, type IPrometheusRuleSpec } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { ConfigMap } from 'kubernetes-models/v1';
import { parse } from 'yaml';
import { ns } from './coordinator-manifests.js';
import { K8sError, K8sErrorCode } from './k8s-error.js';

const LABELS = { 'app.kubernetes.io/name': 'dtrain', 'app.kubernetes.io/part-of': 'dtrain' } as const;

/**
 * Grafana's dashboard sidecar (kube-prometheus-stack, grafana chart) loads
 * every ConfigMap labelled `grafana_dashboard: "1"` in the namespaces it watches.
 * @param json the dashboard JSON text; kept as written so the ConfigMap diffs like the file.
 * @param source names the file in errors.
 */
export function dashboardConfigMap(json: string, source: string, options: { name?: string; namespace?: string } = {}): ConfigMap {
  try {
    JSON.parse(json);
  } catch (error) {
    throw new K8sError(K8sErrorCode.SOURCE, `${source}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return new ConfigMap({
    metadata: { name: options.name ?? 'dtrain-grafana-dashboard', labels: { ...LABELS, grafana_dashboard: '1' }, ...ns(options.namespace) },
    data: { 'dtrain.json': json.endsWith('\n') ? json : `${json}\n` },
  });
}

/**
 * A Prometheus rule file (`groups: [...]`) as a PrometheusRule; the groups go
 * over unchanged, so `promtool test rules` on the file tests these too.
 * @param labels extra labels the Prometheus' ruleSelector requires (kube-prometheus-stack: `release: <its release>`).
 */
export function prometheusRule(rulesYaml: string, source: string, options: { name?: string; namespace?: string; labels?: Record<string, string> } = {}): PrometheusRule {
  let document: unknown;
  try {
    document = parse(rulesYaml);
  } catch (error) {
    throw new K8sError(K8sErrorCode.SOURCE, `${source}: invalid YAML (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
  }
  const groups = typeof document === 'object' && document !== null ? (document as Record<string, unknown>)['groups'] : undefined;
  if (!Array.isArray(groups) || groups.length === 0) {
    throw new K8sError(K8sErrorCode.SOURCE, `${source}: expected a Prometheus rule file with a non-empty "groups" list`);
  }
  return new PrometheusRule({
    metadata: { name: options.name ?? 'dtrain-alerts', labels: { ...LABELS, ...options.labels }, ...ns(options.namespace) },
    // Checked against the schema by validate(), like every generated object.
    spec: { groups: groups as NonNullable<IPrometheusRuleSpec['groups']> },
  });
}
