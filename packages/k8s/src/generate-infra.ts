/**
 * The generated files under infra/k8s: the kustomize base and the
 * parameter-server shards example (from the same builders as `dtrain k8s
 * render`, so the two cannot drift apart) and the monitoring objects (from
 * the dashboard and alert rules maintained in infra/grafana and
 * infra/prometheus). `pnpm --filter @dtrain/k8s generate`
 * writes them; a test fails when the committed files differ.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { coordinatorDeployment, coordinatorService, stateClaim } from './coordinator-manifests.js';
import { jobNames } from './job-names.js';
import { K8sError, K8sErrorCode } from './k8s-error.js';
import { toYamlStream } from './manifest-yaml.js';
import { coordinatorServiceMonitor, shardPodMonitor, workerPodMonitor } from './monitoring-manifests.js';
import { dashboardConfigMap, prometheusRule } from './observability-assets.js';
import { DEFAULT_STATE_SIZE } from './pod-layout.js';
import { relocateJobConfig } from './relocate-job-config.js';
import { shardService, shardStatefulSet } from './shard-statefulset.js';
import { workerDeployment } from './worker-deployment.js';

/** The example the base runs; the images ship examples/ at /job, so it works with the stock image. */
export const BASE_EXAMPLE = 'examples/mnist-mlp.yaml';
export const DASHBOARD_SOURCE = 'infra/grafana/dashboards/dtrain.json';
export const ALERTS_SOURCE = 'infra/prometheus/alerts.yml';
/** Image names the base uses; the overlays' `images:` point them at a registry and tag. */
export const BASE_IMAGES = { cpu: 'dtrain-cpu', gpu: 'dtrain-gpu' } as const;
/** Shard pods of infra/k8s/examples/ps-shards (and its job.yaml's `cluster.psShards`). */
export const EXAMPLE_PS_SHARDS = 2;

function header(source: string): string[] {
  return [`Generated from ${source} by packages/k8s (npx --yes pnpm@10.34.8 --filter @dtrain/k8s generate).`, 'Do not edit: change the source or the generator and regenerate; a test fails when this file is stale.'];
}

function comment(lines: readonly string[]): string {
  return lines.map((l) => (l === '' ? '#\n' : `# ${l}\n`)).join('');
}

function read(repoRoot: string, path: string): string {
  try {
    return readFileSync(join(repoRoot, path), 'utf8');
  } catch {
    throw new K8sError(K8sErrorCode.SOURCE, `${path}: cannot read it (the generator needs it)`);
  }
}

/** Every generated file, path relative to the repository root → content. */
export function generateInfraFiles(repoRoot: string): Map<string, string> {
  const files = new Map<string, string>();
  const exampleText = read(repoRoot, BASE_EXAMPLE);
  const exampleDir = dirname(join(repoRoot, BASE_EXAMPLE));
  const { text, document } = relocateJobConfig(exampleText, exampleDir);
  const jobName = String(document['name']);
  const names = jobNames('dtrain', jobName);

  files.set('infra/k8s/base/job.yaml', comment([...header(BASE_EXAMPLE), 'Data paths point under /job, where the images carry examples/.', '']) + text);
  files.set(
    'infra/k8s/base/coordinator.yaml',
    toYamlStream(
      [
        stateClaim({ names, stateSize: DEFAULT_STATE_SIZE }),
        coordinatorService({ names }),
        // The ConfigMap comes from kustomize's configMapGenerator (base/kustomization.yaml): its name gets
        // a content hash, so a changed job.yaml restarts the coordinator. The token Secret is the user's.
        coordinatorDeployment({ names, image: BASE_IMAGES.cpu, tokenSecret: names.token, configMap: names.config, stateSize: DEFAULT_STATE_SIZE }),
      ],
      header('packages/k8s/src/coordinator-manifests.ts'),
    ),
  );
  files.set(
    'infra/k8s/base/worker.yaml',
    toYamlStream([workerDeployment({ names, image: BASE_IMAGES.cpu, replicas: 2, gpu: false, tokenSecret: names.token })], header('packages/k8s/src/worker-deployment.ts')),
  );
  const sharded = relocateJobConfig(exampleText, exampleDir, { psShards: EXAMPLE_PS_SHARDS });
  files.set(
    'infra/k8s/examples/ps-shards/job.yaml',
    comment([...header(BASE_EXAMPLE), `Data paths point under /job, where the images carry examples/; cluster.psShards: ${EXAMPLE_PS_SHARDS}, the pods of shards.yaml.`, '']) + sharded.text,
  );
  files.set(
    'infra/k8s/examples/ps-shards/shards.yaml',
    toYamlStream(
      [shardService({ names }), shardStatefulSet({ names, image: BASE_IMAGES.cpu, replicas: EXAMPLE_PS_SHARDS, tokenSecret: names.token })],
      header('packages/k8s/src/shard-statefulset.ts'),
    ),
  );
  files.set('infra/k8s/monitoring/monitors.yaml', toYamlStream([coordinatorServiceMonitor({}), workerPodMonitor({}), shardPodMonitor({})], header('packages/k8s/src/monitoring-manifests.ts')));
  files.set('infra/k8s/monitoring/grafana-dashboard.yaml', toYamlStream([dashboardConfigMap(read(repoRoot, DASHBOARD_SOURCE), DASHBOARD_SOURCE)], header(DASHBOARD_SOURCE)));
  files.set('infra/k8s/monitoring/prometheus-rule.yaml', toYamlStream([prometheusRule(read(repoRoot, ALERTS_SOURCE), ALERTS_SOURCE)], header(ALERTS_SOURCE)));
  return files;
}
