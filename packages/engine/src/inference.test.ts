import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { buildModelFromLayers } from './build-model.js';
import { availableBackends, initBackend } from './init-backend.js';
import { evaluate, predict } from './inference.js';
import type { LayerSpec, LossName } from './model-spec.js';
import { expectClose, randomArray } from './testing/numeric.js';

const backends = await availableBackends();

interface LossCase {
  readonly loss: LossName;
  readonly head: LayerSpec;
  readonly labels: (n: number) => { flat: Float32Array; shape: number[] };
}

const lossCases: LossCase[] = [
  {
    loss: 'categoricalCrossentropy',
    head: { type: 'dense', units: 4, activation: 'softmax' },
    labels: (n) => {
      const flat = new Float32Array(n * 4);
      for (let i = 0; i < n; i++) flat[i * 4 + Math.floor(Math.random() * 4)] = 1;
      return { flat, shape: [n, 4] };
    },
  },
  {
    loss: 'sparseCategoricalCrossentropy',
    head: { type: 'dense', units: 4, activation: 'softmax' },
    labels: (n) => ({ flat: Float32Array.from({ length: n }, () => Math.floor(Math.random() * 4)), shape: [n, 1] }),
  },
  {
    loss: 'binaryCrossentropy',
    head: { type: 'dense', units: 3, activation: 'sigmoid' },
    labels: (n) => ({ flat: Float32Array.from({ length: n * 3 }, () => (Math.random() < 0.5 ? 0 : 1)), shape: [n, 3] }),
  },
  {
    loss: 'meanSquaredError',
    head: { type: 'dense', units: 3 },
    labels: (n) => ({ flat: randomArray(n * 3), shape: [n, 3] }),
  },
];

describe.each(backends)('evaluate and predict on %s', (backend) => {
  it.each(lossCases)('$loss: loss and accuracy equal model.evaluate’s, in batches with a remainder', async ({ loss, head, labels }) => {
    await initBackend(backend);
    const model = buildModelFromLayers([
      { type: 'dense', inputShape: [6], units: 8, activation: 'relu' },
      { type: 'dropout', rate: 0.5 },
      { type: 'batchNormalization' },
      head,
    ]);
    const n = 37;
    const x = randomArray(n * 6);
    const y = labels(n);
    const ours = evaluate(model, x, y.flat, n, loss, 10);

    model.compile({ optimizer: 'sgd', loss, metrics: loss === 'meanSquaredError' ? [] : ['accuracy'] });
    const xs = tf.tensor2d(x, [n, 6]);
    const ys = tf.tensor(y.flat, y.shape);
    const reference = [model.evaluate(xs, ys, { batchSize: n })].flat() as tf.Scalar[];
    const [refLoss, refAccuracy] = reference.map((scalar) => scalar.dataSync()[0] as number);
    tf.dispose([xs, ys, ...reference]);

    expectClose([ours.loss], [refLoss as number], { rtol: 1e-5 });
    if (loss === 'meanSquaredError') {
      expect(ours.accuracy).toBeUndefined();
    } else {
      expectClose([ours.accuracy ?? NaN], [refAccuracy as number], { rtol: 1e-6 });
    }
  });

  it('accuracy counts argmax hits, and thresholds binary outputs at 0.5', async () => {
    await initBackend(backend);
    // A model that outputs its input: predictions are chosen directly.
    const identity = buildModelFromLayers([{ type: 'activation', inputShape: [3], activation: 'linear' }]);
    const predictions = new Float32Array([0.7, 0.2, 0.1, 0.1, 0.3, 0.6, 0.4, 0.35, 0.25, 0.2, 0.2, 0.6]);
    const sparse = new Float32Array([0, 1, 0, 2]);
    expect(evaluate(identity, predictions, sparse, 4, 'sparseCategoricalCrossentropy').accuracy).toBe(0.75);
    const oneHot = new Float32Array([1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1]);
    expect(evaluate(identity, predictions, oneHot, 4, 'categoricalCrossentropy').accuracy).toBe(0.75);
    const binary = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    // Per sample: 3/3, 3/3, 3/3, 2/3 right (0.6 > 0.5 but labelled 0).
    expectClose([evaluate(identity, predictions, binary, 4, 'binaryCrossentropy').accuracy ?? NaN], [11 / 12]);
  });

  it('predict equals model.predict (inference mode) for any batch size', async () => {
    await initBackend(backend);
    const model = buildModelFromLayers([
      { type: 'conv2d', inputShape: [5, 5, 2], filters: 3, kernelSize: 3 },
      { type: 'dropout', rate: 0.5 },
      { type: 'flatten' },
      { type: 'dense', units: 2, activation: 'softmax' },
    ]);
    const n = 9;
    const x = randomArray(n * 50);
    const xs = tf.tensor4d(x, [n, 5, 5, 2]);
    const reference = model.predict(xs) as tf.Tensor;
    const expected = reference.dataSync().slice();
    tf.dispose([xs, reference]);
    for (const batchSize of [1, 4, 9, 100]) {
      const { values, outputShape } = predict(model, x, n, batchSize);
      expect(outputShape).toEqual([n, 2]);
      expectClose(values, expected, { rtol: 1e-5 });
    }
  });

  it('rejects arrays that do not hold n samples', async () => {
    await initBackend(backend);
    const model = buildModelFromLayers([{ type: 'dense', inputShape: [4], units: 2, activation: 'softmax' }]);
    expect(() => evaluate(model, new Float32Array(8), new Float32Array(3), 2, 'sparseCategoricalCrossentropy')).toThrow(
      'y: expected 2 samples × one class index = 2 float32 values for sparseCategoricalCrossentropy, got 3',
    );
    expect(() => predict(model, new Float32Array(9), 2)).toThrow('x: expected 2 samples × 4 values ([4]) = 8 float32 values, got 9');
    expect(() => predict(model, new Float32Array(8), 2, 0)).toThrow('batchSize: expected a positive integer, got 0');
  });
});
