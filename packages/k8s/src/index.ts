/**
 * @dtrain/k8s: dtrain on Kubernetes. Typed manifests for one job (coordinator
 * Deployment + Service + state volume, worker Deployment, parameter-server
 * shard StatefulSet + headless Service, config ConfigMap, token Secret,
 * prometheus-operator monitors), the job config made runnable
 * in a pod, offline schema and consistency validation, and the generator of
 * the committed files under infra/k8s.
 */
export { renderJob, type RenderJobOptions, type RenderedJob } from './render-job.js';
export { relocateJobConfig, type RelocatedConfig, type RelocateOptions } from './relocate-job-config.js';
export { dataAccess, workersReadData, DATA_ACCESS, DEFAULT_DATA_ACCESS, type DataAccess } from './data-access.js';
export { coordinatorDeployment, coordinatorService, stateClaim, type CoordinatorOptions } from './coordinator-manifests.js';
export { workerDeployment, type WorkerOptions } from './worker-deployment.js';
export { shardStatefulSet, shardService, shardAdvertiseUrl, MAX_PS_SHARDS, type ShardOptions } from './shard-statefulset.js';
export { jobConfigMap, tokenSecret, generateToken, fingerprint } from './job-inputs.js';
export { coordinatorServiceMonitor, workerPodMonitor, shardPodMonitor, type MonitorOptions } from './monitoring-manifests.js';
export { dashboardConfigMap, prometheusRule } from './observability-assets.js';
export { jobNames, selectorLabels, commonLabels, checkObjectName, JOB_LABEL, type JobNames, type Component } from './job-names.js';
export { toYamlStream } from './manifest-yaml.js';
export { validateObjects, parseManifestYaml, objectRef, type KubeObject, type ManifestProblem } from './validate-manifests.js';
export { checkConsistency, type ConsistencyOptions } from './check-consistency.js';
export { generateInfraFiles, BASE_EXAMPLE, DASHBOARD_SOURCE, ALERTS_SOURCE, BASE_IMAGES } from './generate-infra.js';
export { K8sError, K8sErrorCode, type K8sErrorOptions } from './k8s-error.js';
export type { Manifest } from './manifest.js';
export * from './pod-layout.js';
