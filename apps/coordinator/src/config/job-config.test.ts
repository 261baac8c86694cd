import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, test } from 'vitest';
import { loadJobConfig, parseJobConfig, type JobConfig } from './index.js';
import { configError } from './config-error.testkit.js';

const dir = mkdtempSync(join(tmpdir(), 'dtrain-job-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

mkdirSync(join(dir, 'data', 'mnist'), { recursive: true });
// Only existence is checked here; the data package reads the contents later.
writeFileSync(join(dir, 'data', 'mnist', 't10k-images-idx3-ubyte.gz'), '');
writeFileSync(join(dir, 'data', 'mnist', 't10k-labels-idx1-ubyte.gz'), '');

const MNIST_MLP_YAML = `name: mnist-mlp
model:
  layers:
    - { type: dense, units: 256, activation: relu, inputShape: [784], kernelInitializer: heNormal }
    - { type: dropout, rate: 0.2 }
    - { type: dense, units: 128, activation: relu, kernelInitializer: heNormal }
    - { type: dense, units: 10, activation: softmax }
dataset:
  format: idx
  images: data/mnist/t10k-images-idx3-ubyte.gz
  labels: data/mnist/t10k-labels-idx1-ubyte.gz
  featureShape: [784]
  normalise: { kind: scale, scale: 255 }
  validationSplit: 0.1
training:
  epochs: 5
  batchSize: 64
  optimizer: { name: adam, learningRate: 0.001 }
  loss: sparseCategoricalCrossentropy
  metrics: [accuracy]
  seed: 42
cluster:
  minWorkers: 2
  stepTimeoutMs: 30000
checkpoint:
  everySteps: 100
`;

const MNIST_MLP_EXPECTED: JobConfig = {
  name: 'mnist-mlp',
  configDir: dir,
  model: {
    kind: 'layers',
    layers: [
      { type: 'dense', units: 256, activation: 'relu', inputShape: [784], kernelInitializer: 'heNormal' },
      { type: 'dropout', rate: 0.2 },
      { type: 'dense', units: 128, activation: 'relu', kernelInitializer: 'heNormal' },
      { type: 'dense', units: 10, activation: 'softmax' },
    ],
  },
  dataset: {
    source: {
      format: 'idx',
      images: join(dir, 'data', 'mnist', 't10k-images-idx3-ubyte.gz'),
      labels: join(dir, 'data', 'mnist', 't10k-labels-idx1-ubyte.gz'),
      labelEncoding: 'index',
    },
    featureShape: [784],
    validationSplit: 0.1,
    normalisation: { kind: 'scale', scale: 255 },
    chunkSize: 1024,
    access: 'auto',
    cacheBytes: 1024 * 1024 * 1024,
    maxBadSamples: 0,
  },
  training: {
    epochs: 5,
    batchSize: 64,
    optimizer: { name: 'adam', learningRate: 0.001 },
    loss: 'sparseCategoricalCrossentropy',
    metrics: ['accuracy'],
    seed: 42,
    shuffle: true,
    scaleLearningRate: 'none',
    nonFinite: { maxConsecutiveSteps: 10, action: 'fail' },
    localSteps: 1,
    outerOptimizer: { name: 'momentum', learningRate: 0.7, momentum: 0.9, useNesterov: true },
    innerState: 'keep',
  },
  cluster: {
    minWorkers: 2,
    maxWorkers: 64,
    stepTimeoutMs: 30000,
    waitTimeoutMs: 300000,
    heartbeatIntervalMs: 2000,
    heartbeatTimeoutMs: 10000,
    stragglerRatio: 3,
    chunkBytes: 4194304,
    psShards: 0,
    wire: 'float32',
    wireWeights: 'float32',
  },
  checkpoint: { everySteps: 100, keep: 3 },
};

/** The smallest valid document; tests change one thing in it. */
function minimal(): Record<string, unknown> {
  return {
    name: 'tiny',
    model: { layers: [{ type: 'dense', units: 1 }] },
    dataset: { format: 'synthetic', numSamples: 10, featureShape: [2] },
    training: { epochs: 1, batchSize: 2, optimizer: { name: 'sgd', learningRate: 0.1 }, loss: 'meanSquaredError' },
  };
}

describe('the MNIST MLP example', () => {
  it('loads from YAML to the expected config, paths resolved against the config folder', async () => {
    const file = join(dir, 'mnist-mlp.yaml');
    writeFileSync(file, MNIST_MLP_YAML);
    expect(await loadJobConfig(file)).toStrictEqual(MNIST_MLP_EXPECTED);
  });

  it('loads the same from JSON', async () => {
    const file = join(dir, 'mnist-mlp.json');
    const { parse } = await import('yaml');
    writeFileSync(file, JSON.stringify(parse(MNIST_MLP_YAML), null, 2));
    expect(await loadJobConfig(file)).toStrictEqual(MNIST_MLP_EXPECTED);
  });
});

describe('parseJobConfig', () => {
  it('fills every default of a minimal config', () => {
    const config = parseJobConfig(minimal(), dir, 'tiny.yaml');
    expect(config.training.metrics).toStrictEqual([]);
    expect(config.cluster).toStrictEqual({
      minWorkers: 1,
      maxWorkers: 64,
      stepTimeoutMs: 30000,
      waitTimeoutMs: 300000,
      heartbeatIntervalMs: 2000,
      heartbeatTimeoutMs: 10000,
      stragglerRatio: 3,
      chunkBytes: 4194304,
      psShards: 0,
      wire: 'float32',
      wireWeights: 'float32',
    });
    expect(config.checkpoint).toStrictEqual({ everySteps: 0, keep: 3 });
    expect(config.dataset).toStrictEqual({
      source: { format: 'synthetic', numSamples: 10, featureShape: [2], seed: 42, noise: 0.1, firstSample: 0 },
      validationSplit: 0.1,
      normalisation: { kind: 'none' },
      chunkSize: 1024,
      access: 'auto',
      cacheBytes: 1024 ** 3,
      maxBadSamples: 0,
    });
  });

  it('makes configDir absolute', () => {
    expect(parseJobConfig(minimal(), '.', 'tiny.yaml').configDir).toBe(process.cwd());
  });

  it('accepts a name of exactly 40 characters', () => {
    const name = `a${'-b'.repeat(19)}c`;
    expect(name).toHaveLength(40);
    expect(parseJobConfig({ ...minimal(), name }, dir, 'x').name).toBe(name);
  });

  it('sets the source of its errors to sourceName', () => {
    const error = configError(() => parseJobConfig({ ...minimal(), name: 'Bad' }, dir, 'job from 10.0.0.7'));
    expect(error.source).toBe('job from 10.0.0.7');
  });

  const nameMessage = (got: string) =>
    `name: expected lowercase letters, digits and "-" (not first or last), at most 40 characters, got ${got}`;

  test.each([
    { change: { name: undefined }, field: 'name', message: 'name: required' },
    { change: { name: 'MNIST_mlp' }, field: 'name', message: nameMessage('"MNIST_mlp"') },
    { change: { name: '-mlp' }, field: 'name', message: nameMessage('"-mlp"') },
    { change: { name: 'mlp-' }, field: 'name', message: nameMessage('"mlp-"') },
    { change: { name: 'a'.repeat(41) }, field: 'name', message: nameMessage(`"${'a'.repeat(39)}…"`) },
    { change: { name: 7 }, field: 'name', message: nameMessage('7') },
    { change: { model: undefined }, field: 'model', message: 'model: required' },
    { change: { dataset: null }, field: 'dataset', message: 'dataset: required' },
    { change: { training: undefined }, field: 'training', message: 'training: required' },
    { change: { trainig: {} }, field: 'trainig', message: 'trainig: unknown key (did you mean "training"?)' },
    {
      change: { owner: 'me' },
      field: 'owner',
      message: 'owner: unknown key (expected one of: name, model, dataset, training, cluster, checkpoint)',
    },
    { change: { cluster: [] }, field: 'cluster', message: 'cluster: expected an object, got an empty array' },
  ])('$message', ({ change, field, message }) => {
    const raw: Record<string, unknown> = { ...minimal(), ...change };
    for (const key of Object.keys(raw)) if (raw[key] === undefined) delete raw[key];
    expect(configError(() => parseJobConfig(raw, dir, 'job.yaml'))).toMatchObject({ code: 'DTRAIN_CONFIG_INVALID', field, message });
  });

  test.each([
    { raw: null, message: 'job.yaml: expected an object with keys name, model, dataset, training, cluster, checkpoint, got null' },
    { raw: [1, 2], message: 'job.yaml: expected an object with keys name, model, dataset, training, cluster, checkpoint, got an array of 2' },
    { raw: 'name: x', message: 'job.yaml: expected an object with keys name, model, dataset, training, cluster, checkpoint, got "name: x"' },
  ])('a document that is not an object: $message', ({ raw, message }) => {
    expect(configError(() => parseJobConfig(raw, dir, 'job.yaml'))).toMatchObject({
      code: 'DTRAIN_CONFIG_INVALID',
      field: undefined,
      message,
    });
  });
});
