import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkConsistency } from './check-consistency.js';
import { K8sError } from './k8s-error.js';
import { toYamlStream } from './manifest-yaml.js';
import { renderJob, type RenderJobOptions } from './render-job.js';
import { parseManifestYaml, validateObjects, type KubeObject } from './validate-manifests.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const EXAMPLES = join(REPO, 'examples');
const exampleFiles = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

function render(file: string, options: Partial<RenderJobOptions> = {}): KubeObject[] {
  const rendered = renderJob({ configText: readFileSync(join(EXAMPLES, file), 'utf8'), configDir: EXAMPLES, image: 'reg.example.com/dtrain-cpu:0.1.0', workers: 2, gpu: false, ...options });
  return parseManifestYaml(toYamlStream(rendered.manifests));
}

interface Container {
  image: string;
  args: string[];
  env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string } } }[];
  resources: { limits?: Record<string, unknown> };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  containers: Container[];
  volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[];
  tolerations?: unknown[];
  terminationGracePeriodSeconds: number;
}
const get = (list: KubeObject[], kind: string, name: string): KubeObject => {
  const found = list.find((o) => o.kind === kind && o.metadata?.name === name);
  if (found === undefined) throw new Error(`no ${kind}/${name} among ${list.map((o) => `${String(o.kind)}/${String(o.metadata?.name)}`).join(', ')}`);
  return found;
};
const pod = (o: KubeObject): PodSpec => (o['spec'] as { template: { spec: PodSpec } }).template.spec;
const container = (o: KubeObject): Container => pod(o).containers[0]!;

