import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkConsistency } from './check-consistency.js';
import { EXAMPLE_PS_SHARDS, generateInfraFiles } from './generate-infra.js';
import { REPO, haveKubectl, kustomize } from './testing/repo.js';
import { parseManifestYaml, validateObjects, type KubeObject } from './validate-manifests.js';

const K8S = join(REPO, 'infra/k8s');

/**
 * Every complete Kubernetes object file under infra/k8s: not kustomization.yaml,
 * not the job config, not a patch (a fragment, checked through the rendered overlay).
 */
function objectFiles(dir: string): string[] {
  const names = readdirSync(dir);
  const patches = new Set<string>();
  if (names.includes('kustomization.yaml')) {
    const kustomization = parseManifestYaml(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))[0];
    for (const patch of (kustomization?.['patches'] as { path?: string }[] | undefined) ?? []) if (patch.path !== undefined) patches.add(patch.path);
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return objectFiles(path);
    return name.endsWith('.yaml') && name !== 'kustomization.yaml' && name !== 'job.yaml' && !patches.has(name) ? [path] : [];
  });
}

describe('infra/k8s generated files', () => {
  const generated = generateInfraFiles(REPO);

  it.each([...generated.keys()])('%s is up to date (regenerate: npx --yes pnpm@10.34.8 --filter @dtrain/k8s generate)', (path) => {
    expect(readFileSync(join(REPO, path), 'utf8')).toBe(generated.get(path));
  });

  it('covers the dashboard and every alert rule group of their sources', () => {
    const dashboard = parseManifestYaml(generated.get('infra/k8s/monitoring/grafana-dashboard.yaml') ?? '')[0];
    expect(dashboard?.metadata).toMatchObject({ labels: { grafana_dashboard: '1' } });
    const json = (dashboard?.['data'] as Record<string, string>)['dtrain.json'] ?? '';
    expect(JSON.parse(json)).toEqual(JSON.parse(readFileSync(join(REPO, 'infra/grafana/dashboards/dtrain.json'), 'utf8')));
    const rule = parseManifestYaml(generated.get('infra/k8s/monitoring/prometheus-rule.yaml') ?? '')[0];
    const source = parseManifestYaml(readFileSync(join(REPO, 'infra/prometheus/alerts.yml'), 'utf8'))[0];
    expect((rule?.['spec'] as { groups: unknown }).groups).toEqual(source?.['groups']);
  });
});

describe('infra/k8s files, each on its own', () => {
  it.each(objectFiles(K8S).map((p) => relative(REPO, p)))('%s passes the Kubernetes / prometheus-operator schemas', (path) => {
    const objects = parseManifestYaml(readFileSync(join(REPO, path), 'utf8'));
    expect(objects.length).toBeGreaterThan(0);
    expect(validateObjects(objects)).toEqual([]);
  });
});

const canKustomize = haveKubectl();
if (!canKustomize) {
  console.warn(
    '\n*** SKIPPED: kubectl is not on PATH, so `kubectl kustomize` did NOT render infra/k8s/overlays/{cpu,gpu}, infra/k8s/monitoring ' +
      'and infra/k8s/examples/{hpa,ps-shards,http-shared}, and their output was NOT validated. Install kubectl (it includes kustomize) to run these tests. ***\n',
  );
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  resources: { limits?: Record<string, unknown> };
  env?: { name: string }[];
}
const ref = (o: KubeObject): string => `${String(o.kind)}/${String(o.metadata?.name)}`;
const byRef = (objects: KubeObject[], wanted: string): KubeObject => {
  const found = objects.find((o) => ref(o) === wanted);
  if (found === undefined) throw new Error(`${wanted} not among ${objects.map(ref).join(', ')}`);
  return found;
};
const podSpec = (o: KubeObject): { containers: Container[]; nodeSelector?: Record<string, string>; tolerations?: unknown[]; volumes: { name: string; configMap?: { name: string } }[] } =>
  (o['spec'] as { template: { spec: never } }).template.spec;

