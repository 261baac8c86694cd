/**
 * What every dtrain container shares: the token from its Secret, a locked-down
 * security context, a writable /tmp on a read-only root filesystem; and for
 * the pods that read the job's data, its claim.
 */
import type {
  IIoK8sApiCoreV1EnvVar,
  IIoK8sApiCoreV1PodSecurityContext,
  IIoK8sApiCoreV1SecurityContext,
  IIoK8sApiCoreV1Volume,
  IIoK8sApiCoreV1VolumeMount,
} from 'kubernetes-models/v1';
import { JOB_ROOT, RUN_AS_USER, TOKEN_KEY } from './pod-layout.js';

/** DTRAIN_TOKEN from the Secret: the CLI reads it when no --token-file is given. */
export function tokenEnv(secretName: string): IIoK8sApiCoreV1EnvVar {
  return { name: 'DTRAIN_TOKEN', valueFrom: { secretKeyRef: { name: secretName, key: TOKEN_KEY } } };
}

/**
 * glibc malloc told to give freed memory back (two arenas, fixed mmap and
 * trim thresholds): the coordinator's RSS then returns to its steady state
 * after a storm of connections (measured by \`pnpm bench:storm\`: within 10%
 * with these, up to 14% above it with glibc's defaults). The usual setting
 * for a long-running Node service.
 */
export function mallocEnv(): IIoK8sApiCoreV1EnvVar[] {
  return [
    { name: 'MALLOC_ARENA_MAX', value: '2' },
    { name: 'MALLOC_MMAP_THRESHOLD_', value: '65536' },
    { name: 'MALLOC_TRIM_THRESHOLD_', value: '131072' },
  ];
}

/** Pod level: the images' non-root user; fsGroup makes the state volume writable for it. */
export function podSecurityContext(): IIoK8sApiCoreV1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: RUN_AS_USER,
    runAsGroup: RUN_AS_USER,
    fsGroup: RUN_AS_USER,
    // chown the state volume only when its root is not ours yet: a volume full of checkpoints starts fast.
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Container level: nothing to escalate, nothing to write outside the mounted volumes. */
export function containerSecurityContext(): IIoK8sApiCoreV1SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  };
}

/** A small scratch /tmp: tfjs and Node may want one, the root filesystem is read-only. */
export const TMP_VOLUME: IIoK8sApiCoreV1Volume = { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } };
export const TMP_MOUNT: IIoK8sApiCoreV1VolumeMount = { name: 'tmp', mountPath: '/tmp' };

/**
 * The job's data claim, read-only at {@link JOB_ROOT} in every pod that reads
 * the data (the coordinator; the workers unless `dataset.access` is `ship`):
 * the relocated paths in the config then name the same files in each pod.
 */
export function dataVolume(claimName: string): IIoK8sApiCoreV1Volume {
  return { name: 'data', persistentVolumeClaim: { claimName, readOnly: true } };
}
export const DATA_MOUNT: IIoK8sApiCoreV1VolumeMount = { name: 'data', mountPath: JOB_ROOT, readOnly: true };
