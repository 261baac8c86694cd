/**
 * Everything one job needs on Kubernetes, from its config: the objects
 * `dtrain k8s render` prints. Names come from the job's `name:`.
 */
import { coordinatorDeployment, coordinatorService, stateClaim } from './coordinator-manifests.js';
import { dataAccess, workersReadData, type DataAccess } from './data-access.js';
import { fingerprint, generateToken, jobConfigMap, tokenSecret } from './job-inputs.js';
import { checkObjectName, jobNames, type JobNames } from './job-names.js';
import { K8sError, K8sErrorCode } from './k8s-error.js';
import type { Manifest } from './manifest.js';
import { coordinatorServiceMonitor, shardPodMonitor, workerPodMonitor } from './monitoring-manifests.js';
import { DEFAULT_STATE_SIZE, JOB_ROOT } from './pod-layout.js';
import { relocateJobConfig } from './relocate-job-config.js';
import { MAX_PS_SHARDS, shardService, shardStatefulSet } from './shard-statefulset.js';
import { workerDeployment } from './worker-deployment.js';

export interface RenderJobOptions {
  /** The job config file's text (YAML or JSON), already validated by the coordinator's loader. */
  readonly configText: string;
  /** Absolute folder of the config file; its relative paths resolve here. */
  readonly configDir: string;
  /** Image of the coordinator, and of the workers unless `workerImage`. */
  readonly image: string;
  /** Image of the workers (e.g. the GPU image); default `image`. */
  readonly workerImage?: string;
  /** Initial number of workers; change later with `kubectl scale`. */
  readonly workers: number;
  /**
   * Parameter-server shard pods, 0 to 256; default the config's
   * `cluster.psShards` (0: the coordinator holds the one shard, no shard pods).
   * When given, the rendered config's `cluster.psShards` is set to it.
   */
  readonly psShards?: number;
  /** One GPU per worker (`nvidia.com/gpu: 1`) and the GPU node taint's toleration. */
  readonly gpu: boolean;
  /** Put every object in this namespace; default none (`kubectl apply -n` decides). */
  readonly namespace?: string;
  /** Use this existing Secret (key `token`) instead of generating one. */
  readonly existingTokenSecret?: string;
  /** The token to put in the generated Secret; default 32 random bytes. For tests. */
  readonly token?: string;
  /**
   * A claim with the job's data, mounted read-only at /job on the coordinator,
   * and on the workers too unless the config's `dataset.access` is `ship`
   * (then only the coordinator reads the data). Default: the images' /job.
   */
  readonly dataClaim?: string;
  /** Size of the state volume (checkpoints, model); default 10Gi. */
  readonly stateSize?: string;
  /** Add a ServiceMonitor and PodMonitors (prometheus-operator) for this job: coordinator, workers, shards if any. */
  readonly monitoring?: boolean;
  /** Extra labels on the monitors (what the Prometheus' selectors require). */
  readonly monitorLabels?: Record<string, string>;
}

export interface RenderedJob {
  readonly names: JobNames;
  /** In apply order: config, token, volume, Service, coordinator, shards' Service and StatefulSet, workers, monitors. */
  readonly manifests: readonly Manifest[];
  /** Shard pods rendered (the rendered config's `cluster.psShards`); 0 when the coordinator holds the one shard. */
  readonly psShards: number;
  /** The files the config names, relative to its folder: the pods that read them find them under /job. */
  readonly dataFiles: readonly string[];
  /** The http(s) URLs the config names instead of files, left as written: no volume serves them. */
  readonly dataUrls: readonly string[];
  /** The config's `dataset.access` (default auto): with anything but `ship` the workers may read the data too, and get the data claim. */
  readonly dataAccess: DataAccess;
  /** Whether a Secret with a fresh token is among the manifests (else `existingTokenSecret` is used). */
  readonly generatedToken: boolean;
}

const QUANTITY = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

