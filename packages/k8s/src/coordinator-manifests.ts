/**
 * The coordinator: one pod (a Deployment of 1 with the Recreate strategy, so
 * two coordinators never write one checkpoint folder), the Service workers
 * reach it through, and the volume its checkpoints and model live on. A
 * restarted coordinator resumes from its newest checkpoint.
 */
import { Deployment } from 'kubernetes-models/apps/v1';
import { PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import type { IIoK8sApiCoreV1ResourceRequirements, IIoK8sApiCoreV1Volume, IIoK8sApiCoreV1VolumeMount } from 'kubernetes-models/v1';
import { commonLabels, selectorLabels, type JobNames } from './job-names.js';
import { DATA_MOUNT, TMP_MOUNT, TMP_VOLUME, containerSecurityContext, dataVolume, mallocEnv, podSecurityContext, tokenEnv } from './pod-defaults.js';
import { CONFIG_FILE, CONFIG_MOUNT, COORDINATOR_GRACE_SECONDS, COORDINATOR_PORT, STATE_MOUNT } from './pod-layout.js';

export interface CoordinatorOptions {
  readonly names: JobNames;
  /** Image with the `dtrain` entrypoint (the CPU image is enough: the coordinator needs no GPU). */
  readonly image: string;
  /** Name of the Secret holding the worker token (key `token`). */
  readonly tokenSecret: string;
  /** Name of the ConfigMap holding job.yaml. */
  readonly configMap: string;
  /** A claim mounted read-only at /job holding the job's data; default: the image's own /job. */
  readonly dataClaim?: string;
  /** Size of the state volume, a Kubernetes quantity such as `10Gi`. */
  readonly stateSize: string;
  /** Pod template annotations, e.g. a checksum of the config so a changed config restarts the coordinator. */
  readonly podAnnotations?: Record<string, string>;
  readonly namespace?: string;
  /** CPU and memory; default requests 1 CPU / 2 GiB, limit 8 GiB (the dataset, weights and optimizer state live here). */
  readonly resources?: IIoK8sApiCoreV1ResourceRequirements;
}

const DEFAULT_RESOURCES: IIoK8sApiCoreV1ResourceRequirements = {
  requests: { cpu: '1', memory: '2Gi' },
  limits: { memory: '8Gi' },
};

export function coordinatorDeployment(o: CoordinatorOptions): Deployment {
  const volumes: IIoK8sApiCoreV1Volume[] = [
    { name: 'config', configMap: { name: o.configMap } },
    { name: 'state', persistentVolumeClaim: { claimName: o.names.state } },
    TMP_VOLUME,
  ];
  const mounts: IIoK8sApiCoreV1VolumeMount[] = [
    { name: 'config', mountPath: CONFIG_MOUNT, readOnly: true },
    { name: 'state', mountPath: STATE_MOUNT },
    TMP_MOUNT,
  ];
  if (o.dataClaim !== undefined) {
    volumes.push(dataVolume(o.dataClaim));
    mounts.push(DATA_MOUNT);
  }
  return new Deployment({
    metadata: { name: o.names.coordinator, labels: commonLabels(o.names, 'coordinator'), ...ns(o.namespace) },
    spec: {
      replicas: 1,
      // Never two coordinators: the old one writes its last checkpoint before the new one reads it.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: selectorLabels(o.names, 'coordinator') },
      template: {
        metadata: {
          labels: commonLabels(o.names, 'coordinator'),
          ...(o.podAnnotations === undefined ? {} : { annotations: o.podAnnotations }),
        },
        spec: {
          automountServiceAccountToken: false,
          // Service links would put <SERVICE>_PORT variables beside DTRAIN_TOKEN; dtrain reads none of them.
          enableServiceLinks: false,
          securityContext: podSecurityContext(),
          terminationGracePeriodSeconds: COORDINATOR_GRACE_SECONDS,
          containers: [
            {
              name: 'coordinator',
              image: o.image,
              args: ['coordinator', '--config', `${CONFIG_MOUNT}/${CONFIG_FILE}`, '--port', String(COORDINATOR_PORT), '--out', STATE_MOUNT, '--linger'],
              env: [tokenEnv(o.tokenSecret), ...mallocEnv()],
              ports: [{ name: 'http', containerPort: COORDINATOR_PORT, protocol: 'TCP' }],
              // Loading a large dataset happens before the port opens: give it up to 10 minutes.
              startupProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5, failureThreshold: 120 },
              // /healthz is answered by the event loop alone, whatever the step length: cheap and honest.
              livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
              // /readyz is 200 while workers are accepted; the Service routes workers only then.
              readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 },
              resources: o.resources ?? DEFAULT_RESOURCES,
              securityContext: containerSecurityContext(),
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  });
}

/** Workers' way in: `ws://<prefix>-coordinator:7070`; Prometheus scrapes /metrics on the same port. */
export function coordinatorService(o: Pick<CoordinatorOptions, 'names' | 'namespace'>): Service {
  return new Service({
    metadata: { name: o.names.coordinator, labels: commonLabels(o.names, 'coordinator'), ...ns(o.namespace) },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(o.names, 'coordinator'),
      // One port carries the workers' WebSocket and the HTTP endpoints (/healthz /readyz /status /metrics).
      ports: [{ name: 'http', port: COORDINATOR_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  });
}

/** Checkpoints, model/ and summary.json. `kubectl delete -f`/`-k` of the whole job deletes it too: copy the model out first. */
export function stateClaim(o: Pick<CoordinatorOptions, 'names' | 'namespace' | 'stateSize'>): PersistentVolumeClaim {
  return new PersistentVolumeClaim({
    metadata: { name: o.names.state, labels: commonLabels(o.names, 'coordinator'), ...ns(o.namespace) },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: o.stateSize } },
    },
  });
}

/** The namespace field only when one was asked for: without it `kubectl apply -n` decides. */
export function ns(namespace: string | undefined): { namespace?: string } {
  return namespace === undefined ? {} : { namespace };
}
