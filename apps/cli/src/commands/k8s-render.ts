import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { loadJobConfig } from '@dtrain/coordinator';
import type * as K8s from '@dtrain/k8s';
import { intFlag, parseFlags, required } from '../args.js';
import { UsageError, UsageErrorCode } from '../usage-error.js';

const SUBCOMMANDS = ['render'] as const;

/** `dtrain k8s <subcommand>`: Kubernetes helpers; today only `render`. */
export async function k8sCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'render') return k8sRenderCommand(rest);
  throw new UsageError(UsageErrorCode.USAGE, `dtrain k8s: ${sub === undefined ? 'missing subcommand' : `unknown subcommand ${JSON.stringify(sub)}`}; one of ${SUBCOMMANDS.join(', ')}`);
}

/**
 * `dtrain k8s render`: prints the Kubernetes objects of one job (config
 * ConfigMap, token Secret, state volume, coordinator Service + Deployment,
 * with parameter-server shards their headless Service + StatefulSet, worker
 * Deployment, optionally monitors) as YAML on stdout, for
 * `kubectl apply -f -`. The config is validated first, as the coordinator
 * would, so a mistake is reported here and not in a pod's log.
 * @param out where the YAML goes (stdout); notes go to `notes` (stderr).
 */
export async function k8sRenderCommand(
  argv: readonly string[],
  out: NodeJS.WritableStream = process.stdout,
  notes: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const f = parseFlags('k8s render', argv, {
    config: { type: 'string' },
    image: { type: 'string' },
    'worker-image': { type: 'string' },
    workers: { type: 'string' },
    'ps-shards': { type: 'string' },
    gpu: { type: 'boolean' },
    namespace: { type: 'string' },
    'token-secret': { type: 'string' },
    'data-pvc': { type: 'string' },
    storage: { type: 'string' },
    monitoring: { type: 'boolean' },
    'monitor-label': { type: 'string', multiple: true },
    quiet: { type: 'boolean' },
  });
  const configPath = resolve(required('k8s render', 'config', f.config));
  const image = required('k8s render', 'image', f.image);
  const workers = intFlag('k8s render', 'workers', f.workers, 2, 0, 1000);
  // cluster.psShards' own range (MAX_PS_SHARDS of @dtrain/k8s, loaded below); absent: the config's value.
  const psShards = f['ps-shards'] === undefined ? undefined : intFlag('k8s render', 'ps-shards', f['ps-shards'], 0, 0, 256);
  const monitorLabels = parseLabels(f['monitor-label'] ?? []);
  if (monitorLabels !== undefined && f.monitoring !== true) throw new UsageError(UsageErrorCode.USAGE, 'dtrain k8s render: --monitor-label needs --monitoring');
  // The coordinator's own loader: a bad config exits 2 naming the field, exactly as `dtrain coordinator` would.
  const config = await loadJobConfig(configPath);
  // Loaded only here: the other commands (workers above all) start without the Kubernetes schemas.
  const k8s = await import('@dtrain/k8s');
  let rendered: K8s.RenderedJob;
  try {
    rendered = k8s.renderJob({
      configText: readFileSync(configPath, 'utf8'),
      configDir: config.configDir,
      image,
      workers,
      gpu: f.gpu === true,
      monitoring: f.monitoring === true,
      ...(psShards === undefined ? {} : { psShards }),
      ...(f['worker-image'] === undefined ? {} : { workerImage: f['worker-image'] }),
      ...(f.namespace === undefined ? {} : { namespace: f.namespace }),
      ...(f['token-secret'] === undefined ? {} : { existingTokenSecret: f['token-secret'] }),
      ...(f['data-pvc'] === undefined ? {} : { dataClaim: f['data-pvc'] }),
      ...(f.storage === undefined ? {} : { stateSize: f.storage }),
      ...(monitorLabels === undefined ? {} : { monitorLabels }),
    });
  } catch (error) {
    if (error instanceof k8s.K8sError && error.isUserError) throw new UsageError(UsageErrorCode.USAGE, `dtrain k8s render: ${flagName(error)}${error.message}`);
    throw error;
  }
  selfCheck(k8s, rendered, f['token-secret'], f['data-pvc']);
  const { names } = rendered;
  out.write(
    k8s.toYamlStream(rendered.manifests, [
      `dtrain job ${names.job}, rendered by \`dtrain k8s render\` from ${basename(configPath)}.`,
      `Apply: kubectl apply -f <this file>${f.namespace === undefined ? ' [-n NAMESPACE]' : ''}`,
      `Scale: kubectl scale deployment/${names.worker} --replicas=N`,
      ...(rendered.psShards === 0
        ? []
        : [`Shards: ${rendered.psShards} pods of statefulset/${names.shards}, as the config's cluster.psShards says: change both by rendering again with --ps-shards, never scale it alone`]),
      `Status: kubectl port-forward service/${names.coordinator} ${k8s.COORDINATOR_PORT}, then /status with the token`,
    ]),
  );
  if (f.quiet !== true) {
    for (const line of dataNotes(k8s, rendered, f['data-pvc'], f['worker-image'])) notes.write(`dtrain k8s render: ${line}\n`);
    if (rendered.generatedToken) {
      notes.write(`dtrain k8s render: Secret ${names.token} holds a new random token; rendering again makes another (and restarts the pods): keep this output, or pass --token-secret\n`);
    }
  }
  return 0;
}

