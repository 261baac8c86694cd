import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModelFromLayers } from './build-model.js';
import { EngineError } from './engine-error.js';
import { initBackend } from './init-backend.js';
import type { LayerSpec } from './model-spec.js';
import { tensorMemory } from './tensor-memory.js';
import { backendsToTest } from './testing/backends.js';
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

const backends = await backendsToTest('the readWeights / writeWeights contract');

describe.each(backends)('writeWeights on $name', ({ name, available }) => {
  const dense: LayerSpec[] = [
    { type: 'dense', inputShape: [6], units: 5, activation: 'relu' },
    { type: 'batchNormalization' },
    { type: 'dense', units: 3 },
  ];

  it.skipIf(!available)('round-trips exactly through readWeights, write after write, into a caller array', async () => {
    await initBackend(name);
    const model = buildModelFromLayers(dense);
    const layout = weightLayout(model);
    const out = new Float32Array(layout.totalSize);
    // Several writes: on cpu the first allocates and later ones go in place.
    for (let i = 0; i < 3; i++) {
      const flat = randomArray(layout.totalSize);
      const copy = flat.slice();
      writeWeights(model, layout, flat);
      flat.fill(7);
      expect(readWeights(model, layout, out)).toBe(out);
      expect(out).toEqual(copy);
    }
  });

  it.skipIf(!available)('a forward pass uses the weights written, not operators cached from the old ones', async () => {
    await initBackend(name);
    const model = buildModelFromLayers([{ type: 'dense', inputShape: [4], units: 3 }]);
    const twin = buildModelFromLayers([{ type: 'dense', inputShape: [4], units: 3 }]);
    const layout = weightLayout(model);
    const x = tf.tensor2d(randomArray(4), [1, 4]);
    for (let i = 0; i < 3; i++) {
      (model.predict(x) as tf.Tensor).dispose();
      const flat = randomArray(layout.totalSize);
      writeWeights(model, layout, flat);
      writeWeights(model, layout, flat); // the second write goes in place on every backend that can
      twin.setWeights([tf.tensor2d(flat.slice(0, 12), [4, 3]), tf.tensor1d(flat.slice(12))]);
      const [got, expected] = [model.predict(x) as tf.Tensor, twin.predict(x) as tf.Tensor];
      expect(got.dataSync()).toEqual(expected.dataSync());
      tf.dispose([got, expected]);
    }
    x.dispose();
  });

  it.skipIf(!available)('a tf.clone of a weight taken before a write keeps its old values; the write goes in place unless they share memory', async () => {
    await initBackend(name);
    const model = buildModelFromLayers(dense);
    const layout = weightLayout(model);
    writeWeights(model, layout, randomArray(layout.totalSize)); // on cpu, memory the engine owns from here on
    const weight = model.weights[0] as tfl.LayerVariable;
    const clone = tf.clone(weight.read());
    const old = clone.dataSync().slice();
    // cpu clones share the data; wasm clones copy it.
    const shared = clone.dataId === weight.read().dataId;
    const dataIdBefore = weight.read().dataId;
    const flat = randomArray(layout.totalSize);
    writeWeights(model, layout, flat);
    expect(clone.dataSync()).toEqual(old);
    expect(readWeights(model, layout)).toEqual(flat);
    expect(weight.read().dataId === dataIdBefore).toBe(!shared && tensorMemory().kind !== 'generic');
    clone.dispose();
  });

  it.skipIf(!available)('a reshape of a weight (same data on every backend) keeps its old values', async () => {
    await initBackend(name);
    const model = buildModelFromLayers(dense);
    const layout = weightLayout(model);
    writeWeights(model, layout, randomArray(layout.totalSize));
    const reshaped = tf.reshape((model.weights[0] as tfl.LayerVariable).read(), [-1]);
    const old = reshaped.dataSync().slice();
    const flat = randomArray(layout.totalSize);
    writeWeights(model, layout, flat);
    expect(reshaped.dataSync()).toEqual(old);
    expect(readWeights(model, layout)).toEqual(flat);
    reshaped.dispose();
  });

  it.skipIf(!available)('writes only the range given; weights it cuts keep their other values', async () => {
    await initBackend(name);
    const model = buildModelFromLayers(dense);
    const layout = weightLayout(model);
    writeWeights(model, layout, randomArray(layout.totalSize));
    writeWeights(model, layout, randomArray(layout.totalSize)); // in place from here on cpu too
    const before = readWeights(model, layout);
    const flat = randomArray(layout.totalSize);
    // [7, 33) starts inside dense_0/kernel [0, 30) and ends inside dense_0/bias [30, 35).
    expect(layout.entries[1]).toMatchObject({ name: 'dense_0/bias', offset: 30, size: 5 });
    const start = 7;
    const end = 33;
    writeWeights(model, layout, flat, { start, end });
    const expected = before.slice();
    expected.set(flat.subarray(start, end), start);
    expect(readWeights(model, layout)).toEqual(expected);
    writeWeights(model, layout, flat, { start: end });
    expected.set(flat.subarray(end), end);
    expect(readWeights(model, layout)).toEqual(expected);
  });

  it.skipIf(!available)('applies a weight constraint as LayerVariable.write does', async () => {
    await initBackend(name);
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 2, kernelConstraint: 'nonNeg' })] });
    const layout = weightLayout(model);
    const flat = Float32Array.from([-1, 2, 3, -4, 5, 6]);
    writeWeights(model, layout, flat);
    writeWeights(model, layout, flat);
    expect(readWeights(model, layout)).toEqual(Float32Array.from([0, 2, 3, 0, 5, 6]));
  });

  it.skipIf(!available)('leaves tf.memory() unchanged over many writes', async () => {
    await initBackend(name);
    const model = buildModelFromLayers(dense);
    const layout = weightLayout(model);
    const flat = randomArray(layout.totalSize);
    writeWeights(model, layout, flat);
    const before = tf.memory();
    for (let i = 0; i < 200; i++) writeWeights(model, layout, flat, i % 2 === 0 ? {} : { start: 3, end: 50 });
    const after = tf.memory();
    expect([after.numTensors, after.numBytes, after.numDataBuffers]).toEqual([before.numTensors, before.numBytes, before.numDataBuffers]);
  });

  it.skipIf(!available)('rejects ranges outside the layout with DTRAIN_ENGINE_SHAPE', async () => {
    await initBackend(name);
    const model = buildModelFromLayers(dense);
    const layout = weightLayout(model);
    const flat = new Float32Array(layout.totalSize);
    const thrown = (run: () => unknown): unknown => {
      try {
        run();
      } catch (error) {
        return error;
      }
      return expect.fail('expected an EngineError');
    };
    for (const range of [{ start: -1 }, { end: layout.totalSize + 1 }, { start: 0.5 }]) {
      expect(thrown(() => writeWeights(model, layout, flat, range))).toMatchObject({ code: 'DTRAIN_ENGINE_SHAPE' });
    }
    const error = thrown(() => writeWeights(model, layout, flat, { start: 4, end: 3 }));
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({
      code: 'DTRAIN_ENGINE_SHAPE',
      message: `writeWeights: range: expected integers 0 <= start <= end <= ${layout.totalSize} (the weight layout's totalSize), got start 4, end 3`,
    });
    expect(() => readWeights(model, layout, new Float32Array(3))).toThrow(
      `readWeights: expected ${layout.totalSize} float32 values (the weight layout's totalSize), got 3`,
    );
  });
});