describe.skipIf(!canKustomize)('kubectl kustomize', () => {
  const render = (dir: string): KubeObject[] => parseManifestYaml(kustomize(join(K8S, dir)));
  // The base leaves the token Secret to the user (kubectl create secret …).
  const external = ['Secret/dtrain-token'];

  it.each(['overlays/cpu', 'overlays/gpu', 'examples/hpa', 'examples/ps-shards', 'examples/http-shared'])('%s renders objects that pass the schemas and the consistency checks', (dir) => {
    const objects = render(dir);
    expect(objects.map(ref)).toEqual(expect.arrayContaining(['Deployment/dtrain-coordinator', 'Deployment/dtrain-worker', 'Service/dtrain-coordinator', 'PersistentVolumeClaim/dtrain-state']));
    expect(validateObjects(objects)).toEqual([]);
    expect(checkConsistency(objects, { external })).toEqual([]);
  });

  it('overlays/cpu: both containers run the CPU image, and the generated config name (with its hash) is the one mounted', () => {
    const objects = render('overlays/cpu');
    for (const name of ['Deployment/dtrain-coordinator', 'Deployment/dtrain-worker']) expect(podSpec(byRef(objects, name)).containers[0]?.image).toBe('dtrain-cpu:0.1.0');
    const config = objects.find((o) => o.kind === 'ConfigMap');
    expect(config?.metadata?.name).toMatch(/^dtrain-job-[a-z0-9]{10}$/);
    expect(podSpec(byRef(objects, 'Deployment/dtrain-coordinator')).volumes).toContainEqual({ name: 'config', configMap: { name: config?.metadata?.name } });
    expect(podSpec(byRef(objects, 'Deployment/dtrain-worker')).containers[0]?.resources.limits?.['nvidia.com/gpu']).toBeUndefined();
  });

  it('overlays/gpu: workers get one GPU, the GPU image, the node selector and toleration; the coordinator stays on CPU', () => {
    const objects = render('overlays/gpu');
    const worker = podSpec(byRef(objects, 'Deployment/dtrain-worker'));
    expect(worker.containers).toHaveLength(1);
    expect(worker.containers[0]?.image).toBe('dtrain-gpu:0.1.0');
    expect(worker.containers[0]?.resources.limits?.['nvidia.com/gpu']).toBe(1);
    expect(worker.containers[0]?.env?.map((e) => e.name).sort()).toEqual(['DTRAIN_TOKEN', 'TF_FORCE_GPU_ALLOW_GROWTH']);
    expect(worker.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(worker.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    const coordinator = podSpec(byRef(objects, 'Deployment/dtrain-coordinator'));
    expect(coordinator.containers[0]?.image).toBe('dtrain-cpu:0.1.0');
    expect(coordinator.containers[0]?.resources.limits?.['nvidia.com/gpu']).toBeUndefined();
  });

  it('monitoring: monitors, rules and dashboard pass their schemas, and the monitors select what the base runs', () => {
    const objects = render('monitoring');
    expect(objects.map(ref).sort()).toEqual([
      'ConfigMap/dtrain-grafana-dashboard',
      'PodMonitor/dtrain-ps',
      'PodMonitor/dtrain-worker',
      'PrometheusRule/dtrain-alerts',
      'ServiceMonitor/dtrain-coordinator',
    ]);
    expect(validateObjects(objects)).toEqual([]);
    // Together with a job they find its Service and pods (and their named ports), the shard pods too.
    expect(checkConsistency([...render('examples/ps-shards'), ...objects], { external })).toEqual([]);
    // A job without shard pods leaves only the shards' monitor idle (harmless: it scrapes nothing).
    expect(checkConsistency([...render('overlays/cpu'), ...objects], { external }).map((p) => p.object)).toEqual(['PodMonitor/dtrain-ps']);
  });

  it('examples/ps-shards: the CPU overlay plus a StatefulSet of shards on the CPU image, and the one job config (psShards set) mounted', () => {
    const objects = render('examples/ps-shards');
    const set = byRef(objects, 'StatefulSet/dtrain-ps');
    expect(set['spec']).toMatchObject({ replicas: EXAMPLE_PS_SHARDS, serviceName: 'dtrain-ps', podManagementPolicy: 'Parallel' });
    expect(podSpec(set).containers[0]?.image).toBe('dtrain-cpu:0.1.0');
    expect(podSpec(set).containers[0]?.args).toContain('ws://$(POD_NAME).dtrain-ps.$(POD_NAMESPACE).svc:7100');
    expect(byRef(objects, 'Service/dtrain-ps')['spec']).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    const configs = objects.filter((o) => o.kind === 'ConfigMap');
    expect(configs).toHaveLength(1);
    const config = configs[0]!;
    expect(config.metadata?.name).toMatch(/^dtrain-job-[a-z0-9]{10}$/);
    expect(config.metadata?.name).not.toBe(render('overlays/cpu').find((o) => o.kind === 'ConfigMap')?.metadata?.name);
    expect(podSpec(byRef(objects, 'Deployment/dtrain-coordinator')).volumes).toContainEqual({ name: 'config', configMap: { name: config.metadata?.name } });
    const job = parse((config['data'] as Record<string, string>)['job.yaml'] ?? '') as { name: string; cluster: Record<string, unknown> };
    expect(job.name).toBe('mnist-mlp');
    expect(job.cluster).toMatchObject({ psShards: EXAMPLE_PS_SHARDS });
  });

  it('examples/http-shared: the CPU overlay with the http job config mounted, and no data volume in any pod', () => {
    const objects = render('examples/http-shared');
    const configs = objects.filter((o) => o.kind === 'ConfigMap');
    expect(configs).toHaveLength(1);
    const config = configs[0]!;
    expect(podSpec(byRef(objects, 'Deployment/dtrain-coordinator')).volumes).toContainEqual({ name: 'config', configMap: { name: config.metadata?.name } });
    const job = parse((config['data'] as Record<string, string>)['job.yaml'] ?? '') as { name: string; dataset: { access: string; features: string[]; labels: string[] }; checkpoint: { dir: string } };
    // The base's objects carry the job label mnist-mlp: the config keeps that name.
    expect(job.name).toBe('mnist-mlp');
    expect(job.dataset.access).toBe('shared');
    for (const url of [...job.dataset.features, ...job.dataset.labels]) expect(url).toMatch(/^https:\/\//);
    expect(job.dataset.features).toHaveLength(job.dataset.labels.length);
    expect(job.checkpoint.dir).toBe('/var/lib/dtrain/checkpoints');
    for (const name of ['Deployment/dtrain-coordinator', 'Deployment/dtrain-worker']) {
      expect(podSpec(byRef(objects, name)).volumes.map((v) => v.name)).not.toContain('data');
    }
  });

  it('examples/hpa: the autoscaler targets the worker Deployment', () => {
    const hpa = byRef(render('examples/hpa'), 'HorizontalPodAutoscaler/dtrain-worker');
    expect(hpa['spec']).toMatchObject({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'dtrain-worker' }, minReplicas: 1 });
  });
});
