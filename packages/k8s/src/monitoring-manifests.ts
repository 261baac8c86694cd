/**
 * prometheus-operator objects that scrape a dtrain job: a ServiceMonitor for
 * the coordinator's /metrics (its Service's `http` port), a PodMonitor for
 * every worker's `metrics` port and one for every parameter-server shard's
 * `data` port. All take Prometheus' `job` label from the pods' `dtrain/job`
 * label, so the coordinator, workers and shards of one dtrain job share it, as
 * the Grafana dashboard and the alert rules expect.
 */
import { PodMonitor, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { ns } from './coordinator-manifests.js';
import { JOB_LABEL, commonLabels, type Component, type JobNames } from './job-names.js';

export interface MonitorOptions {
  /**
   * Whose pods to scrape. With names, one job's (its `app.kubernetes.io/instance`);
   * without, every dtrain job in the namespace (the shared infra/k8s/monitoring).
   */
  readonly names?: JobNames;
  readonly namespace?: string;
  /** Scrape interval; default 15s (the dashboard's 1-minute rates then see 4 samples). */
  readonly interval?: string;
  /** Extra labels the Prometheus' monitor selectors require (kube-prometheus-stack: `release: <its release>`). */
  readonly labels?: Record<string, string>;
}

function selector(o: MonitorOptions, component: Component): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'dtrain',
    ...(o.names === undefined ? {} : { 'app.kubernetes.io/instance': o.names.instance }),
    'app.kubernetes.io/component': component,
  };
}

function metadata(o: MonitorOptions, name: string): { name: string; labels: Record<string, string>; namespace?: string } {
  const base = o.names === undefined ? { 'app.kubernetes.io/name': 'dtrain', 'app.kubernetes.io/part-of': 'dtrain' } : commonLabels(o.names);
  return { name, labels: { ...base, ...o.labels }, ...ns(o.namespace) };
}

export function coordinatorServiceMonitor(o: MonitorOptions): ServiceMonitor {
  return new ServiceMonitor({
    metadata: metadata(o, o.names === undefined ? 'dtrain-coordinator' : o.names.coordinator),
    spec: {
      jobLabel: JOB_LABEL,
      selector: { matchLabels: selector(o, 'coordinator') },
      endpoints: [{ port: 'http', path: '/metrics', interval: o.interval ?? '15s' }],
    },
  });
}

export function workerPodMonitor(o: MonitorOptions): PodMonitor {
  return new PodMonitor({
    metadata: metadata(o, o.names === undefined ? 'dtrain-worker' : o.names.worker),
    spec: {
      jobLabel: JOB_LABEL,
      selector: { matchLabels: selector(o, 'worker') },
      podMetricsEndpoints: [{ port: 'metrics', path: '/metrics', interval: o.interval ?? '15s' }],
    },
  });
}

/**
 * The shards' own /metrics (`dtrain_shard_*`, each series labelled with its
 * `shard` index) on the port workers push to: one target per shard pod, as
 * for the workers.
 */
export function shardPodMonitor(o: MonitorOptions): PodMonitor {
  return new PodMonitor({
    metadata: metadata(o, o.names === undefined ? 'dtrain-ps' : o.names.shards),
    spec: {
      jobLabel: JOB_LABEL,
      selector: { matchLabels: selector(o, 'ps') },
      podMetricsEndpoints: [{ port: 'data', path: '/metrics', interval: o.interval ?? '15s' }],
    },
  });
}