export function renderJob(o: RenderJobOptions): RenderedJob {
  if (o.psShards !== undefined && (!Number.isInteger(o.psShards) || o.psShards < 0 || o.psShards > MAX_PS_SHARDS)) {
    throw new K8sError(K8sErrorCode.OPTION, `expected an integer from 0 to ${MAX_PS_SHARDS}, got ${o.psShards}`, { field: 'ps-shards' });
  }
  const { text, document, files, urls } = relocateJobConfig(o.configText, o.configDir, o.psShards === undefined ? {} : { psShards: o.psShards });
  const jobName = document['name'];
  if (typeof jobName !== 'string') throw new K8sError(K8sErrorCode.CONFIG_PATH, 'required', { field: 'name' });
  const names = jobNames(jobName);
  const psShards = o.psShards ?? configuredShards(document);
  const access = dataAccess(document);
  checkImage(o.image, 'image');
  if (o.workerImage !== undefined) checkImage(o.workerImage, 'worker-image');
  if (!Number.isInteger(o.workers) || o.workers < 0) throw new K8sError(K8sErrorCode.OPTION, `expected an integer >= 0, got ${o.workers}`, { field: 'workers' });
  const stateSize = o.stateSize ?? DEFAULT_STATE_SIZE;
  if (!QUANTITY.test(stateSize)) throw new K8sError(K8sErrorCode.OPTION, `expected a Kubernetes quantity such as 10Gi, got ${JSON.stringify(stateSize)}`, { field: 'storage' });
  const namespace = o.namespace === undefined ? undefined : checkObjectName(o.namespace, 'namespace', 'label');
  const dataClaim = o.dataClaim === undefined ? undefined : checkObjectName(o.dataClaim, 'data-pvc', 'subdomain');
  const existing = o.existingTokenSecret === undefined ? undefined : checkObjectName(o.existingTokenSecret, 'token-secret', 'subdomain');

  const configYaml = `# ${jobName}, rendered by \`dtrain k8s render\`: data paths point under ${JOB_ROOT} (the config's folder, in every pod that reads the data).\n${text}`;
  const token = existing === undefined ? (o.token ?? generateToken()) : undefined;
  const secretName = existing ?? names.token;
  // Pods read config and token only at start: a changed one must restart them.
  const tokenNote = token === undefined ? {} : { 'dtrain/token-sha256': fingerprint(token) };
  const ns = namespace === undefined ? {} : { namespace };

  const manifests: Manifest[] = [jobConfigMap(names, configYaml, namespace)];
  if (token !== undefined) manifests.push(tokenSecret(names, token, namespace));
  manifests.push(
    stateClaim({ names, stateSize, ...ns }),
    coordinatorService({ names, ...ns }),
    coordinatorDeployment({
      names,
      image: o.image,
      tokenSecret: secretName,
      configMap: names.config,
      stateSize,
      podAnnotations: { 'dtrain/config-sha256': fingerprint(configYaml), ...tokenNote },
      ...(dataClaim === undefined ? {} : { dataClaim }),
      ...ns,
    }),
  );
  if (psShards > 0) {
    manifests.push(
      shardService({ names, ...ns }),
      shardStatefulSet({ names, image: o.image, replicas: psShards, tokenSecret: secretName, ...(token === undefined ? {} : { podAnnotations: tokenNote }), ...ns }),
    );
  }
  manifests.push(
    workerDeployment({
      names,
      image: o.workerImage ?? o.image,
      replicas: o.workers,
      gpu: o.gpu,
      tokenSecret: secretName,
      // The same claim at the same path: the config's relocated paths name the same files as in the coordinator.
      ...(dataClaim !== undefined && workersReadData(access) ? { dataClaim } : {}),
      ...(token === undefined ? {} : { podAnnotations: tokenNote }),
      ...ns,
    }),
  );
  if (o.monitoring === true) {
    const monitor = { names, ...ns, ...(o.monitorLabels === undefined ? {} : { labels: o.monitorLabels }) };
    manifests.push(coordinatorServiceMonitor(monitor), workerPodMonitor(monitor));
    if (psShards > 0) manifests.push(shardPodMonitor(monitor));
  }
  return { names, manifests, psShards, dataFiles: files, dataUrls: urls, dataAccess: access, generatedToken: token !== undefined };
}

/** `cluster.psShards` as the config has it (validated by the coordinator's loader), 0 when absent. */
function configuredShards(document: Record<string, unknown>): number {
  const cluster = document['cluster'];
  const value = typeof cluster === 'object' && cluster !== null ? (cluster as Record<string, unknown>)['psShards'] : undefined;
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_PS_SHARDS) {
    throw new K8sError(K8sErrorCode.CONFIG_PATH, `expected an integer from 0 to ${MAX_PS_SHARDS}, got ${JSON.stringify(value)}`, { field: 'cluster.psShards' });
  }
  return value;
}

function checkImage(image: string, field: string): void {
  if (image === '' || /\s/.test(image)) throw new K8sError(K8sErrorCode.OPTION, `expected an image reference such as registry.example.com/dtrain-cpu:0.1.0, got ${JSON.stringify(image)}`, { field });
}
