/**
 * Names and labels of one job's Kubernetes objects, all derived from one
 * prefix: the job's name for `dtrain k8s render`, `dtrain` for the kustomize
 * base (so `kubectl scale deployment/dtrain-worker` works there).
 */
import { K8sError, K8sErrorCode } from './k8s-error.js';

export type Component = 'coordinator' | 'worker' | 'ps';

/**
 * Pod and Service label carrying the dtrain job's `name:`. Prometheus takes
 * its `job` label from it (the monitors' `jobLabel`), which is what the
 * Grafana dashboard and the alert rules select and group by: coordinator,
 * workers and parameter-server shards of one dtrain job share it.
 */
export const JOB_LABEL = 'dtrain/job';

export interface JobNames {
  /** The prefix itself; the `app.kubernetes.io/instance` label. */
  readonly instance: string;
  /** The dtrain job's `name:`; the {@link JOB_LABEL} label. */
  readonly job: string;
  /** Deployment and Service of the coordinator: `<prefix>-coordinator`. */
  readonly coordinator: string;
  /** Deployment of the workers: `<prefix>-worker`. */
  readonly worker: string;
  /** StatefulSet and headless Service of the parameter-server shards: `<prefix>-ps`. */
  readonly shards: string;
  /** ConfigMap holding job.yaml: `<prefix>-job`. */
  readonly config: string;
  /** Secret holding the worker token: `<prefix>-token`. */
  readonly token: string;
  /** PersistentVolumeClaim for checkpoints and the model: `<prefix>-state`. */
  readonly state: string;
}

/** A DNS-1123 label: what Kubernetes accepts as a Service name. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Room for the longest suffix ("-coordinator") within Kubernetes' 63 characters. */
const MAX_PREFIX = 63 - '-coordinator'.length;

/**
 * @param prefix names every object (`<prefix>-coordinator`, …).
 * @param job the dtrain job's `name:`; default the prefix (as `dtrain k8s render` uses it).
 */
export function jobNames(prefix: string, job: string = prefix): JobNames {
  if (!DNS_LABEL.test(prefix) || prefix.length > MAX_PREFIX) {
    throw new K8sError(
      K8sErrorCode.OPTION,
      `expected lowercase letters, digits and "-" (not first or last), at most ${MAX_PREFIX} characters, got ${JSON.stringify(prefix)}`,
      { field: 'name' },
    );
  }
  return {
    instance: prefix,
    job,
    coordinator: `${prefix}-coordinator`,
    worker: `${prefix}-worker`,
    shards: `${prefix}-ps`,
    config: `${prefix}-job`,
    token: `${prefix}-token`,
    state: `${prefix}-state`,
  };
}

/** The labels that select one component's pods (Deployment selectors are immutable: keep this set small and stable). */
export function selectorLabels(names: JobNames, component: Component): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'dtrain',
    'app.kubernetes.io/instance': names.instance,
    'app.kubernetes.io/component': component,
  };
}

/** Labels every object of the job carries; `component` when the object belongs to one. */
export function commonLabels(names: JobNames, component?: Component): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'dtrain',
    'app.kubernetes.io/instance': names.instance,
    ...(component === undefined ? {} : { 'app.kubernetes.io/component': component }),
    'app.kubernetes.io/part-of': 'dtrain',
    [JOB_LABEL]: names.job,
  };
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Checks a user-given object name: a namespace is a DNS-1123 label (63
 * characters, no dots), a Secret or claim name a DNS-1123 subdomain (253, dots allowed).
 */
export function checkObjectName(value: string, field: string, kind: 'label' | 'subdomain'): string {
  const ok = kind === 'label' ? DNS_LABEL.test(value) && value.length <= 63 : DNS_SUBDOMAIN.test(value) && value.length <= 253;
  if (!ok) {
    const what = kind === 'label' ? 'lowercase letters, digits and "-", at most 63 characters' : 'lowercase letters, digits, "-" and ".", at most 253 characters';
    throw new K8sError(K8sErrorCode.OPTION, `expected a Kubernetes name (${what}), got ${JSON.stringify(value)}`, { field });
  }
  return value;
}
