/**
 * The parameter-server shards (`cluster.psShards` ≥ 1): a StatefulSet of K
 * `dtrain ps` pods and the headless Service that gives each one a stable DNS
 * name, `<prefix>-ps-<i>.<prefix>-ps.<namespace>.svc`. Workers dial a shard at
 * the address it advertises, so that address must survive the pod's restart:
 * a Deployment's pods get new names, a StatefulSet's keep theirs, and pod i
 * registers as shard i (`--index auto` reads the ordinal from its hostname).
 *
 * The number of pods is the config's `cluster.psShards`: the coordinator waits
 * for exactly that many, so change both together (render again with
 * `--ps-shards`), never `kubectl scale` the StatefulSet alone.
 */
import { StatefulSet } from 'kubernetes-models/apps/v1';
import { Service } from 'kubernetes-models/v1';
import type { IIoK8sApiCoreV1ResourceRequirements } from 'kubernetes-models/v1';
import { ns } from './coordinator-manifests.js';
import { commonLabels, selectorLabels, type JobNames } from './job-names.js';
import { K8sError, K8sErrorCode } from './k8s-error.js';
import { TMP_MOUNT, TMP_VOLUME, containerSecurityContext, podSecurityContext, tokenEnv } from './pod-defaults.js';
import { COORDINATOR_PORT, SHARD_GRACE_SECONDS, SHARD_PORT } from './pod-layout.js';

/** The most shards a job config allows (`cluster.psShards`, apps/coordinator/src/config/cluster-config.ts). */
export const MAX_PS_SHARDS = 256;

/**
 * Kubernetes labels each StatefulSet pod `controller-revision-hash: <name>-<hash>`
 * (the hash up to 10 characters) and a label value has at most 63: a longer
 * StatefulSet name creates no pods at all.
 */
const MAX_STATEFULSET_NAME = 63 - 11;

export interface ShardOptions {
  readonly names: JobNames;
  /** Image with the `dtrain` entrypoint: the coordinator's (a shard needs no GPU). */
  readonly image: string;
  /** Number of shards, 1 to {@link MAX_PS_SHARDS}: the config's `cluster.psShards`. */
  readonly replicas: number;
  /** Name of the Secret holding the worker token (key `token`); shards authenticate to the coordinator as workers do. */
  readonly tokenSecret: string;
  readonly podAnnotations?: Record<string, string>;
  readonly namespace?: string;
  /**
   * CPU and memory; default requests 1 CPU / 1 GiB, limit 4 GiB. A shard holds
   * its 1/K of the weights, the optimizer's slots for them and a float64
   * accumulator, plus about 200 MB: raise the limit for models whose
   * (4 + 4 × slots + 8) bytes × parameters / K comes near it.
   */
  readonly resources?: IIoK8sApiCoreV1ResourceRequirements;
}

const DEFAULT_RESOURCES: IIoK8sApiCoreV1ResourceRequirements = { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '4Gi' } };

/**
 * The address shard i advertises to workers. `$(POD_NAME)` and
 * `$(POD_NAMESPACE)` are expanded by the kubelet from the container's env
 * (the downward API); `.svc` without the cluster domain resolves through the
 * pod's DNS search path, whatever the cluster calls its domain.
 */
export function shardAdvertiseUrl(names: JobNames): string {
  return `ws://$(POD_NAME).${names.shards}.$(POD_NAMESPACE).svc:${SHARD_PORT}`;
}

export function shardStatefulSet(o: ShardOptions): StatefulSet {
  if (!Number.isInteger(o.replicas) || o.replicas < 1 || o.replicas > MAX_PS_SHARDS) {
    throw new K8sError(K8sErrorCode.OPTION, `expected an integer from 1 to ${MAX_PS_SHARDS}, got ${o.replicas}`, { field: 'ps-shards' });
  }
  if (o.names.shards.length > MAX_STATEFULSET_NAME) {
    throw new K8sError(
      K8sErrorCode.CONFIG_PATH,
      `the shards' StatefulSet ${o.names.shards} would be longer than the ${MAX_STATEFULSET_NAME} characters Kubernetes allows one; shorten the job's name`,
      { field: 'name' },
    );
  }
  return new StatefulSet({
    metadata: { name: o.names.shards, labels: commonLabels(o.names, 'ps'), ...ns(o.namespace) },
    spec: {
      replicas: o.replicas,
      serviceName: o.names.shards,
      // The coordinator sets the shards up only once all K have registered: with the default
      // OrderedReady, pod 1 would wait for pod 0 to be ready, which waits for pod 1.
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selectorLabels(o.names, 'ps') },
      template: {
        metadata: {
          labels: commonLabels(o.names, 'ps'),
          ...(o.podAnnotations === undefined ? {} : { annotations: o.podAnnotations }),
        },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext(),
          terminationGracePeriodSeconds: SHARD_GRACE_SECONDS,
          // Spread shards over nodes when there is room: a node's loss then costs one shard's restart, not all.
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selectorLabels(o.names, 'ps') } },
          ],
          containers: [
            {
              name: 'ps',
              image: o.image,
              args: [
                'ps',
                '--coordinator',
                `ws://${o.names.coordinator}:${COORDINATOR_PORT}`,
                '--index',
                'auto',
                '--port',
                String(SHARD_PORT),
                '--advertise',
                shardAdvertiseUrl(o.names),
              ],
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                // The token as the workers get it: DTRAIN_TOKEN from the Secret, read at start.
                tokenEnv(o.tokenSecret),
              ],
              ports: [{ name: 'data', containerPort: SHARD_PORT, protocol: 'TCP' }],
              // /healthz is 200 while the process runs; a shard holds nothing, so restarting a hung one costs a rollback only.
              livenessProbe: { httpGet: { path: '/healthz', port: 'data' }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
              // /readyz is 200 once the coordinator has set the shard up. Nothing routes through the Service
              // (workers dial pods by name), but a rolling update waits for each pod to be ready again.
              readinessProbe: { httpGet: { path: '/readyz', port: 'data' }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 },
              resources: o.resources ?? DEFAULT_RESOURCES,
              securityContext: containerSecurityContext(),
              volumeMounts: [TMP_MOUNT],
            },
          ],
          volumes: [TMP_VOLUME],
        },
      },
    },
  });
}

/**
 * Headless (no cluster IP, no load balancing): it exists for the DNS names of
 * the shard pods. `publishNotReadyAddresses` makes a pod's name resolve from
 * its start and through a failed readiness probe: workers dial a shard as soon
 * as the coordinator has set it up and handed out its address, before the
 * kubelet's next probe has marked the pod ready, and a name that came and went
 * with readiness would break their reconnects at the worst moment.
 */
export function shardService(o: Pick<ShardOptions, 'names' | 'namespace'>): Service {
  return new Service({
    metadata: { name: o.names.shards, labels: commonLabels(o.names, 'ps'), ...ns(o.namespace) },
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: selectorLabels(o.names, 'ps'),
      ports: [{ name: 'data', port: SHARD_PORT, targetPort: 'data', protocol: 'TCP' }],
    },
  });
}
