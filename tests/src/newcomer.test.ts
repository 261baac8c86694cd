import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, tempDir } from './harness.js';

/**
 * The newcomer's path: in a fresh folder outside the workspace, `npm init -y`,
 * install dtrain (packed with `pnpm pack`, which turns workspace:* into
 * versions) and @tensorflow/tfjs from the registry, write a short script that
 * builds a tfjs model in code and trains it with `fit` on 2 workers, and run
 * it with plain `node`. Every @dtrain/* package must come from the tarballs
 * (npm `overrides` pin them; the lockfile is checked), never from the public
 * registry. Assumes the workspace is built (the packs take dist/).
 *
 * Needs the npm registry for @tensorflow/tfjs and the third-party
 * dependencies; without it the suite skips with a loud line.
 */

const run = promisify(execFile);

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: Record<string, string>;
}

/** The dtrain packages a user installs: the CLI (`dtrain`, apps/cli) and every workspace package it depends on, transitively. */
function dtrainClosure(): Map<string, Manifest> {
  const all = new Map<string, Manifest>();
  for (const group of ['apps', 'packages']) {
    for (const dir of readdirSync(join(REPO, group))) {
      const path = join(REPO, group, dir, 'package.json');
      if (existsSync(path)) {
        const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
        all.set(manifest.name, manifest);
      }
    }
  }
  const closure = new Map<string, Manifest>();
  const visit = (name: string): void => {
    const manifest = all.get(name);
    if (manifest === undefined || closure.has(name)) return;
    closure.set(name, manifest);
    for (const [dep, spec] of Object.entries(manifest.dependencies ?? {})) if (spec.startsWith('workspace:')) visit(dep);
  };
  visit('dtrain');
  return closure;
}

const TFJS = '4.22.0';

const probe = spawnSync('npm', ['view', `@tensorflow/tfjs@${TFJS}`, 'version'], { encoding: 'utf8', timeout: 30_000 });
const unreachable = probe.status === 0 && probe.stdout.trim() === TFJS ? undefined : `npm view @tensorflow/tfjs@${TFJS} failed (${probe.error?.message ?? `exit ${probe.status}: ${probe.stderr.trim().split('\n').pop() ?? ''}`})`;
if (unreachable !== undefined) console.warn(`\n*** SKIPPED: newcomer test: the npm registry cannot be reached: ${unreachable} ***\n`);

/**
 * The user's program: two generated classes (Gaussian blobs 1.5 σ either side
 * of the origin in 8 dimensions, 8.5 σ apart: a linear boundary separates them
 * all but a negligible fraction), 1,000 samples to train on and 200 held back.
 */
const SCRIPT = `import * as tf from '@tensorflow/tfjs';
import { fit } from 'dtrain';

const n = 1200, d = 8;
const labels = tf.tensor1d(Array.from({ length: n }, (_, i) => i % 2), 'int32');
const side = labels.cast('float32').mul(2).sub(1).reshape([n, 1]);
const x = tf.randomNormal([n, d], 0, 1, 'float32', 42).add(side.mul(1.5));
const y = tf.oneHot(labels, 2);
const [xTrain, xTest] = tf.split(x, [1000, 200]);
const [yTrain, yTest] = tf.split(y, [1000, 200]);

const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [d], units: 16, activation: 'relu' }), tf.layers.dense({ units: 2, activation: 'softmax' })] });
model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

const history = await fit(model, xTrain, yTrain, { epochs: 4, batchSize: 32, validationSplit: 0.1, workers: 2, seed: 1, verbose: 0 });
const [, accuracy] = model.evaluate(xTest, yTest);
console.log('RESULT ' + JSON.stringify({ epoch: history.epoch, history: history.history, testAccuracy: accuracy.dataSync()[0] }));
`;

/** The held-back accuracy the script must reach: the classes overlap by a negligible fraction, 4 epochs of 28 steps are plenty. */
const MIN_TEST_ACCURACY = 0.95;

interface Result {
  readonly epoch: number[];
  readonly history: { loss: number[]; acc: number[]; val_loss: number[]; val_acc: number[] };
  readonly testAccuracy: number;
}

