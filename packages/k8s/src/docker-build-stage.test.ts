import { spawnSync } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerignore, readDockerfile } from './testing/dockerfile-model.js';
import { REPO } from './testing/repo.js';

/**
 * Runs the build stage of infra/docker/Dockerfile.cpu without Docker (no
 * engine runs here): the build context as .dockerignore leaves it, each
 * COPY/ENV/WORKDIR/RUN in order (container paths mapped into a temporary
 * folder), then checks that the deployed /out runs `dtrain` and trains a job.
 * What this cannot cover: the base images, apt-get, the runtime stage.
 */
const scratch = mkdtempSync(join(tmpdir(), 'dtrain-docker-build-'));
const paths = { '/src': join(scratch, 'src'), '/out': join(scratch, 'out') };
const log: string[] = [];

function contextFiles(dir: string, ignored: (p: string) => boolean, prefix = ''): string[] {
  return readdirSync(join(REPO, prefix)).flatMap((name) => {
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    if (ignored(rel)) return [];
    return statSync(join(REPO, rel)).isDirectory() ? contextFiles(dir, ignored, rel) : [rel];
  });
}

beforeAll(() => {
  const ignored = dockerignore(readFileSync(join(REPO, '.dockerignore'), 'utf8'));
  const context = contextFiles(REPO, ignored);
  const build = readDockerfile(join(REPO, 'infra/docker/Dockerfile.cpu')).stages.find((s) => s.name === 'build');
  if (build === undefined) throw new Error('Dockerfile.cpu has no build stage');
  const map = (p: string): string => p.replace(/(^|\s)(\/src|\/out)(?=\/|\s|$)/g, (_m, pre: string, root: '/src' | '/out') => `${pre}${paths[root]}`);
  let cwd = scratch;
  const env: Record<string, string> = { ...(process.env as Record<string, string>), TFJS_NODE: 'false' };
  for (const step of build.steps) {
    if (step.keyword === 'WORKDIR') {
      cwd = map(step.text);
      mkdirSync(cwd, { recursive: true });
    } else if (step.keyword === 'ENV') {
      for (const pair of step.args) {
        const [k, v] = pair.split(/=(.*)/s);
        if (k !== undefined && v !== undefined) env[k] = v;
      }
    } else if (step.keyword === 'COPY') {
      const [dest, ...sources] = [...step.args].reverse();
      for (const source of sources) {
        const clean = source.replace(/^\.\/?/, '').replace(/\/$/, '');
        for (const file of context.filter((f) => clean === '' || f === clean || f.startsWith(`${clean}/`))) {
          const target = clean === '' || file.startsWith(`${clean}/`) ? join(cwd, dest ?? '.', file.slice(clean === '' ? 0 : clean.length + 1)) : join(cwd, dest ?? '.', file.split('/').at(-1) ?? '');
          mkdirSync(dirname(target), { recursive: true });
          cpSync(join(REPO, file), target);
        }
      }
    } else if (step.keyword === 'RUN') {
      const command = map(step.text);
      const started = Date.now();
      const run = spawnSync('sh', ['-c', command], { cwd, env, encoding: 'utf8', timeout: 240_000 });
      log.push(`RUN ${step.text} (${((Date.now() - started) / 1000).toFixed(1)} s, exit ${run.status})`);
      if (run.status !== 0) throw new Error(`RUN ${step.text} failed (${run.status}):\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`);
    } else if (step.keyword !== 'ARG') {
      throw new Error(`build stage step ${step.keyword} is not simulated: extend this test`);
    }
  }
}, 400_000);

afterAll(() => {
  console.log(`Dockerfile.cpu build stage without Docker:\n  ${log.join('\n  ')}`);
  rmSync(scratch, { recursive: true, force: true });
});

describe('Dockerfile.cpu build stage, run without Docker', () => {
  const out = paths['/out'];

  it('deploys the CLI as an executable bin/dtrain.js (the shim the image links) with its workspace packages', () => {
    accessSync(join(out, 'bin/dtrain.js'), constants.X_OK);
    expect(readdirSync(join(out, 'node_modules/@dtrain')).sort()).toEqual(expect.arrayContaining(['coordinator', 'data', 'engine', 'k8s', 'protocol', 'worker']));
  });

  it('carries production dependencies only', () => {
    const store = readdirSync(join(out, 'node_modules/.pnpm'));
    for (const dev of ['vitest', 'typescript', 'eslint', 'nx', 'tsx']) expect(store.filter((p) => p.startsWith(`${dev}@`)), dev).toEqual([]);
    expect(store.some((p) => p.startsWith('@tensorflow+tfjs-backend-wasm@'))).toBe(true);
  });

  it('runs: `dtrain --help`, and a short training job on the deployed tree alone', () => {
    const help = spawnSync(process.execPath, [join(out, 'bin/dtrain.js'), '--help'], { encoding: 'utf8' });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('dtrain k8s render');
    const job = join(scratch, 'job.yaml');
    writeFileSync(
      job,
      'name: image-smoke\nmodel: { layers: [{ type: dense, units: 8, activation: relu, inputShape: [8] }, { type: dense, units: 2, activation: softmax }] }\n' +
        'dataset: { format: synthetic, numSamples: 256, featureShape: [8], numClasses: 2 }\n' +
        'training: { epochs: 1, batchSize: 32, optimizer: { name: adam, learningRate: 0.01 }, loss: sparseCategoricalCrossentropy }\n',
    );
    const train = spawnSync(process.execPath, [join(out, 'bin/dtrain.js'), 'train', '--config', job, '--workers', '1', '--port', '0', '--out', join(scratch, 'run'), '--quiet'], { encoding: 'utf8', timeout: 120_000 });
    expect(train.status, train.stderr).toBe(0);
    expect(existsSync(join(scratch, 'run/model/model.json'))).toBe(true);
  });
});