/** Who reads the job's data (from `dataset.access`), where from, and what that asks of the claim or the server. */
function dataNotes(k8s: typeof K8s, rendered: K8s.RenderedJob, dataClaim: string | undefined, workerImage: string | undefined): string[] {
  const { dataFiles, dataUrls, dataAccess } = rendered;
  const workersRead = k8s.workersReadData(dataAccess);
  const readers = { ship: 'the coordinator reads', shared: 'the coordinator and the workers read', auto: 'the coordinator (and for a large dataset the workers) reads' }[dataAccess];
  const lines: string[] = [];
  if (dataFiles.length > 0 || dataUrls.length === 0) {
    const files = dataFiles.length === 0 ? 'no data files' : dataFiles.join(', ');
    let source: string;
    if (dataClaim !== undefined) {
      source = workersRead
        ? `on the claim ${dataClaim}, mounted read-only in the coordinator and every worker (workers on several nodes need a ReadOnlyMany or ReadWriteMany claim; dataset.access: ship keeps it on the coordinator alone)`
        : `on the claim ${dataClaim}`;
    } else {
      const images = workersRead && workerImage !== undefined ? 'the images (--worker-image too)' : 'the image';
      source = `in ${images} (the dtrain images carry examples/ there; for your own data build FROM the image and COPY the config folder to /job/)`;
    }
    lines.push(`${readers} ${files} under ${k8s.JOB_ROOT}, ${source}`);
  }
  if (dataUrls.length > 0) lines.push(`${readers} ${dataUrls.join(', ')} over http(s): the server must answer Range requests with 206 Partial Content`);
  return lines;
}

/** Never print objects the API server would reject: a failure here is a bug in @dtrain/k8s (exit 1). */
function selfCheck(k8s: typeof K8s, rendered: K8s.RenderedJob, tokenSecret: string | undefined, dataClaim: string | undefined): void {
  const objects = rendered.manifests.map((m) => m.toJSON() as K8s.KubeObject);
  const external = [...(tokenSecret === undefined ? [] : [`Secret/${tokenSecret}`]), ...(dataClaim === undefined ? [] : [`PersistentVolumeClaim/${dataClaim}`])];
  const problems = [...k8s.validateObjects(objects), ...k8s.checkConsistency(objects, { external })];
  const first = problems[0];
  if (first !== undefined) throw new k8s.K8sError(k8s.K8sErrorCode.INVALID_MANIFEST, `dtrain k8s render produced an invalid ${first.object}: ${first.message} (a bug: please report it)`);
}

function flagName(error: K8s.K8sError): string {
  // Option errors name the flag as a field; config errors name the config field themselves.
  return error.code === 'DTRAIN_K8S_OPTION' && error.field !== undefined ? '--' : '';
}

function parseLabels(pairs: readonly string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const match = /^([A-Za-z0-9./_-]+)=([A-Za-z0-9._-]*)$/.exec(pair);
    if (match === null) throw new UsageError(UsageErrorCode.USAGE, `dtrain k8s render: --monitor-label must be KEY=VALUE (a Kubernetes label), got ${JSON.stringify(pair)}`);
    labels[match[1] ?? ''] = match[2] ?? '';
  }
  return labels;
}
