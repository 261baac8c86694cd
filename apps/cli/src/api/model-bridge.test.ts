import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf, tfl } from '@dtrain/engine';
import { FitError, FitErrorCode } from './fit-error.js';
import { checkLayerClasses, describeModel, engineLayout, flatWeightsByName, mapLoss, mapMetrics, mapOptimizer, writeWeightsByName } from './model-bridge.js';

beforeAll(async () => {
  await initBackend('cpu');
});

function expectFitError(run: () => unknown, code: FitErrorCode, message: RegExp): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(FitError);
  expect((thrown as FitError).code).toBe(code);
  expect((thrown as FitError).message).toMatch(message);
}

function mlp(): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.dense({ units: 5, activation: 'relu', inputShape: [3] }));
  model.add(tfl.layers.dense({ units: 2, activation: 'softmax' }));
  return model;
}

describe('mapOptimizer', () => {
  it('maps tfjs optimizers with their hyper-parameters', () => {
    expect(mapOptimizer(tf.train.sgd(0.05))).toEqual({ name: 'sgd', learningRate: 0.05 });
    expect(mapOptimizer(tf.train.momentum(0.01, 0.8, true))).toEqual({ name: 'momentum', learningRate: 0.01, momentum: 0.8, useNesterov: true });
    expect(mapOptimizer(tf.train.momentum(0.01, 0.9))).toEqual({ name: 'momentum', learningRate: 0.01, momentum: 0.9 });
    expect(mapOptimizer(tf.train.adam(0.002, 0.8, 0.99, 1e-6))).toEqual({ name: 'adam', learningRate: 0.002, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 });
    expect(mapOptimizer(tf.train.rmsprop(0.003, 0.95, 0.1, 1e-5, true))).toEqual({ name: 'rmsprop', learningRate: 0.003, decay: 0.95, momentum: 0.1, epsilon: 1e-5, centered: true });
  });

  it('refuses optimizers without a counterpart, naming them and listing those that map', () => {
    expectFitError(() => mapOptimizer(tf.train.adagrad(0.1)), FitErrorCode.OPTIMIZER, /optimizer Adagrad has no dtrain counterpart; the ones that map: SGD \(sgd\), Momentum/);
    expectFitError(() => mapOptimizer(tf.train.adadelta()), FitErrorCode.OPTIMIZER, /Adadelta/);
    expectFitError(() => mapOptimizer(tf.train.adamax()), FitErrorCode.OPTIMIZER, /Adamax/);
  });
});

describe('mapLoss and mapMetrics', () => {
  it('maps loss names and tfjs aliases', () => {
    expect(mapLoss('mse')).toBe('meanSquaredError');
    expect(mapLoss('meanSquaredError')).toBe('meanSquaredError');
    expect(mapLoss('sparse_categorical_crossentropy')).toBe('sparseCategoricalCrossentropy');
    expect(mapLoss(['categoricalCrossentropy'])).toBe('categoricalCrossentropy');
    expect(mapLoss('binaryCrossentropy')).toBe('binaryCrossentropy');
  });

  it('refuses functions, unsupported names and several losses', () => {
    expectFitError(() => mapLoss((a: tf.Tensor) => a), FitErrorCode.LOSS, /is a function/);
    expectFitError(() => mapLoss('hinge'), FitErrorCode.LOSS, /loss 'hinge' is not supported. dtrain computes sparseCategoricalCrossentropy/);
    expectFitError(() => mapLoss(['mse', 'mse']), FitErrorCode.LOSS, /one loss name/);
    expectFitError(() => mapLoss('toString'), FitErrorCode.LOSS, /not supported/);
  });

  it("turns 'acc' into the accuracy metric, only for classification losses", () => {
    expect(mapMetrics(['loss', 'acc'], 'sparseCategoricalCrossentropy')).toEqual(['accuracy']);
    expect(mapMetrics(['loss'], 'sparseCategoricalCrossentropy')).toEqual([]);
    expect(mapMetrics(['loss', 'acc'], 'meanSquaredError')).toEqual([]);
  });
});

describe('describeModel', () => {
  it('reads a compiled model: topology, optimizer, loss, metrics, shapes', () => {
    const model = mlp();
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const bridge = describeModel(model);
    expect(bridge.optimizer).toMatchObject({ name: 'adam', learningRate: 0.01 });
    expect(bridge.loss).toBe('sparseCategoricalCrossentropy');
    expect(bridge.metrics).toEqual(['accuracy']);
    expect(bridge.shapes).toEqual({ input: [3], output: [2], inputSize: 3, outputSize: 2 });
    expect((bridge.topology as { class_name: string }).class_name).toBe('Sequential');
  });

  it('refuses a model that is not compiled', () => {
    expectFitError(() => describeModel(mlp()), FitErrorCode.NOT_COMPILED, /not compiled/);
  });
});

describe('checkLayerClasses', () => {
  it('refuses class names outside the known set, wherever they sit, and accepts a built-in topology', () => {
    const model = mlp();
    const topology = model.toJSON(null, false);
    const builtIns = new Set(Object.keys(tf.serialization.SerializationMap.getMap().classNameMap));
    expect(() => checkLayerClasses(topology, builtIns)).not.toThrow();
    const nested = { class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { kernel_initializer: { class_name: 'MyInit', config: {} } } }, { class_name: 'MyLayer', config: {} }] } };
    expectFitError(() => checkLayerClasses(nested, builtIns), FitErrorCode.CUSTOM_LAYER, /uses MyInit, MyLayer, which tfjs-layers does not define; custom layers/);
  });
});

describe('weights by name', () => {
  it('maps the user weights onto a rebuilt layout by name, whatever their order, and writes them back', async () => {
    const model = mlp();
    const layout = await engineLayout(model.toJSON(null, false));
    expect(layout.entries.map((e) => e.name)).toEqual(model.weights.map((w) => w.originalName));
    const reversed = [...model.weights].reverse();
    const flat = flatWeightsByName(layout, reversed);
    const expected = Float32Array.from(model.getWeights().flatMap((w) => [...w.dataSync()]));
    expect(flat).toEqual(expected);
    const fresh = flat.map((_, i) => i / 100);
    writeWeightsByName(layout, model.weights, fresh);
    expect(Float32Array.from(model.getWeights().flatMap((w) => [...w.dataSync()]))).toEqual(fresh);
  });

  it('refuses a layout entry the model lacks or holds in another shape', async () => {
    const model = mlp();
    const layout = await engineLayout(model.toJSON(null, false));
    const first = layout.entries[0]!;
    expectFitError(() => flatWeightsByName({ ...layout, entries: [{ ...first, name: 'nope/kernel' }] }, model.weights), FitErrorCode.MODEL, /no weight nope\/kernel/);
    expectFitError(() => flatWeightsByName({ ...layout, entries: [{ ...first, shape: [5, 3] }] }, model.weights), FitErrorCode.MODEL, /is \[3, 5\] in the model but \[5, 3\]/);
  });
});