describe.skipIf(unreachable !== undefined)('newcomer: dtrain installed from packed tarballs into a fresh npm project', () => {
  const tmp = tempDir('newcomer');
  afterAll(() => tmp.cleanup());

  it(`packs, installs with npm, and a script with fit on 2 workers trains a model to ≥ ${MIN_TEST_ACCURACY} held-back accuracy`, async () => {
    const tarballs = join(tmp.dir, 'tarballs');
    const app = join(tmp.dir, 'app');
    mkdirSync(tarballs);
    mkdirSync(app);

    const closure = dtrainClosure();
    // The ten of today; a new workspace dependency of dtrain joins the closure by itself.
    expect([...closure.keys()].sort()).toEqual(expect.arrayContaining(['dtrain', '@dtrain/coordinator', '@dtrain/worker', '@dtrain/ps', '@dtrain/data', '@dtrain/engine', '@dtrain/k8s', '@dtrain/metrics', '@dtrain/protocol', '@dtrain/parameter-server']));
    let t = performance.now();
    // `dtrain...`: dtrain and its workspace dependencies; pnpm rewrites workspace:* to their versions.
    await run('npx', ['--yes', 'pnpm@10.34.8', '--filter', 'dtrain...', '-r', 'pack', '--pack-destination', tarballs], { cwd: REPO, maxBuffer: 16 << 20 });
    const packed = new Map<string, string>();
    for (const [name, manifest] of closure) {
      const file = join(tarballs, `${name.replace('@', '').replace('/', '-')}-${manifest.version}.tgz`);
      expect(existsSync(file), `${name} packed as ${file}`).toBe(true);
      packed.set(name, `file:${file}`);
    }
    const packMs = performance.now() - t;

    t = performance.now();
    await run('npm', ['init', '-y'], { cwd: app });
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as Record<string, unknown>;
    const dtrainTarball = packed.get('dtrain') ?? '';
    manifest['type'] = 'module';
    manifest['dependencies'] = { dtrain: dtrainTarball, '@tensorflow/tfjs': TFJS };
    // dtrain's own @dtrain/* dependencies carry plain versions after packing: pin each to its tarball.
    manifest['overrides'] = Object.fromEntries([...packed].filter(([name]) => name !== 'dtrain'));
    writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, maxBuffer: 16 << 20 });
    const installMs = performance.now() - t;
    console.log(`[measure] newcomer: pnpm pack ×${packed.size} ${(packMs / 1000).toFixed(1)} s, npm install ${(installMs / 1000).toFixed(1)} s`);

    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string; version?: string }> };
    const ours = Object.entries(lock.packages).filter(([path]) => /(^|\/)node_modules\/(dtrain|@dtrain\/[^/]+)$/.test(path));
    expect(ours.map(([path]) => path.replace(/^.*node_modules\//, '')).sort()).toEqual([...packed.keys()].sort());
    for (const [path, entry] of ours) expect(entry.resolved, `${path} in package-lock.json`).toMatch(/^file:/);
    for (const name of packed.keys()) expect(existsSync(join(app, 'node_modules', name, 'dist')), `${name} has dist/`).toBe(true);

    writeFileSync(join(app, 'train.mjs'), SCRIPT);
    t = performance.now();
    const { stdout } = await run(process.execPath, ['train.mjs'], { cwd: app, timeout: 120_000, maxBuffer: 16 << 20 });
    const runMs = performance.now() - t;
    console.log(`[measure] newcomer: node train.mjs ${(runMs / 1000).toFixed(1)} s`);

    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, `the script's output:\n${stdout}`).toBeDefined();
    const result = JSON.parse((line ?? '').slice('RESULT '.length)) as Result;
    console.log(`[measure] newcomer: loss ${result.history.loss.map((l) => l.toFixed(3)).join(' → ')}, held-back accuracy ${result.testAccuracy}`);
    expect(result.epoch).toEqual([0, 1, 2, 3]);
    for (const series of [result.history.loss, result.history.acc, result.history.val_loss, result.history.val_acc]) expect(series).toHaveLength(4);
    const loss = result.history.loss;
    expect(loss[3]).toBeLessThan(loss[0] ?? Number.NaN);
    expect(result.testAccuracy).toBeGreaterThanOrEqual(MIN_TEST_ACCURACY);
  });
});
