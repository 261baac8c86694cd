/**
 * The workers: a Deployment whose replica count is the number of workers.
 * `kubectl scale deployment/<prefix>-worker --replicas=N` grows or shrinks a
 * running job: new pods join at the next step boundary, removed pods get
 * SIGTERM, leave cleanly and their batches go to the others.
 */
import { Deployment } from 'kubernetes-models/apps/v1';
import type { IIoK8sApiCoreV1ResourceRequirements, IIoK8sApiCoreV1Toleration, IIoK8sApiCoreV1Volume, IIoK8sApiCoreV1VolumeMount } from 'kubernetes-models/v1';
import { commonLabels, selectorLabels, type JobNames } from './job-names.js';
import { ns } from './coordinator-manifests.js';
import { DATA_MOUNT, TMP_MOUNT, TMP_VOLUME, containerSecurityContext, dataVolume, podSecurityContext, tokenEnv } from './pod-defaults.js';
import { COORDINATOR_PORT, WORKER_GRACE_SECONDS, WORKER_METRICS_PORT } from './pod-layout.js';

export interface WorkerOptions {
  readonly names: JobNames;
  /** Worker image: the CPU image, or the GPU image with `gpu`. */
  readonly image: string;
  /** Initial number of workers (the Deployment's replicas). */
  readonly replicas: number;
  /** One `nvidia.com/gpu` per worker, and the toleration GPU node pools are usually tainted with. */
  readonly gpu: boolean;
  /** Name of the Secret holding the worker token (key `token`). */
  readonly tokenSecret: string;
  /**
   * A claim with the job's data, mounted read-only at /job as on the
   * coordinator, for workers that read the dataset themselves
   * (`dataset.access` shared or auto). Default none: the workers get their
   * samples from the coordinator, or read them from their image's /job or
   * from http(s) URLs. Workers on several nodes need a ReadOnlyMany or
   * ReadWriteMany claim.
   */
  readonly dataClaim?: string;
  readonly podAnnotations?: Record<string, string>;
  readonly namespace?: string;
}

/** Workers hold the model, one batch and their data chunks; a GPU worker's work is on the device. */
const CPU_RESOURCES: IIoK8sApiCoreV1ResourceRequirements = { requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '4Gi' } };
const GPU_RESOURCES: IIoK8sApiCoreV1ResourceRequirements = { requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '8Gi', 'nvidia.com/gpu': '1' } };
const GPU_TOLERATIONS: IIoK8sApiCoreV1Toleration[] = [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }];

export function workerDeployment(o: WorkerOptions): Deployment {
  const volumes: IIoK8sApiCoreV1Volume[] = [TMP_VOLUME];
  const mounts: IIoK8sApiCoreV1VolumeMount[] = [TMP_MOUNT];
  if (o.dataClaim !== undefined) {
    volumes.push(dataVolume(o.dataClaim));
    mounts.push(DATA_MOUNT);
  }
  return new Deployment({
    metadata: { name: o.names.worker, labels: commonLabels(o.names, 'worker'), ...ns(o.namespace) },
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: selectorLabels(o.names, 'worker') },
      template: {
        metadata: {
          labels: commonLabels(o.names, 'worker'),
          ...(o.podAnnotations === undefined ? {} : { annotations: o.podAnnotations }),
        },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext(),
          terminationGracePeriodSeconds: WORKER_GRACE_SECONDS,
          // Spread workers over nodes when there is room: one node's loss then costs one worker.
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selectorLabels(o.names, 'worker') } },
          ],
          ...(o.gpu ? { tolerations: GPU_TOLERATIONS } : {}),
          containers: [
            {
              name: 'worker',
              image: o.image,
              args: ['worker', '--coordinator', `ws://${o.names.coordinator}:${COORDINATOR_PORT}`, '--metrics-port', String(WORKER_METRICS_PORT), '--linger'],
              env: [tokenEnv(o.tokenSecret), ...(o.gpu ? [{ name: 'TF_FORCE_GPU_ALLOW_GROWTH', value: 'true' }] : [])],
              ports: [{ name: 'metrics', containerPort: WORKER_METRICS_PORT, protocol: 'TCP' }],
              // No probes: a worker that loses its coordinator retries with backoff and exits when it gives up;
              // the coordinator evicts a silent worker by its heartbeat. Restarting is the kubelet's job.
              resources: o.gpu ? GPU_RESOURCES : CPU_RESOURCES,
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
