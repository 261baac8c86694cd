import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModelFromLayers } from './build-model.js';
import { EngineError } from './engine-error.js';
import { initBackend } from './init-backend.js';
import type { LayerSpec } from './model-spec.js';
import { randomArray } from './testing/numeric.js';
import { readWeights, weightLayout, writeWeights, type WeightEntry } from './weight-layout.js';

const spec: LayerSpec[] = [
  { type: 'conv2d', inputShape: [5, 5, 2], filters: 3, kernelSize: 2 },
  { type: 'batchNormalization' },
  { type: 'flatten' },
  { type: 'dense', units: 4, useBias: false },
];

beforeAll(async () => {
  await initBackend('wasm');
});

describe('weightLayout', () => {
  it('lists model.weights in order, packed, with tfjs save names and trainability', () => {
    const layout = weightLayout(buildModelFromLayers(spec));
    const expected: WeightEntry[] = [
      { name: 'conv2d_0/kernel', shape: [2, 2, 2, 3], offset: 0, size: 24, trainable: true },
      { name: 'conv2d_0/bias', shape: [3], offset: 24, size: 3, trainable: true },
      { name: 'batchNormalization_1/gamma', shape: [3], offset: 27, size: 3, trainable: true },
      { name: 'batchNormalization_1/beta', shape: [3], offset: 30, size: 3, trainable: true },
      { name: 'dense_3/kernel', shape: [48, 4], offset: 33, size: 192, trainable: true },
      { name: 'batchNormalization_1/moving_mean', shape: [3], offset: 225, size: 3, trainable: false },
      { name: 'batchNormalization_1/moving_variance', shape: [3], offset: 228, size: 3, trainable: false },
    ];
    expect(layout).toEqual({ entries: expected, totalSize: 231 });
  });

  it('keeps the saved names when the same layer names are built twice in one process', () => {
    const first = buildModelFromLayers(spec);
    const second = buildModelFromLayers(spec);
    // tfjs makes the variable names unique; the layout must not follow it.
    expect(second.weights[0]?.name).not.toBe(first.weights[0]?.name);
    expect(weightLayout(second)).toEqual(weightLayout(first));
  });

  it('names weights as model.save does', async () => {
    const model = buildModelFromLayers(spec);
    let savedNames: string[] = [];
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        savedNames = (artifacts.weightSpecs ?? []).map((weightSpec) => weightSpec.name);
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    expect(weightLayout(model).entries.map((entry) => entry.name)).toEqual(savedNames);
  });
});

describe('readWeights / writeWeights', () => {
  it('round-trip any values, and the model keeps no reference to the array written', () => {
    const model = buildModelFromLayers(spec);
    const layout = weightLayout(model);
    const flat = randomArray(layout.totalSize);
    const numTensors = tf.memory().numTensors;
    writeWeights(model, layout, flat);
    const copy = flat.slice();
    flat.fill(7);
    expect(readWeights(model, layout)).toEqual(copy);
    expect(tf.memory().numTensors).toBe(numTensors);
    // Values land where the layout says: dense_3/kernel[0][1] is element 33 + 1.
    const denseKernel = model.getLayer('dense_3').getWeights()[0] as tf.Tensor;
    expect((denseKernel.dataSync() as Float32Array)[1]).toBe(copy[34]);
  });

  it('returns a fresh array each read', () => {
    const model = buildModelFromLayers(spec);
    const layout = weightLayout(model);
    const a = readWeights(model, layout);
    a.fill(3);
    expect(readWeights(model, layout)).not.toEqual(a);
  });

  it('reject arrays and layouts that do not fit with DTRAIN_ENGINE_SHAPE', () => {
    const model = buildModelFromLayers(spec);
    const layout = weightLayout(model);
    const mismatch = (run: () => unknown): EngineError => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(EngineError);
        expect((error as EngineError).code).toBe('DTRAIN_ENGINE_SHAPE');
        return error as EngineError;
      }
      return expect.fail('expected an EngineError');
    };
    expect(mismatch(() => writeWeights(model, layout, new Float32Array(230))).message).toBe(
      "writeWeights: expected 231 float32 values (the weight layout's totalSize), got 230",
    );
    const swapped = { ...layout, entries: [...layout.entries].reverse() };
    expect(mismatch(() => readWeights(model, swapped)).message).toBe(
      "weight layout entry 0 is batchNormalization_1/moving_variance [3] (non-trainable) but the model's weight 0 is conv2d_0/kernel [2,2,2,3]",
    );
    const fewer = { entries: layout.entries.slice(1), totalSize: layout.totalSize - 24 };
    expect(mismatch(() => readWeights(model, fewer)).message).toBe('weight layout has 6 entries but the model has 7 weights');
  });
});
