import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
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
});
