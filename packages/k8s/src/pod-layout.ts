/**
 * Where things are inside dtrain's pods, and the numbers the manifests share.
 * The images (infra/docker) and the README rely on these same values.
 */

/** The coordinator's one port: workers' WebSocket and /healthz /readyz /status /metrics. */
export const COORDINATOR_PORT = 7070;

/** Port of a worker's own Prometheus endpoint (`dtrain worker --metrics-port`). */
export const WORKER_METRICS_PORT = 9400;

/**
 * A parameter-server shard's one port (`dtrain ps --port`, its default):
 * workers' data-plane WebSocket and /metrics /healthz /readyz.
 */
export const SHARD_PORT = 7100;

/**
 * The job folder as the coordinator sees it, and the workers when they read
 * the data themselves (`dataset.access` not `ship`): the config's data paths
 * are rewritten from "relative to the config file" to "under /job". The
 * images ship the repository's examples/ here; a job's own data comes from a
 * derived image or from a PersistentVolumeClaim mounted here (`--data-pvc`).
 */
export const JOB_ROOT = '/job';

/** The job config ConfigMap is mounted here as a folder (not subPath, so no nested mounts); the file is job.yaml. */
export const CONFIG_MOUNT = '/etc/dtrain';
export const CONFIG_FILE = 'job.yaml';

/** The coordinator's state volume: `--out` (model/, summary.json) and checkpoints/ live here. */
export const STATE_MOUNT = '/var/lib/dtrain';
export const CHECKPOINT_DIR = `${STATE_MOUNT}/checkpoints`;

/** Key of the worker token in its Secret; exposed to both containers as DTRAIN_TOKEN. */
export const TOKEN_KEY = 'token';

/** The non-root user the images create (infra/docker); pods run as it and own the state volume through fsGroup. */
export const RUN_AS_USER = 10001;

/**
 * A worker handles SIGTERM between computations: it sends `leave` and exits
 * 0 at once, but a step's computation in progress finishes first (it is
 * synchronous). 15 s covers a step of any model this project trains on CPU
 * with margin; if the kill comes anyway, the coordinator sees the socket
 * close and hands the batch to another worker, so nothing is lost.
 */
export const WORKER_GRACE_SECONDS = 15;

/**
 * A shard exits promptly on SIGTERM and keeps nothing: the coordinator
 * collects the shards' state into its checkpoints and sets a restarted shard
 * up from the last one.
 */
export const SHARD_GRACE_SECONDS = 10;

/** The coordinator writes a checkpoint on SIGTERM before it exits; large models need time for that. */
export const COORDINATOR_GRACE_SECONDS = 60;

/** Default size of the state volume (checkpoints: `keep` copies of weights + optimizer state, plus the model). */
export const DEFAULT_STATE_SIZE = '10Gi';
