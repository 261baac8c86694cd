/**
 * Offline validation of Kubernetes objects against the API schemas bundled
 * in kubernetes-models (Kubernetes) and @kubernetes-models/prometheus-operator
 * (the monitoring CRDs): types, required fields, enumerations and formats.
 * The schemas accept unknown fields, as the API server's non-strict mode
 * does; the typed constructors catch those at compile time for generated
 * objects, and {@link checkConsistency} the cross-object mistakes.
 */
import { PodMonitor, PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { ConfigMap, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { K8sError, K8sErrorCode } from './k8s-error.js';
import type { Manifest } from './manifest.js';

type ModelClass = new (data: never) => Manifest;

/** The kinds dtrain's manifests use, by `apiVersion/kind`; anything else is reported, not waved through. */
const MODELS: Readonly<Record<string, ModelClass>> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

/** One schema violation: which object (`Kind/name`) and what. */
export interface ManifestProblem {
  readonly object: string;
  readonly message: string;
}

/** A plain Kubernetes object as parsed from YAML. */
export type KubeObject = Record<string, unknown> & { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };

/** `Kind/name`, for messages. */
export function objectRef(object: KubeObject): string {
  return `${String(object.kind ?? '?')}/${String(object.metadata?.name ?? '?')}`;
}

/** Validates plain objects; returns every problem found (empty: all valid). */
export function validateObjects(objects: readonly KubeObject[]): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  for (const object of objects) {
    const Model = MODELS[`${String(object.apiVersion)}/${String(object.kind)}`];
    if (Model === undefined) {
      problems.push({ object: objectRef(object), message: `no schema for apiVersion ${String(object.apiVersion)} kind ${String(object.kind)}` });
      continue;
    }
    const { apiVersion: _a, kind: _k, ...data } = object;
    try {
      new Model(data as never).validate();
    } catch (error) {
      problems.push({ object: objectRef(object), message: error instanceof Error ? error.message : String(error) });
    }
  }
  return problems;
}

/** Parses a multi-document YAML stream (kubectl's format) into objects; empty documents are skipped. */
export function parseManifestYaml(text: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new K8sError(K8sErrorCode.INVALID_MANIFEST, `invalid YAML: ${document.errors[0]?.message ?? '?'}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new K8sError(K8sErrorCode.INVALID_MANIFEST, `expected a Kubernetes object, got ${JSON.stringify(value).slice(0, 60)}`);
    objects.push(value as KubeObject);
  }
  return objects;
}
