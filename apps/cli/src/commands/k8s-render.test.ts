import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { loadJobConfig } from '@dtrain/coordinator';
import { checkConsistency, parseManifestYaml, validateObjects, type KubeObject } from '@dtrain/k8s';
import { afterAll, describe, expect, it } from 'vitest';
import { describeFailure } from '../fail.js';
import { k8sCommand, k8sRenderCommand } from './k8s-render.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const EXAMPLES = join(REPO, 'examples');
const scratch = mkdtempSync(join(tmpdir(), 'dtrain-k8s-render-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function sink(): Writable & { text: string } {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      stream.text += chunk.toString();
      done();
    },
  }) as Writable & { text: string };
  stream.text = '';
  return stream;
}

async function render(args: string[]): Promise<{ code: number; yaml: string; notes: string }> {
  const out = sink();
  const notes = sink();
  const code = await k8sRenderCommand(args, out, notes);
  return { code, yaml: out.text, notes: notes.text };
}

/** What main.ts makes of a failure: its one stderr line and exit code. */
async function failure(args: string[]): Promise<{ line: string; exitCode: number }> {
  try {
    await k8sCommand(args);
  } catch (error) {
    return describeFailure(error);
  }
  throw new Error(`dtrain ${args.join(' ')} succeeded`);
}

