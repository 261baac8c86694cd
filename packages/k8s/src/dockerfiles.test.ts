import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { COORDINATOR_PORT, JOB_ROOT, RUN_AS_USER, WORKER_METRICS_PORT } from './pod-layout.js';
import { dockerignore, readDockerfile, type Stage, type Step } from './testing/dockerfile-model.js';
import { REPO } from './testing/repo.js';

const DOCKER = join(REPO, 'infra/docker');
const FILES = ['Dockerfile.cpu', 'Dockerfile.gpu'] as const;
const ignored = dockerignore(readFileSync(join(REPO, '.dockerignore'), 'utf8'));
const rootPackage = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { packageManager: string };
const PNPM = rootPackage.packageManager; // "pnpm@10.34.8"

interface Manifest {
  name: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  bin?: Record<string, string>;
}
/** The workspace's packages by name, from pnpm-workspace.yaml's globs (`dir/*` or a folder). */
const workspace = new Map<string, { dir: string; manifest: Manifest }>();
for (const glob of (parse(readFileSync(join(REPO, 'pnpm-workspace.yaml'), 'utf8')) as { packages: string[] }).packages) {
  const dirs = glob.endsWith('/*') ? readdirSync(join(REPO, glob.slice(0, -2))).map((d) => join(glob.slice(0, -2), d)) : [glob];
  for (const dir of dirs) {
    const file = join(REPO, dir, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    workspace.set(manifest.name, { dir, manifest });
  }
}
/** A workspace package and its workspace dependencies, as pnpm's `--filter "name..."` selects them. */
function withDependencies(name: string, seen = new Set<string>()): Set<string> {
  seen.add(name);
  for (const dep of Object.keys(workspace.get(name)?.manifest.dependencies ?? {})) if (workspace.has(dep) && !seen.has(dep)) withDependencies(dep, seen);
  return seen;
}
function filesUnder(dir: string): string[] {
  return readdirSync(join(REPO, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    if (name === 'node_modules' || name === 'dist') return [];
    return statSync(join(REPO, path)).isDirectory() ? filesUnder(path) : [path];
  });
}
const runs = (stage: Stage | undefined): Step[] => stage?.steps.filter((s) => s.keyword === 'RUN') ?? [];
const pnpmCommands = (stage: Stage | undefined): string[] =>
  runs(stage).flatMap((s) => [...s.text.matchAll(/npx --yes (pnpm@\S+) ([^;&|]+)/g)].map((m) => `${m[1]} ${m[2]?.trim()}`));

describe.each(FILES)('infra/docker/%s', (file) => {
  const path = join(DOCKER, file);
  const model = readDockerfile(path);
  const build = model.stages.find((s) => s.name === 'build');
  const runtime = model.stages.at(-1);

  it('passes the dockerfile-utils linter without a single diagnostic', () => {
    const problems = validate(readFileSync(path, 'utf8')).map((d) => `${d.range.start.line + 1}: ${d.message}`);
    expect(problems).toEqual([]);
  });

  it('builds in a named stage and runs in a separate final stage from pinned (non-latest) images', () => {
    expect(model.stages.length).toBeGreaterThanOrEqual(2);
    expect(build).toBeDefined();
    for (const stage of model.stages) expect(stage.base).toMatch(/^[\w./-]+:(?!latest$)[\w.-]+$/);
  });

  it('copies only sources that exist in the repository and are in the build context', () => {
    const copies = model.stages.flatMap((s) => s.steps).filter((s) => (s.keyword === 'COPY' || s.keyword === 'ADD') && s.from === undefined);
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      for (const source of copy.args.slice(0, -1)) {
        const clean = source.replace(/^\.\/?/, '').replace(/\/$/, '');
        if (clean === '') continue; // the whole context: checked below
        expect(existsSync(join(REPO, clean)), `${file}: COPY ${source}: not in the repository`).toBe(true);
        expect(ignored(clean), `${file}: COPY ${source}: excluded by .dockerignore`).toBe(false);
      }
    }
  });

  it('has in its context every source file the CLI build needs, and none of the local build output', () => {
    const needed = [...withDependencies('dtrain')].flatMap((name) => {
      const dir = workspace.get(name)?.dir ?? '';
      return [`${dir}/package.json`, `${dir}/tsconfig.lib.json`, ...filesUnder(`${dir}/src`)];
    });
    expect(needed.length).toBeGreaterThan(20);
    for (const p of [...needed, 'package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', 'tsconfig.base.json', 'examples/data/mnist/t10k-images-idx3-ubyte.gz']) {
      expect(ignored(p), `${p} must be in the build context`).toBe(false);
    }
    for (const p of ['node_modules/x', 'apps/cli/node_modules/ws/index.js', 'apps/cli/dist/main.js', '.git/HEAD', 'runs/mnist-mlp/summary.json']) expect(ignored(p), `${p} must stay out`).toBe(true);
  });

  it('builds with the pinned pnpm and only filters, scripts and folders that exist', () => {
    const commands = pnpmCommands(build);
    expect(commands.some((c) => / fetch$/.test(c))).toBe(true);
    for (const command of commands) {
      expect(command.startsWith(`${PNPM} `), command).toBe(true);
      for (const m of command.matchAll(/--filter "?([^"\s]+?)(\.\.\.)?"? /g)) expect(workspace.has(m[1] ?? ''), `${command}: no workspace package ${m[1]}`).toBe(true);
    }
    const buildRun = commands.find((c) => / run build$/.test(c));
    expect(buildRun).toContain('--filter "dtrain..."');
    for (const name of withDependencies('dtrain')) expect(workspace.get(name)?.manifest.scripts?.['build'], `${name} has no build script`).toBeDefined();
    // deploy writes /out, the runtime copies /out to /app and links the CLI's bin from there.
    const deploy = commands.find((c) => / deploy /.test(c));
    expect(deploy).toMatch(/--filter dtrain deploy --prod .*\/out$/);
    const bin = workspace.get('dtrain')?.manifest.bin?.['dtrain']?.replace(/^\.\//, '');
    expect(runtime?.steps).toContainEqual(expect.objectContaining({ keyword: 'COPY', from: 'build', args: ['/out', '/app'] }));
    expect(runs(runtime).some((s) => s.text.includes(`ln -s /app/${bin} /usr/local/bin/dtrain`))).toBe(true);
    expect(runs(build).some((s) => s.text.includes(`chmod 0755 /out/${bin}`))).toBe(true);
  });

  it('runs as the non-root user the manifests expect, with dtrain as the entrypoint and the ports the manifests use', () => {
    const last = (keyword: string): Step | undefined => runtime?.steps.filter((s) => s.keyword === keyword).at(-1);
    expect(last('USER')?.text).toBe(`${RUN_AS_USER}:${RUN_AS_USER}`);
    expect(runs(runtime).some((s) => s.text.includes(`useradd --system --uid ${RUN_AS_USER}`))).toBe(true);
    const entrypoint = JSON.parse(last('ENTRYPOINT')?.text ?? 'null') as string[];
    expect(entrypoint.at(-1)).toBe('dtrain');
    expect(last('EXPOSE')?.args.map(Number).sort()).toEqual([COORDINATOR_PORT, WORKER_METRICS_PORT].sort());
    expect(runtime?.steps).toContainEqual(expect.objectContaining({ keyword: 'COPY', args: ['examples/', `${JOB_ROOT}/`] }));
  });

  it('installs OS packages without recommends and without keeping apt lists', () => {
    for (const step of runs(runtime).filter((s) => s.text.includes('apt-get install'))) {
      expect(step.text).toContain('--no-install-recommends');
      expect(step.text).toMatch(/apt-get update .*apt-get install .*rm -rf \/var\/lib\/apt\/lists/);
    }
  });
});

describe('the libtensorflow bindings in the images', () => {
  const engine = JSON.parse(readFileSync(join(REPO, 'packages/engine/package.json'), 'utf8')) as Manifest;
  const tfjsCore = engine.dependencies?.['@tensorflow/tfjs-core'];
  const backendChoice = readFileSync(join(REPO, 'packages/engine/src/backend-choice.ts'), 'utf8');

  it.each([
    ['Dockerfile.gpu', '@tensorflow/tfjs-node-gpu'],
    ['Dockerfile.cpu', '@tensorflow/tfjs-node'],
  ])('%s adds %s at the engine\'s tfjs version (one tfjs engine), runs its install script, and the engine looks for it', (file, binding) => {
    const model = readDockerfile(join(DOCKER, file));
    const build = model.stages.find((s) => s.name === 'build');
    expect(pnpmCommands(build)).toContainEqual(`${PNPM} --filter dtrain add --save-exact --ignore-scripts ${binding}@${tfjsCore}`);
    expect(runs(build).some((s) => s.text.includes(`cd /out/node_modules/${binding} && npm run install && find . -name tfjs_binding.node`))).toBe(true);
    expect(backendChoice).toContain(`'${binding}'`);
  });

  it('the GPU image is on CUDA 11.2 / cuDNN 8 (what libtensorflow 2.9 needs) and lets TensorFlow grow GPU memory', () => {
    const model = readDockerfile(join(DOCKER, 'Dockerfile.gpu'));
    expect(model.stages.at(-1)?.base).toMatch(/cuda:11\.2(\.\d+)?-cudnn8-runtime/);
    const env = model.stages.at(-1)?.steps.filter((s) => s.keyword === 'ENV').flatMap((s) => s.args) ?? [];
    expect(env).toContain('TF_FORCE_GPU_ALLOW_GROWTH=true');
  });

  it('no other version of a binding is named anywhere in the Dockerfiles', () => {
    for (const file of FILES) expect(readFileSync(join(DOCKER, file), 'utf8')).not.toMatch(new RegExp(`tfjs-node(-gpu)?@(?!${tfjsCore?.replace(/\./g, '\\.')})`));
  });
});
