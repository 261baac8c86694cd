import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, buildModelFromLayers, modelFromTopology, modelTopology } from './build-model.js';
import { EngineError } from './engine-error.js';
import { initBackend } from './init-backend.js';
import type { LayerSpec } from './model-spec.js';
import { readWeights, weightLayout } from './weight-layout.js';

const cnn: LayerSpec[] = [
  { type: 'conv2d', inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: 'heUniform' },
  { type: 'batchNormalization' },
  { type: 'depthwiseConv2d', kernelSize: 2, depthMultiplier: 2 },
  { type: 'maxPooling2d', poolSize: 2, name: 'pool' },
  { type: 'flatten' },
  { type: 'dropout', rate: 0.1 },
  { type: 'dense', units: 8, activation: 'tanh', kernelInitializer: 'glorotNormal', kernelRegularizer: { l2: 0.001 } },
  { type: 'dense', units: 8, activation: 'relu', kernelInitializer: 'glorotNormal' },
  { type: 'dense', units: 3, activation: 'softmax' },
];

beforeAll(async () => {
  await initBackend('wasm');
});

async function expectSpecError(run: () => unknown, message: string | RegExp): Promise<void> {
  const error = await Promise.resolve()
    .then(run)
    .then(
      () => undefined,
      (caught: unknown) => caught,
    );
  expect(error).toBeInstanceOf(EngineError);
  expect((error as EngineError).code).toBe('DTRAIN_ENGINE_MODEL_SPEC');
  expect((error as EngineError).message).toMatch(message);
}

describe('buildModelFromLayers', () => {
  it('names layers <type>_<index> unless named, so weight names are the same in every build', () => {
    const model = buildModelFromLayers(cnn);
    expect(model.layers.map((layer) => layer.name)).toEqual([
      'conv2d_0',
      'batchNormalization_1',
      'depthwiseConv2d_2',
      'pool',
      'flatten_4',
      'dropout_5',
      'dense_6',
      'dense_7',
      'dense_8',
    ]);
    const again = buildModelFromLayers(cnn);
    expect(weightLayout(again).entries.map((entry) => entry.name)).toEqual(weightLayout(model).entries.map((entry) => entry.name));
    expect(weightLayout(model).entries.map((entry) => entry.name)).toContain('depthwiseConv2d_2/depthwise_kernel');
  });

  it('gives identical weights for the same seed, different ones for another seed', () => {
    const layoutOf = (seed: number): Float32Array => {
      const model = buildModelFromLayers(cnn, { seed });
      return readWeights(model, weightLayout(model));
    };
    const a = layoutOf(42);
    expect(layoutOf(42)).toEqual(a);
    expect(layoutOf(43)).not.toEqual(a);
  });

  it('seeds each layer differently: two equal layers do not start equal', () => {
    const model = buildModelFromLayers(cnn, { seed: 5 });
    const layout = weightLayout(model);
    const weights = readWeights(model, layout);
    const kernel = (name: string): Float32Array => {
      const entry = layout.entries.find((candidate) => candidate.name === name);
      if (entry === undefined) throw new Error(`no ${name}`);
      return weights.subarray(entry.offset, entry.offset + entry.size);
    };
    // dense_6 and dense_7 have the same initializer and shape [8, 8].
    expect(kernel('dense_7/kernel')).toHaveLength(64);
    expect(kernel('dense_7/kernel')).not.toEqual(kernel('dense_6/kernel').slice(0, 64));
  });

  it('applies the named initializers and activations', () => {
    const model = buildModelFromLayers([
      { type: 'dense', inputShape: [3], units: 2, kernelInitializer: 'ones', biasInitializer: 'ones', activation: 'sigmoid' },
    ]);
    const out = model.predict(tf.tensor2d([[1, 2, 3]])) as tf.Tensor;
    expect(Array.from(out.dataSync())).toEqual([1 / (1 + Math.exp(-7)), 1 / (1 + Math.exp(-7))].map((v) => Math.fround(v)));
    out.dispose();
  });

  it('wraps a shape error from tfjs with the layer index', async () => {
    await expectSpecError(
      () => buildModelFromLayers([{ type: 'dense', inputShape: [4], units: 3 }, { type: 'conv2d', filters: 2, kernelSize: 3 }]),
      /^model\.layers\[1\] \(conv2d\): .*expected ndim=4, found ndim=2/,
    );
  });

  it('validates the spec and the seed first', async () => {
    await expectSpecError(() => buildModelFromLayers([{ type: 'dense', inputShape: [4], units: -1 }]), 'model.layers[0].units: expected a positive integer, got -1');
    await expectSpecError(() => buildModelFromLayers(cnn, { seed: 1.5 }), 'seed: expected a non-negative integer, got 1.5');
  });
});

describe('topologies', () => {
  it('round-trips a model through modelTopology and modelFromTopology (JSON-safe)', async () => {
    const model = buildModelFromLayers(cnn, { seed: 1 });
    const topology = JSON.parse(JSON.stringify(modelTopology(model))) as unknown;
    const rebuilt = await modelFromTopology(topology);
    expect(weightLayout(rebuilt)).toEqual(weightLayout(model));
    expect(JSON.parse(JSON.stringify(modelTopology(rebuilt)))).toEqual(topology);
  });

  it('accepts a whole model.json object and uses only its topology', async () => {
    const model = buildModelFromLayers(cnn);
    const rebuilt = await modelFromTopology({ modelTopology: modelTopology(model), weightsManifest: [{ paths: ['nowhere.bin'], weights: [] }] });
    expect(weightLayout(rebuilt)).toEqual(weightLayout(model));
  });

  it('buildModel takes either kind of source', async () => {
    const fromLayers = await buildModel({ kind: 'layers', layers: cnn }, { seed: 3 });
    const fromTopology = await buildModel({ kind: 'topology', topology: modelTopology(fromLayers) });
    expect(weightLayout(fromTopology)).toEqual(weightLayout(fromLayers));
  });

  it('rejects what tfjs cannot read as DTRAIN_ENGINE_MODEL_SPEC', async () => {
    await expectSpecError(() => modelFromTopology('model.json'), 'model.topology: expected a tfjs Layers topology object');
    await expectSpecError(() => modelFromTopology({ class_name: 'NoSuchModel', config: {} }), /^model\.topology: .*NoSuchModel/);
  });
});