describe('dtrain k8s render', () => {
  const examples = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

  it.each(
    examples.flatMap((f) => [
      [f, []],
      [f, ['--gpu', '--worker-image', 'reg/dtrain-gpu:1', '--namespace', 'ml', '--monitoring', '--monitor-label', 'release=kps']],
      [f, ['--ps-shards', '2', '--namespace', 'ml', '--monitoring']],
    ]) as [string, string[]][],
  )(
    'examples/%s %j: exit 0, objects that pass the Kubernetes and prometheus-operator schemas',
    async (file, extra) => {
      const { code, yaml, notes } = await render(['--config', join(EXAMPLES, file), '--image', 'reg/dtrain-cpu:1', '--workers', '3', ...extra]);
      expect(code).toBe(0);
      const objects = parseManifestYaml(yaml);
      expect(objects.length).toBeGreaterThanOrEqual(6);
      expect(validateObjects(objects)).toEqual([]);
      expect(checkConsistency(objects)).toEqual([]);
      const job = file.replace(/\.yaml$/, '');
      expect(objects.find((o) => o.kind === 'Deployment' && o.metadata?.name === `${job}-worker`)?.['spec']).toMatchObject({ replicas: 3 });
      expect(notes).toContain(`under /job`);
      if (extra.includes('--namespace')) for (const o of objects) expect(o.metadata).toMatchObject({ namespace: 'ml' });
    },
  );

  it('relocates every file the coordinator would read (all of them, checked against its own loader)', async () => {
    const dir = join(scratch, 'all-files');
    mkdirSync(join(dir, 'data', 'test'), { recursive: true });
    mkdirSync(join(dir, 'models'), { recursive: true });
    writeFileSync(join(dir, 'data', 'train.csv'), 'a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n');
    copyFileSync(join(EXAMPLES, 'data/mnist/t10k-images-idx3-ubyte.gz'), join(dir, 'data', 'test', 'images.gz'));
    copyFileSync(join(EXAMPLES, 'data/mnist/t10k-labels-idx1-ubyte.gz'), join(dir, 'data', 'test', 'labels.gz'));
    writeFileSync(join(dir, 'models', 'model.json'), JSON.stringify({ modelTopology: { class_name: 'Sequential', config: { layers: [] } } }));
    const config = join(dir, 'job.yaml');
    writeFileSync(
      config,
      'name: all-files\nmodel: { topology: models/model.json }\n' +
        'dataset: { format: csv, path: data/train.csv, labelColumn: label, test: { format: idx, images: data/test/images.gz, labels: data/test/labels.gz } }\n' +
        'training: { epochs: 1, batchSize: 2, optimizer: { name: sgd, learningRate: 0.1 }, loss: sparseCategoricalCrossentropy }\n',
    );
    // Every absolute path the coordinator's loader resolves inside the folder must be one the render moved.
    const loaded = JSON.stringify(await loadJobConfig(config));
    const resolved = [...loaded.matchAll(new RegExp(`"${dir}/([^"]+)"`, 'g'))].map((m) => m[1]).sort();
    const { yaml, notes } = await render(['--config', config, '--image', 'img:1']);
    const embedded = (parseManifestYaml(yaml)[0]?.['data'] as Record<string, string>)['job.yaml'] ?? '';
    expect(resolved).toEqual(['data/test/images.gz', 'data/test/labels.gz', 'data/train.csv', 'models/model.json']);
    for (const file of resolved) expect(embedded).toContain(`/job/${file}`);
    expect(embedded).not.toContain(dir);
    expect(notes).toContain('models/model.json, data/train.csv, data/test/images.gz, data/test/labels.gz under /job');
  });

  it('--data-pvc: the claim is mounted read-only at /job in the coordinator and, as dataset.access defaults to auto, in the workers too', async () => {
    const { code, yaml, notes } = await render(['--config', join(EXAMPLES, 'mnist-mlp.yaml'), '--image', 'img:1', '--data-pvc', 'job-data']);
    expect(code).toBe(0);
    const objects = parseManifestYaml(yaml);
    interface Pod {
      volumes: { name: string; persistentVolumeClaim?: unknown }[];
      containers: { volumeMounts: unknown[] }[];
    }
    const pod = (name: string): Pod => (objects.find((o) => o.kind === 'Deployment' && o.metadata?.name === name)?.['spec'] as { template: { spec: Pod } }).template.spec;
    for (const name of ['mnist-mlp-coordinator', 'mnist-mlp-worker']) {
      expect(pod(name).volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'job-data', readOnly: true } });
      expect(pod(name).containers[0]?.volumeMounts).toContainEqual({ name: 'data', mountPath: '/job', readOnly: true });
    }
    expect(validateObjects(objects)).toEqual([]);
    expect(checkConsistency(objects, { external: ['PersistentVolumeClaim/job-data'] })).toEqual([]);
    expect(notes).toContain('the coordinator (and for a large dataset the workers) reads data/mnist/t10k-images-idx3-ubyte.gz, data/mnist/t10k-labels-idx1-ubyte.gz under /job, on the claim job-data, mounted read-only in the coordinator and every worker');
    expect(notes).toContain('ReadOnlyMany or ReadWriteMany');
  });

  describe('--ps-shards', () => {
    const MLP = join(EXAMPLES, 'mnist-mlp.yaml');
    const refs = (objects: KubeObject[]): string[] => objects.map((o) => `${String(o.kind)}/${String(o.metadata?.name)}`);
    const find = (objects: KubeObject[], ref: string): KubeObject => {
      const found = objects.find((o) => `${String(o.kind)}/${String(o.metadata?.name)}` === ref);
      if (found === undefined) throw new Error(`no ${ref} among ${refs(objects).join(', ')}`);
      return found;
    };
    /** The job config inside the rendered ConfigMap, parsed. */
    const embeddedConfig = (objects: KubeObject[]): KubeObject => parseManifestYaml((find(objects, 'ConfigMap/mnist-mlp-job')['data'] as Record<string, string>)['job.yaml'] ?? '')[0]!;
    interface ShardContainer {
      args: string[];
      env: { name: string; valueFrom?: unknown }[];
    }
    const shardContainer = (objects: KubeObject[]): ShardContainer => (find(objects, 'StatefulSet/mnist-mlp-ps')['spec'] as { template: { spec: { containers: ShardContainer[] } } }).template.spec.containers[0]!;

    it('0: no shard objects, and the config says 0', async () => {
      const { code, yaml } = await render(['--config', MLP, '--image', 'img:1', '--ps-shards', '0', '--monitoring']);
      expect(code).toBe(0);
      const objects = parseManifestYaml(yaml);
      expect(refs(objects).filter((r) => r.startsWith('StatefulSet/') || r.endsWith('-ps'))).toEqual([]);
      expect(embeddedConfig(objects)['cluster']).toMatchObject({ psShards: 0 });
      expect(yaml).not.toContain('# Shards:');
    });

    it('3: a StatefulSet of 3 `dtrain ps` pods dialling the coordinator, a headless Service, and cluster.psShards 3 in the config', async () => {
      const { code, yaml } = await render(['--config', MLP, '--image', 'img:1', '--ps-shards', '3']);
      expect(code).toBe(0);
      const objects = parseManifestYaml(yaml);
      expect(validateObjects(objects)).toEqual([]);
      expect(checkConsistency(objects)).toEqual([]);
      expect(find(objects, 'StatefulSet/mnist-mlp-ps')['spec']).toMatchObject({ replicas: 3, serviceName: 'mnist-mlp-ps', podManagementPolicy: 'Parallel' });
      const { args, env } = shardContainer(objects);
      expect(args[0]).toBe('ps');
      expect(args.join(' ')).toContain('--coordinator ws://mnist-mlp-coordinator:7070');
      expect(args.join(' ')).toContain('--index auto');
      expect(args.join(' ')).toContain('--advertise ws://$(POD_NAME).mnist-mlp-ps.$(POD_NAMESPACE).svc:7100');
      // The token as the workers get it: DTRAIN_TOKEN from the job's Secret (`dtrain ps` reads it when no --token-file is given).
      expect(env).toContainEqual({ name: 'DTRAIN_TOKEN', valueFrom: { secretKeyRef: { name: 'mnist-mlp-token', key: 'token' } } });
      expect(env.map((e) => e.name)).toEqual(['POD_NAME', 'POD_NAMESPACE', 'DTRAIN_TOKEN']);
      expect(find(objects, 'Service/mnist-mlp-ps')['spec']).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ name: 'data', port: 7100 }] });
      expect(embeddedConfig(objects)['cluster']).toEqual({ minWorkers: 1, stepTimeoutMs: 30000, psShards: 3 });
      expect(yaml).toContain('# Shards: 3 pods of statefulset/mnist-mlp-ps');
    });

    it("without the flag: the config's cluster.psShards, the config left as written", async () => {
      const config = join(scratch, 'sharded', 'mnist-mlp.yaml');
      mkdirSync(dirname(config), { recursive: true });
      mkdirSync(join(dirname(config), 'data'), { recursive: true });
      copyFileSync(join(EXAMPLES, 'data/mnist/t10k-images-idx3-ubyte.gz'), join(dirname(config), 'data', 'images.gz'));
      copyFileSync(join(EXAMPLES, 'data/mnist/t10k-labels-idx1-ubyte.gz'), join(dirname(config), 'data', 'labels.gz'));
      writeFileSync(
        config,
        'name: mnist-mlp\nmodel: { layers: [{ type: dense, units: 10, activation: softmax, inputShape: [784] }] }\n' +
          'dataset: { format: idx, images: data/images.gz, labels: data/labels.gz, featureShape: [784] }\n' +
          'training: { epochs: 1, batchSize: 32, optimizer: { name: sgd, learningRate: 0.1 }, loss: sparseCategoricalCrossentropy }\n' +
          'cluster: { psShards: 2 }   # two shard pods\n',
      );
      const objects = parseManifestYaml((await render(['--config', config, '--image', 'img:1'])).yaml);
      expect(find(objects, 'StatefulSet/mnist-mlp-ps')['spec']).toMatchObject({ replicas: 2 });
      expect((find(objects, 'ConfigMap/mnist-mlp-job')['data'] as Record<string, string>)['job.yaml']).toContain('cluster: { psShards: 2 } # two shard pods\n');
      // The flag overrides it, in the objects and in the config alike.
      const one = parseManifestYaml((await render(['--config', config, '--image', 'img:1', '--ps-shards', '1'])).yaml);
      expect(find(one, 'StatefulSet/mnist-mlp-ps')['spec']).toMatchObject({ replicas: 1 });
      expect(embeddedConfig(one)['cluster']).toEqual({ psShards: 1 });
    });
  });

  const bad = (name: string, body: string): string => {
    const path = join(scratch, `${name}.yaml`);
    mkdirSync(scratch, { recursive: true });
    writeFileSync(path, body);
    return path;
  };
  const TRAINING = 'training: { epochs: 1, batchSize: 4, optimizer: { name: sgd, learningRate: 0.1 }, loss: meanSquaredError }\n';
  const MODEL = 'model: { layers: [{ type: dense, units: 1, inputShape: [2] }] }\n';

  it.each<[string, () => string[], RegExp]>([
    ['no --config', () => ['render', '--image', 'x:1'], /^dtrain: dtrain k8s render: --config is required$/],
    ['no --image', () => ['render', '--config', join(EXAMPLES, 'mnist-mlp.yaml')], /^dtrain: dtrain k8s render: --image is required$/],
    ['a bad --workers', () => ['render', '--config', join(EXAMPLES, 'mnist-mlp.yaml'), '--image', 'x:1', '--workers', 'many'], /--workers must be an integer in \[0, 1000\], got "many"/],
    ['a word for --ps-shards', () => ['render', '--config', join(EXAMPLES, 'mnist-mlp.yaml'), '--image', 'x:1', '--ps-shards', 'many'], /^dtrain: dtrain k8s render: --ps-shards must be an integer in \[0, 256\], got "many"$/],
    ['a negative --ps-shards', () => ['render', '--config', join(EXAMPLES, 'mnist-mlp.yaml'), '--image', 'x:1', '--ps-shards=-1'], /--ps-shards must be an integer in \[0, 256\], got "-1"/],
    ['too many --ps-shards', () => ['render', '--config', join(EXAMPLES, 'mnist-mlp.yaml'), '--image', 'x:1', '--ps-shards', '257'], /--ps-shards must be an integer in \[0, 256\], got "257"/],
    ['a fractional --ps-shards', () => ['render', '--config', join(EXAMPLES, 'mnist-mlp.yaml'), '--image', 'x:1', '--ps-shards', '1.5'], /--ps-shards must be an integer in \[0, 256\], got "1.5"/],
    ['an unknown flag', () => ['render', '--config', 'x.yaml', '--replicas', '2'], /Unknown option '--replicas'/],
    ['a missing config file', () => ['render', '--config', join(scratch, 'nope.yaml'), '--image', 'x:1'], /config file not found: .*nope\.yaml$/],
    ['an unknown config key', () => ['render', '--config', bad('typo', `name: typo\n${MODEL}dataset: { format: synthetic, numSamples: 64, featureShape: [2] }\n${TRAINING}clustr: {}\n`), '--image', 'x:1'], /clustr: unknown key \(did you mean "cluster"\?\)/],
    ['a data file outside the config folder', () => {
      mkdirSync(join(scratch, 'jobs'), { recursive: true });
      writeFileSync(join(scratch, 'shared.csv'), 'a,b,y\n1,2,3\n');
      const config = join(scratch, 'jobs', 'outside.yaml');
      writeFileSync(config, `name: outside\n${MODEL}dataset: { format: csv, path: ../shared.csv, labelColumn: y }\n${TRAINING}`);
      return ['render', '--config', config, '--image', 'x:1'];
    }, /^dtrain: dtrain k8s render: dataset\.path: \.\.\/shared\.csv is outside the config's folder .*\/jobs; in Kubernetes the pods see only that folder \(at \/job\): move the file under it$/],
    ['a bad namespace', () => ['render', '--config', join(EXAMPLES, 'mnist-mlp.yaml'), '--image', 'x:1', '--namespace', 'ML_Jobs'], /^dtrain: dtrain k8s render: --namespace: expected a Kubernetes name/],
    ['a bad --storage', () => ['render', '--config', join(EXAMPLES, 'mnist-mlp.yaml'), '--image', 'x:1', '--storage', '10 GB'], /--storage: expected a Kubernetes quantity such as 10Gi, got "10 GB"/],
    ['--monitor-label without --monitoring', () => ['render', '--config', join(EXAMPLES, 'mnist-mlp.yaml'), '--image', 'x:1', '--monitor-label', 'release=x'], /--monitor-label needs --monitoring/],
    ['a bad --monitor-label', () => ['render', '--config', join(EXAMPLES, 'mnist-mlp.yaml'), '--image', 'x:1', '--monitoring', '--monitor-label', 'release'], /--monitor-label must be KEY=VALUE/],
    ['no subcommand', () => [], /^dtrain: dtrain k8s: missing subcommand; one of render$/],
    ['an unknown subcommand', () => ['apply'], /^dtrain: dtrain k8s: unknown subcommand "apply"; one of render$/],
  ])('%s → exit 2 with one line naming it', async (_what, args, message) => {
    const { line, exitCode } = await failure(args());
    expect(exitCode).toBe(2);
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toMatch(message);
  });
});