describe('renderJob', () => {
  it('finds the example configs', () => expect(exampleFiles.length).toBeGreaterThanOrEqual(3));

  it.each(exampleFiles.flatMap((file) => [
    [file, 'cpu', {}],
    [file, 'gpu + namespace + monitoring', { gpu: true, workerImage: 'reg.example.com/dtrain-gpu:0.1.0', namespace: 'training', monitoring: true, monitorLabels: { release: 'kps' } }],
    [file, 'existing token + data claim', { existingTokenSecret: 'shared-token', dataClaim: 'job-data', stateSize: '50Gi' }],
    [file, '3 shards + namespace + monitoring', { psShards: 3, namespace: 'training', monitoring: true }],
    [file, '2 shards + existing token', { psShards: 2, existingTokenSecret: 'shared-token', dataClaim: 'job-data' }],
  ] as const))('%s (%s) passes the Kubernetes and prometheus-operator schemas and the consistency checks', (file, _variant, options) => {
    const list = render(file, options);
    expect(validateObjects(list)).toEqual([]);
    const external = 'existingTokenSecret' in options ? ['Secret/shared-token', 'PersistentVolumeClaim/job-data'] : [];
    expect(checkConsistency(list, { external })).toEqual([]);
  });

  it('names every object after the job and wires the workers to the coordinator Service', () => {
    const list = render('mnist-mlp.yaml', { workers: 5 });
    expect(list.map((o) => `${String(o.kind)}/${String(o.metadata?.name)}`)).toEqual([
      'ConfigMap/mnist-mlp-job',
      'Secret/mnist-mlp-token',
      'PersistentVolumeClaim/mnist-mlp-state',
      'Service/mnist-mlp-coordinator',
      'Deployment/mnist-mlp-coordinator',
      'Deployment/mnist-mlp-worker',
    ]);
    const workers = get(list, 'Deployment', 'mnist-mlp-worker');
    expect((workers['spec'] as { replicas: number }).replicas).toBe(5);
    expect(container(workers).args).toEqual(['worker', '--coordinator', 'ws://mnist-mlp-coordinator:7070', '--metrics-port', '9400', '--linger']);
    expect(container(get(list, 'Deployment', 'mnist-mlp-coordinator')).args).toEqual(['coordinator', '--config', '/etc/dtrain/job.yaml', '--port', '7070', '--out', '/var/lib/dtrain', '--linger']);
    expect(get(list, 'Deployment', 'mnist-mlp-coordinator')['spec']).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
  });

  it('embeds the config with data paths under /job and checkpoints on the state volume', () => {
    const data = (get(render('digits-csv.yaml'), 'ConfigMap', 'digits-csv-job')['data'] as Record<string, string>)['job.yaml']!;
    expect(data).toContain('path: /job/data/digits/digits-14x14.csv');
    expect(data).toMatch(/checkpoint:\n {2}dir: \/var\/lib\/dtrain\/checkpoints/);
    expect(data).toContain('# The CSV example');
  });

  it('gives both containers the token from the Secret, a fresh one per render', () => {
    const a = render('mnist-mlp.yaml');
    const b = render('mnist-mlp.yaml');
    const token = (o: KubeObject[]): string => (get(o, 'Secret', 'mnist-mlp-token')['stringData'] as { token: string }).token;
    expect(token(a)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(token(a)).not.toBe(token(b));
    for (const name of ['mnist-mlp-coordinator', 'mnist-mlp-worker']) {
      expect(container(get(a, 'Deployment', name)).env).toContainEqual({ name: 'DTRAIN_TOKEN', valueFrom: { secretKeyRef: { name: 'mnist-mlp-token', key: 'token' } } });
    }
    // A new token changes the pod templates, so Kubernetes restarts pods that read the old one.
    const note = (o: KubeObject[]): unknown => (get(o, 'Deployment', 'mnist-mlp-worker')['spec'] as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations['dtrain/token-sha256'];
    expect(note(a)).not.toEqual(note(b));
  });

  it('uses an existing Secret and a data claim when asked, and emits no Secret', () => {
    const list = render('mnist-mlp.yaml', { existingTokenSecret: 'shared-token', dataClaim: 'job-data' });
    expect(list.some((o) => o.kind === 'Secret')).toBe(false);
    const coordinator = get(list, 'Deployment', 'mnist-mlp-coordinator');
    expect(container(coordinator).env[0]?.valueFrom?.secretKeyRef.name).toBe('shared-token');
    expect(pod(coordinator).volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'job-data', readOnly: true } });
    expect(container(coordinator).volumeMounts).toContainEqual({ name: 'data', mountPath: '/job', readOnly: true });
  });

  it('asks for one GPU per worker with --gpu, and none otherwise', () => {
    const gpu = get(render('mnist-cnn.yaml', { gpu: true, workerImage: 'gpu-img' }), 'Deployment', 'mnist-cnn-worker');
    expect(container(gpu).resources.limits?.['nvidia.com/gpu']).toBe('1');
    expect(container(gpu).image).toBe('gpu-img');
    expect(container(gpu).env).toContainEqual({ name: 'TF_FORCE_GPU_ALLOW_GROWTH', value: 'true' });
    expect(pod(gpu).tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    const cpu = get(render('mnist-cnn.yaml'), 'Deployment', 'mnist-cnn-worker');
    expect(container(cpu).resources.limits?.['nvidia.com/gpu']).toBeUndefined();
    expect(pod(cpu).tolerations).toBeUndefined();
  });

  it.each<[string, Partial<RenderJobOptions>, string]>([
    ['an image with a space', { image: 'my image' }, '--image'],
    ['a bad namespace', { namespace: 'Training_Jobs' }, 'namespace'],
    ['a bad storage size', { stateSize: 'ten gigs' }, 'storage'],
    ['a negative worker count', { workers: -1 }, 'workers'],
    ['a bad claim name', { dataClaim: 'UPPER' }, 'data-pvc'],
    ['a negative shard count', { psShards: -1 }, '--ps-shards'],
    ['a fractional shard count', { psShards: 1.5 }, '--ps-shards'],
    ['more shards than a config allows', { psShards: 257 }, '--ps-shards'],
  ])('rejects %s naming the option', (_what, options, field) => {
    let error: unknown;
    try {
      render('mnist-mlp.yaml', options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(K8sError);
    expect((error as K8sError).field).toBe(field.replace(/^--/, ''));
    expect((error as K8sError).isUserError).toBe(true);
  });

  describe('dataset.access: which pods get the data claim', () => {
    const MLP = readFileSync(join(EXAMPLES, 'mnist-mlp.yaml'), 'utf8');
    /** mnist-mlp.yaml with `dataset.access` set to `access`, or as written when undefined. */
    const withAccess = (access: string | undefined): string => (access === undefined ? MLP : MLP.replace('  format: idx\n', `  format: idx\n  access: ${access}\n`));
    const renderAccess = (access: string | undefined, options: Partial<RenderJobOptions> = {}): KubeObject[] =>
      parseManifestYaml(toYamlStream(renderJob({ configText: withAccess(access), configDir: EXAMPLES, image: 'img:1', workers: 2, gpu: false, ...options }).manifests));
    const DATA_VOLUME = { name: 'data', persistentVolumeClaim: { claimName: 'job-data', readOnly: true } };
    const DATA_MOUNT = { name: 'data', mountPath: '/job', readOnly: true };
    const TMP_VOLUME = { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } };
    const TMP_MOUNT = { name: 'tmp', mountPath: '/tmp' };

    it.each([
      ['shared', 'shared'],
      ['auto', 'auto'],
      ['absent (auto)', undefined],
    ])('%s with a data claim: the workers mount it read-only at /job, exactly as the coordinator does', (_what, access) => {
      const list = renderAccess(access, { dataClaim: 'job-data' });
      const worker = get(list, 'Deployment', 'mnist-mlp-worker');
      const coordinator = get(list, 'Deployment', 'mnist-mlp-coordinator');
      expect(pod(worker).volumes).toEqual([TMP_VOLUME, DATA_VOLUME]);
      expect(container(worker).volumeMounts).toEqual([TMP_MOUNT, DATA_MOUNT]);
      // Same claim, same path, read-only in both: the config's /job/... paths name the same files in every pod.
      expect(pod(coordinator).volumes).toContainEqual(DATA_VOLUME);
      expect(container(coordinator).volumeMounts).toContainEqual(DATA_MOUNT);
      expect(validateObjects(list)).toEqual([]);
      expect(checkConsistency(list, { external: ['PersistentVolumeClaim/job-data'] })).toEqual([]);
      // The claim is not among the objects: without it declared external, both pods are reported.
      expect(checkConsistency(list).map((p) => p.object)).toEqual(['Deployment/mnist-mlp-coordinator', 'Deployment/mnist-mlp-worker']);
    });

    it('ship with a data claim: only the coordinator mounts it, the workers keep /tmp alone', () => {
      const list = renderAccess('ship', { dataClaim: 'job-data' });
      const worker = get(list, 'Deployment', 'mnist-mlp-worker');
      expect(pod(worker).volumes).toEqual([TMP_VOLUME]);
      expect(container(worker).volumeMounts).toEqual([TMP_MOUNT]);
      const coordinator = get(list, 'Deployment', 'mnist-mlp-coordinator');
      expect(pod(coordinator).volumes).toContainEqual(DATA_VOLUME);
      expect(container(coordinator).volumeMounts).toContainEqual(DATA_MOUNT);
      expect(validateObjects(list)).toEqual([]);
      expect(checkConsistency(list, { external: ['PersistentVolumeClaim/job-data'] })).toEqual([]);
    });

    it.each(['ship', 'shared', 'auto', undefined])('access %s without a data claim: no pod gets a data volume', (access) => {
      const list = renderAccess(access);
      for (const name of ['mnist-mlp-coordinator', 'mnist-mlp-worker']) {
        const deployment = get(list, 'Deployment', name);
        expect(pod(deployment).volumes.map((v) => v.name)).not.toContain('data');
        expect(container(deployment).volumeMounts.map((m) => m.name)).not.toContain('data');
      }
      expect(checkConsistency(list)).toEqual([]);
    });

    it('reports the access it rendered for (absent: auto) and keeps the field in the embedded config', () => {
      const access = (a: string | undefined): string => renderJob({ configText: withAccess(a), configDir: EXAMPLES, image: 'img:1', workers: 1, gpu: false }).dataAccess;
      expect([access('ship'), access('shared'), access('auto'), access(undefined), access('~')]).toEqual(['ship', 'shared', 'auto', 'auto', 'auto']);
      const config = (get(renderAccess('ship'), 'ConfigMap', 'mnist-mlp-job')['data'] as Record<string, string>)['job.yaml']!;
      expect(parse(config)).toMatchObject({ dataset: { access: 'ship' } });
    });

    it.each(['copy', 'true', '[ship]', 'Ship'])('rejects dataset.access %s naming the field', (value) => {
      let error: unknown;
      try {
        renderAccess(value, { dataClaim: 'job-data' });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(K8sError);
      expect(error).toMatchObject({ code: 'DTRAIN_K8S_CONFIG_PATH', field: 'dataset.access' });
      expect((error as Error).message).toMatch(/^dataset\.access: expected one of ship, shared, auto, got /);
      expect((error as K8sError).isUserError).toBe(true);
    });
  });

  describe('a dataset behind http(s) URLs (infra/k8s/examples/http-shared)', () => {
    const DIR = join(REPO, 'infra/k8s/examples/http-shared');
    const TEXT = readFileSync(join(DIR, 'job.yaml'), 'utf8');
    const URLS = [
      'https://data.example.com/mnist/train-labels-000.npy',
      'https://data.example.com/mnist/train-labels-001.npy',
      'https://data.example.com/mnist/train-features-000.npy',
      'https://data.example.com/mnist/train-features-001.npy',
    ];

    it('keeps the URLs as written, needs no claim and mounts no data volume anywhere', () => {
      const rendered = renderJob({ configText: TEXT, configDir: DIR, image: 'img:1', workers: 3, gpu: false });
      expect(rendered.dataAccess).toBe('shared');
      expect(rendered.dataFiles).toEqual([]);
      expect(rendered.dataUrls).toEqual(URLS);
      const list = parseManifestYaml(toYamlStream(rendered.manifests));
      const config = parse((get(list, 'ConfigMap', 'mnist-mlp-job')['data'] as Record<string, string>)['job.yaml']!) as { dataset: Record<string, unknown> };
      expect(config.dataset).toMatchObject({ access: 'shared', features: URLS.slice(2), labels: URLS.slice(0, 2) });
      // The one claim is the coordinator's state volume.
      expect(list.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata?.name)).toEqual(['mnist-mlp-state']);
      expect(pod(get(list, 'Deployment', 'mnist-mlp-worker')).volumes.map((v) => v.name)).toEqual(['tmp']);
      expect(pod(get(list, 'Deployment', 'mnist-mlp-coordinator')).volumes.map((v) => v.name)).toEqual(['config', 'state', 'tmp']);
      expect(validateObjects(list)).toEqual([]);
      expect(checkConsistency(list)).toEqual([]);
    });

    it('with a data claim anyway (say, for a model file), the workers mount it as the coordinator does', () => {
      const list = parseManifestYaml(toYamlStream(renderJob({ configText: TEXT, configDir: DIR, image: 'img:1', workers: 1, gpu: false, dataClaim: 'job-data' }).manifests));
      expect(container(get(list, 'Deployment', 'mnist-mlp-worker')).volumeMounts).toContainEqual({ name: 'data', mountPath: '/job', readOnly: true });
      expect(checkConsistency(list, { external: ['PersistentVolumeClaim/job-data'] })).toEqual([]);
    });

    it('is written in pod form already: rendering changes nothing in it, so kustomize can use it as is', () => {
      const rendered = renderJob({ configText: TEXT, configDir: DIR, image: 'img:1', workers: 1, gpu: false });
      const embedded = (get(parseManifestYaml(toYamlStream(rendered.manifests)), 'ConfigMap', 'mnist-mlp-job')['data'] as Record<string, string>)['job.yaml']!;
      expect(parse(embedded)).toEqual(parse(TEXT));
      // Its comments travel with it (the 206 requirement among them).
      expect(embedded).toContain('# The server must answer Range requests with 206 Partial Content');
    });
  });

  describe('parameter-server shards', () => {
    const kinds = (list: KubeObject[]): string[] => list.map((o) => `${String(o.kind)}/${String(o.metadata?.name)}`);
    const jobConfig = (list: KubeObject[]): Record<string, unknown> =>
      parse((get(list, 'ConfigMap', 'mnist-mlp-job')['data'] as Record<string, string>)['job.yaml']!) as Record<string, unknown>;

    it('renders none with psShards 0 or a config without shards, and the config says 0 when asked for 0', () => {
      for (const options of [{}, { psShards: 0 }, { psShards: 0, monitoring: true }]) {
        const list = render('mnist-mlp.yaml', options);
        expect(kinds(list).filter((k) => k.endsWith('-ps'))).toEqual([]);
        expect(list.some((o) => o.kind === 'StatefulSet')).toBe(false);
      }
      expect(jobConfig(render('mnist-mlp.yaml'))['cluster']).toEqual({ minWorkers: 1, stepTimeoutMs: 30000 });
      expect(jobConfig(render('mnist-mlp.yaml', { psShards: 0 }))['cluster']).toEqual({ minWorkers: 1, stepTimeoutMs: 30000, psShards: 0 });
    });

    it('with 3: a headless Service and a StatefulSet of 3 `dtrain ps` pods with stable names, before the workers', () => {
      const list = render('mnist-mlp.yaml', { psShards: 3 });
      expect(kinds(list)).toEqual([
        'ConfigMap/mnist-mlp-job',
        'Secret/mnist-mlp-token',
        'PersistentVolumeClaim/mnist-mlp-state',
        'Service/mnist-mlp-coordinator',
        'Deployment/mnist-mlp-coordinator',
        'Service/mnist-mlp-ps',
        'StatefulSet/mnist-mlp-ps',
        'Deployment/mnist-mlp-worker',
      ]);
      expect(get(list, 'Service', 'mnist-mlp-ps')['spec']).toEqual({
        clusterIP: 'None',
        publishNotReadyAddresses: true,
        selector: { 'app.kubernetes.io/name': 'dtrain', 'app.kubernetes.io/instance': 'mnist-mlp', 'app.kubernetes.io/component': 'ps' },
        ports: [{ name: 'data', port: 7100, targetPort: 'data', protocol: 'TCP' }],
      });
      const set = get(list, 'StatefulSet', 'mnist-mlp-ps');
      expect(set['spec']).toMatchObject({ replicas: 3, serviceName: 'mnist-mlp-ps', podManagementPolicy: 'Parallel' });
      expect(set.metadata).toMatchObject({ labels: { 'app.kubernetes.io/component': 'ps', 'dtrain/job': 'mnist-mlp' } });
      const ps = container(set);
      expect(ps.image).toBe('reg.example.com/dtrain-cpu:0.1.0');
      expect(ps.args).toEqual([
        'ps',
        '--coordinator',
        'ws://mnist-mlp-coordinator:7070',
        '--index',
        'auto',
        '--port',
        '7100',
        '--advertise',
        'ws://$(POD_NAME).mnist-mlp-ps.$(POD_NAMESPACE).svc:7100',
      ]);
      // The kubelet expands $(VAR) in args only from the container's own env.
      expect(ps.env).toEqual([
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'DTRAIN_TOKEN', valueFrom: { secretKeyRef: { name: 'mnist-mlp-token', key: 'token' } } },
      ]);
      const probes = ps as unknown as Record<string, { httpGet: { path: string; port: string } }>;
      expect(probes['readinessProbe']?.httpGet).toEqual({ path: '/readyz', port: 'data' });
      expect(probes['livenessProbe']?.httpGet).toEqual({ path: '/healthz', port: 'data' });
      // The workers' pod defaults: the same pod and container security contexts, /tmp, no service account token.
      const worker = get(list, 'Deployment', 'mnist-mlp-worker');
      const shardPod = pod(set) as unknown as Record<string, unknown>;
      const workerPod = pod(worker) as unknown as Record<string, unknown>;
      for (const key of ['securityContext', 'automountServiceAccountToken', 'enableServiceLinks', 'volumes']) expect(shardPod[key]).toEqual(workerPod[key]);
      expect((ps as unknown as Record<string, unknown>)['securityContext']).toEqual((container(worker) as unknown as Record<string, unknown>)['securityContext']);
      expect(ps.volumeMounts).toEqual(container(worker).volumeMounts);
      // A new token restarts the shards too.
      const annotations = (o: KubeObject): unknown => (o['spec'] as { template: { metadata: { annotations?: unknown } } }).template.metadata.annotations;
      expect(annotations(set)).toEqual(annotations(worker));
      expect(annotations(set)).toHaveProperty(['dtrain/token-sha256']);
    });

    it("with 3: the ConfigMap's config has cluster.psShards 3, keeping the other cluster keys and the comments", () => {
      const list = render('mnist-mlp.yaml', { psShards: 3 });
      expect(jobConfig(list)['cluster']).toEqual({ minWorkers: 1, stepTimeoutMs: 30000, psShards: 3 });
      expect((get(list, 'ConfigMap', 'mnist-mlp-job')['data'] as Record<string, string>)['job.yaml']).toContain('# A 784-256-128-10 multilayer perceptron');
    });

    it("defaults to the config's cluster.psShards and then leaves the config as written", () => {
      const text = readFileSync(join(EXAMPLES, 'mnist-mlp.yaml'), 'utf8').replace('  stepTimeoutMs: 30000\n', '  stepTimeoutMs: 30000\n  psShards: 2 # two shard pods\n');
      const rendered = renderJob({ configText: text, configDir: EXAMPLES, image: 'img:1', workers: 1, gpu: false });
      expect(rendered.psShards).toBe(2);
      const list = parseManifestYaml(toYamlStream(rendered.manifests));
      expect(get(list, 'StatefulSet', 'mnist-mlp-ps')['spec']).toMatchObject({ replicas: 2 });
      expect((get(list, 'ConfigMap', 'mnist-mlp-job')['data'] as Record<string, string>)['job.yaml']).toContain('  psShards: 2 # two shard pods\n');
      // The flag wins over the config.
      const one = renderJob({ configText: text, configDir: EXAMPLES, image: 'img:1', workers: 1, gpu: false, psShards: 1 });
      expect(one.psShards).toBe(1);
      expect(get(parseManifestYaml(toYamlStream(one.manifests)), 'StatefulSet', 'mnist-mlp-ps')['spec']).toMatchObject({ replicas: 1 });
    });

    it('gives the shards the existing token Secret and the namespace when asked', () => {
      const list = render('mnist-mlp.yaml', { psShards: 2, existingTokenSecret: 'shared-token', namespace: 'training' });
      const set = get(list, 'StatefulSet', 'mnist-mlp-ps');
      expect(container(set).env).toContainEqual({ name: 'DTRAIN_TOKEN', valueFrom: { secretKeyRef: { name: 'shared-token', key: 'token' } } });
      expect(set.metadata).toMatchObject({ namespace: 'training' });
      expect(get(list, 'Service', 'mnist-mlp-ps').metadata).toMatchObject({ namespace: 'training' });
    });

    it("with --monitoring, a PodMonitor scrapes the shard pods' /metrics on port data", () => {
      const list = render('mnist-mlp.yaml', { psShards: 2, monitoring: true, monitorLabels: { release: 'kps' } });
      const monitor = get(list, 'PodMonitor', 'mnist-mlp-ps');
      expect(monitor.metadata).toMatchObject({ labels: { release: 'kps', 'dtrain/job': 'mnist-mlp' } });
      expect(monitor['spec']).toEqual({
        jobLabel: 'dtrain/job',
        selector: { matchLabels: { 'app.kubernetes.io/name': 'dtrain', 'app.kubernetes.io/instance': 'mnist-mlp', 'app.kubernetes.io/component': 'ps' } },
        podMetricsEndpoints: [{ port: 'data', path: '/metrics', interval: '15s' }],
      });
      expect(checkConsistency(list)).toEqual([]);
    });

    it('rejects a job name too long for a StatefulSet, naming the config field', () => {
      const configText = (name: string): string => readFileSync(join(EXAMPLES, 'mnist-mlp.yaml'), 'utf8').replace('name: mnist-mlp', `name: ${name}`);
      // 49 characters + "-ps" = 52, the longest StatefulSet name whose pods Kubernetes can label.
      expect(() => renderJob({ configText: configText('j'.repeat(49)), configDir: EXAMPLES, image: 'img:1', workers: 1, gpu: false, psShards: 1 })).not.toThrow();
      let error: unknown;
      try {
        renderJob({ configText: configText('j'.repeat(50)), configDir: EXAMPLES, image: 'img:1', workers: 1, gpu: false, psShards: 1 });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(K8sError);
      expect(error).toMatchObject({ code: 'DTRAIN_K8S_CONFIG_PATH', field: 'name' });
      expect((error as Error).message).toMatch(/^name: the shards' StatefulSet j{50}-ps would be longer than the 52 characters/);
      // Without shards the same name is fine.
      expect(() => renderJob({ configText: configText('j'.repeat(50)), configDir: EXAMPLES, image: 'img:1', workers: 1, gpu: false })).not.toThrow();
    });
  });
});
