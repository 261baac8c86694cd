import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { buildModelFromLayers } from './build-model.js';
import { EngineError } from './engine-error.js';
import { availableBackends, initBackend } from './init-backend.js';
import type { LayerSpec, LossName } from './model-spec.js';
import { expectClose, randomArray, seededRandom } from './testing/numeric.js';
import { createTrainer } from './trainer.js';
import { backendsToTest } from './testing/backends.js';
import { readWeights, weightLayout, writeWeights, type WeightEntry } from './weight-layout.js';

const backends = await availableBackends();

/** Labels for a loss over `units` outputs, and their tensor form for model.fit. */
function labels(loss: LossName, n: number, units: number, random: () => number): { flat: Float32Array; shape: number[] } {
  switch (loss) {
    case 'sparseCategoricalCrossentropy':
      return { flat: Float32Array.from({ length: n }, () => Math.floor(random() * units)), shape: [n, 1] };
    case 'categoricalCrossentropy': {
      const flat = new Float32Array(n * units);
      for (let i = 0; i < n; i++) flat[i * units + Math.floor(random() * units)] = 1;
      return { flat, shape: [n, units] };
    }
    case 'binaryCrossentropy':
      return { flat: Float32Array.from({ length: n * units }, () => (random() < 0.5 ? 0 : 1)), shape: [n, units] };
    case 'meanSquaredError':
      return { flat: Float32Array.from({ length: n * units }, () => random() * 2 - 1), shape: [n, units] };
  }
}

function specFor(loss: LossName): LayerSpec[] {
  const head: LayerSpec =
    loss === 'binaryCrossentropy'
      ? { type: 'dense', units: 2, activation: 'sigmoid' }
      : loss === 'meanSquaredError'
        ? { type: 'dense', units: 2 }
        : { type: 'dense', units: 3, activation: 'softmax', kernelRegularizer: { l1: 0.002 } };
  return [
    { type: 'dense', inputShape: [5], units: 6, activation: 'tanh', kernelRegularizer: { l2: 0.05 } },
    { type: 'batchNormalization', momentum: 0.8 },
    { type: 'dense', units: 4, activation: 'elu', kernelRegularizer: { l1: 0.01, l2: 0.01 } },
    head,
  ];
}

describe.each(backends)('Trainer on %s', (backend) => {
  const losses: LossName[] = ['categoricalCrossentropy', 'sparseCategoricalCrossentropy', 'binaryCrossentropy', 'meanSquaredError'];

  it.each(losses)('%s: loss, gradients and new batch-norm statistics are what model.fit computes and applies', async (loss) => {
    await initBackend(backend);
    const spec = specFor(loss);
    const model = buildModelFromLayers(spec, { seed: 21 });
    const twin = buildModelFromLayers(spec, { seed: 21 });
    const layout = weightLayout(model);
    const random = seededRandom(4);
    const n = 12;
    const x = Float32Array.from({ length: n * 5 }, () => random() * 2 - 1);
    const units = loss === 'sparseCategoricalCrossentropy' || loss === 'categoricalCrossentropy' ? 3 : 2;
    const y = labels(loss, n, units, random);

    const { loss: stepLoss, gradients, accuracy } = createTrainer(model, { loss }).step(x, y.flat, n);

    // model.fit with plain SGD at learning rate 1 over the same batch: w' = w − g.
    const before = readWeights(twin, layout);
    const classifier = loss !== 'meanSquaredError';
    twin.compile({ optimizer: tf.train.sgd(1), loss, metrics: classifier ? ['accuracy'] : [] });
    const xs = tf.tensor2d(x, [n, 5]);
    const ys = tf.tensor(y.flat, y.shape);
    const history = await twin.fit(xs, ys, { batchSize: n, epochs: 1, shuffle: false, verbose: 0 });
    tf.dispose([xs, ys]);
    const after = readWeights(twin, layout);

    expectClose([stepLoss], [history.history['loss']?.[0] as number], { rtol: 1e-5 });
    // The batch's accuracy from the same forward pass, as fit's `acc`.
    if (classifier) expectClose([accuracy as number], [history.history['acc']?.[0] as number], { rtol: 1e-6 });
    else expect(accuracy).toBeUndefined();
    const expected = new Float32Array(layout.totalSize);
    for (const entry of layout.entries) {
      for (let i = entry.offset; i < entry.offset + entry.size; i++) {
        expected[i] = entry.trainable ? (before[i] as number) - (after[i] as number) : (after[i] as number);
      }
    }
    expectClose(gradients, expected, { rtol: 1e-3, atolScale: 1e-4 });
    const movingMean = layout.entries.find((entry) => entry.name.endsWith('moving_mean'));
    expect(movingMean?.trainable).toBe(false);
  });

  it('a step leaves every weight of the model, batch-norm statistics included, as it was', async () => {
    await initBackend(backend);
    const model = buildModelFromLayers(specFor('categoricalCrossentropy'), { seed: 1 });
    const layout = weightLayout(model);
    const trainer = createTrainer(model, { loss: 'categoricalCrossentropy', layout });
    const before = readWeights(model, layout);
    const { gradients } = trainer.step(randomArray(8 * 5), labels('categoricalCrossentropy', 8, 3, Math.random).flat, 8);
    expect(readWeights(model, layout)).toEqual(before);
    const stats = layout.entries.filter((entry) => !entry.trainable);
    expect(stats.map((entry) => entry.name)).toEqual(['batchNormalization_1/moving_mean', 'batchNormalization_1/moving_variance']);
    for (const entry of stats) {
      expect(gradients.subarray(entry.offset, entry.offset + entry.size)).not.toEqual(before.subarray(entry.offset, entry.offset + entry.size));
    }
  });

  it("batch norm's new moving mean is momentum·old + (1 − momentum)·batch mean", async () => {
    await initBackend(backend);
    const model = buildModelFromLayers([
      { type: 'batchNormalization', inputShape: [3], momentum: 0.75 },
      { type: 'dense', units: 2 },
    ]);
    const layout = weightLayout(model);
    const n = 10;
    const x = randomArray(n * 3);
    const { gradients } = createTrainer(model, { loss: 'meanSquaredError' }).step(x, randomArray(n * 2), n);
    const mean = layout.entries.find((entry) => entry.name === 'batchNormalization_0/moving_mean');
    const expected = [0, 1, 2].map((feature) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += x[i * 3 + feature] as number;
      return 0.75 * 0 + 0.25 * (sum / n);
    });
    expectClose(gradients.subarray(mean?.offset ?? 0, (mean?.offset ?? 0) + 3), expected, { rtol: 1e-5 });
  });

  it('the loss includes the L1/L2 penalties of the weights', async () => {
    await initBackend(backend);
    const layers = (regularized: boolean): LayerSpec[] => [
      { type: 'dense', inputShape: [4], units: 3, ...(regularized ? { kernelRegularizer: { l1: 0.1, l2: 0.2 } } : {}) },
    ];
    const plain = buildModelFromLayers(layers(false), { seed: 2 });
    const penalised = buildModelFromLayers(layers(true), { seed: 2 });
    const layout = weightLayout(plain);
    const kernel = readWeights(plain, layout).subarray(0, 12);
    let penalty = 0;
    for (const w of kernel) penalty += 0.1 * Math.abs(w) + 0.2 * w * w;
    const x = randomArray(6 * 4);
    const y = randomArray(6 * 3);
    const a = createTrainer(plain, { loss: 'meanSquaredError' }).step(x, y, 6);
    const b = createTrainer(penalised, { loss: 'meanSquaredError' }).step(x, y, 6);
    expectClose([b.loss - a.loss], [penalty], { rtol: 1e-4 });
    // d/dw (0.1|w| + 0.2w²) = 0.1·sign(w) + 0.4w on the kernel; nothing on the bias.
    const extra = Array.from(kernel, (w) => 0.1 * Math.sign(w) + 0.4 * w);
    expectClose(Array.from(b.gradients.subarray(0, 12), (g, i) => g - (a.gradients[i] as number)), extra, { rtol: 1e-3, atolScale: 1e-4 });
    expectClose(b.gradients.subarray(12), a.gradients.subarray(12), { rtol: 1e-5 });
  });

  it('dropout is active in a step (two steps on one batch differ) but not in inference', async () => {
    await initBackend(backend);
    const model = buildModelFromLayers([
      { type: 'dense', inputShape: [8], units: 32, activation: 'relu' },
      { type: 'dropout', rate: 0.5 },
      { type: 'dense', units: 2 },
    ]);
    const trainer = createTrainer(model, { loss: 'meanSquaredError' });
    const x = randomArray(16 * 8);
    const y = randomArray(16 * 2);
    const first = trainer.step(x, y, 16);
    const second = trainer.step(x, y, 16);
    expect(first.gradients).not.toEqual(second.gradients);
    const xs = tf.tensor2d(x, [16, 8]);
    const [p1, p2] = [model.predict(xs) as tf.Tensor, model.predict(xs) as tf.Tensor];
    expect(p1.dataSync()).toEqual(p2.dataSync());
    tf.dispose([xs, p1, p2]);
  });

  it('rejects batches that do not fit the model with DTRAIN_ENGINE_SHAPE', async () => {
    await initBackend(backend);
    const model = buildModelFromLayers([{ type: 'dense', inputShape: [2, 3], units: 4 }, { type: 'flatten' }, { type: 'dense', units: 5, activation: 'softmax' }]);
    const trainer = createTrainer(model, { loss: 'sparseCategoricalCrossentropy' });
    const attempt = (run: () => unknown): EngineError => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(EngineError);
        return error as EngineError;
      }
      return expect.fail('expected an EngineError');
    };
    expect(attempt(() => trainer.step(new Float32Array(17), new Float32Array(3), 3))).toMatchObject({
      code: 'DTRAIN_ENGINE_SHAPE',
      message: 'x: expected 3 samples × 6 values ([2, 3]) = 18 float32 values, got 17',
    });
    expect(attempt(() => trainer.step(new Float32Array(18), new Float32Array(15), 3))).toMatchObject({
      code: 'DTRAIN_ENGINE_SHAPE',
      message: 'y: expected 3 samples × one class index = 3 float32 values for sparseCategoricalCrossentropy, got 15',
    });
    expect(attempt(() => trainer.step(new Float32Array(0), new Float32Array(0), 0))).toMatchObject({
      code: 'DTRAIN_ENGINE_SHAPE',
      message: 'step: expected a positive integer sample count, got 0',
    });
    const other = buildModelFromLayers([{ type: 'dense', inputShape: [2, 6], units: 5 }, { type: 'flatten' }, { type: 'dense', units: 5 }]);
    expect(attempt(() => createTrainer(model, { loss: 'meanSquaredError', layout: weightLayout(other) }))).toMatchObject({
      code: 'DTRAIN_ENGINE_SHAPE',
      message: "weight layout entry 0 is dense_0/kernel [6,5] but the model's weight 0 is dense_0/kernel [3,4]",
    });
    expect(attempt(() => createTrainer(model, { loss: 'hinge' as LossName }))).toMatchObject({ code: 'DTRAIN_ENGINE_MODEL_SPEC' });
  });
});

describe('no tensor leaks', () => {
  it.each(backends)('1,000 steps (plus evaluate, predict, read and write) leave tf.memory() unchanged on %s', async (backend) => {
    await initBackend(backend);
    const model = buildModelFromLayers(
      [
        { type: 'conv2d', inputShape: [6, 6, 1], filters: 2, kernelSize: 3, padding: 'same', activation: 'relu', kernelRegularizer: { l2: 0.01 } },
        { type: 'batchNormalization' },
        { type: 'maxPooling2d', poolSize: 2, padding: 'same' },
        { type: 'flatten' },
        { type: 'dropout', rate: 0.2 },
        { type: 'dense', units: 3, activation: 'softmax' },
      ],
      { seed: 8 },
    );
    const layout = weightLayout(model);
    const trainer = createTrainer(model, { loss: 'sparseCategoricalCrossentropy', layout });
    const x = randomArray(4 * 36);
    const y = new Float32Array([0, 1, 2, 1]);
    trainer.step(x, y, 4); // first call may build tfjs-internal caches
    const { evaluate, predict } = await import('./inference.js');
    const { writeWeights } = await import('./weight-layout.js');
    const before = tf.memory();
    for (let i = 0; i < 1000; i++) trainer.step(x, y, 4);
    evaluate(model, x, y, 4, 'sparseCategoricalCrossentropy', 3);
    predict(model, x, 4, 3);
    writeWeights(model, layout, readWeights(model, layout));
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
  });
});

const contractBackends = await backendsToTest('the Trainer.step-into-out contract');

describe.each(contractBackends)('Trainer.step into a caller array on $name', ({ name, available }) => {
  const spec = specFor('categoricalCrossentropy'); // dense + batch norm, no dropout: steps are reproducible
  const n = 8;
  const batch = (): { x: Float32Array; y: Float32Array } => ({ x: randomArray(n * 5), y: labels('categoricalCrossentropy', n, 3, Math.random).flat });

  it.skipIf(!available)('equals a step without out bit for bit, returns out, and leaves the model (batch-norm statistics included) as it was', async () => {
    await initBackend(name);
    const model = buildModelFromLayers(spec);
    const layout = weightLayout(model);
    const trainer = createTrainer(model, { loss: 'categoricalCrossentropy', layout });
    const { x, y } = batch();
    const before = readWeights(model, layout);
    const fresh = trainer.step(x, y, n);
    const out = new Float32Array(layout.totalSize).fill(Number.NaN);
    const into = trainer.step(x, y, n, out);
    expect(into.gradients).toBe(out);
    expect(into.loss).toBe(fresh.loss);
    expect(out).toEqual(fresh.gradients);
    expect(readWeights(model, layout)).toEqual(before);
    // The non-trainable entries are the new moving statistics, not the old ones.
    const mean = layout.entries.find((entry) => entry.name.endsWith('moving_mean')) as WeightEntry;
    expect(out.subarray(mean.offset, mean.offset + mean.size)).not.toEqual(before.subarray(mean.offset, mean.offset + mean.size));
  });

  it.skipIf(!available)('in a worker loop (writeWeights, then step into out) equals a model given the same weights as new tensors', async () => {
    await initBackend(name);
    const model = buildModelFromLayers(spec);
    const twin = buildModelFromLayers(spec);
    const layout = weightLayout(model);
    const trainer = createTrainer(model, { loss: 'categoricalCrossentropy', layout });
    const reference = createTrainer(twin, { loss: 'categoricalCrossentropy', layout });
    const out = new Float32Array(layout.totalSize);
    for (let i = 0; i < 4; i++) {
      const flat = randomArray(layout.totalSize);
      for (const entry of layout.entries) {
        // Variances must stay positive.
        if (entry.name.endsWith('moving_variance')) flat.subarray(entry.offset, entry.offset + entry.size).forEach((v, j, a) => (a[j] = Math.abs(v) + 0.5));
      }
      writeWeights(model, layout, flat);
      twin.weights.forEach((weight, index) => {
        const entry = layout.entries[index] as WeightEntry;
        const value = tf.tensor(flat.slice(entry.offset, entry.offset + entry.size), entry.shape as number[]);
        weight.write(value);
        value.dispose();
      });
      const { x, y } = batch();
      const expected = reference.step(x, y, n);
      expect(trainer.step(x, y, n, out).loss).toBe(expected.loss);
      expect(out).toEqual(expected.gradients);
    }
  });

  it.skipIf(!available)('300 iterations of writeWeights + step into out leave tf.memory() unchanged', async () => {
    await initBackend(name);
    const model = buildModelFromLayers(spec);
    const layout = weightLayout(model);
    const trainer = createTrainer(model, { loss: 'categoricalCrossentropy', layout });
    const { x, y } = batch();
    const weights = readWeights(model, layout);
    const out = new Float32Array(layout.totalSize);
    writeWeights(model, layout, weights);
    trainer.step(x, y, n, out);
    const before = tf.memory();
    for (let i = 0; i < 300; i++) {
      writeWeights(model, layout, weights);
      trainer.step(x, y, n, out);
    }
    const after = tf.memory();
    expect([after.numTensors, after.numBytes, after.numDataBuffers]).toEqual([before.numTensors, before.numBytes, before.numDataBuffers]);
  });

  it.skipIf(!available)('rejects an out of the wrong length with DTRAIN_ENGINE_SHAPE and leaves it untouched', async () => {
    await initBackend(name);
    const model = buildModelFromLayers(spec);
    const trainer = createTrainer(model, { loss: 'categoricalCrossentropy' });
    const out = new Float32Array(trainer.layout.totalSize - 1).fill(3);
    const { x, y } = batch();
    let caught: unknown;
    try {
      trainer.step(x, y, n, out);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EngineError);
    expect(caught).toMatchObject({
      code: 'DTRAIN_ENGINE_SHAPE',
      message: `step: out: expected ${trainer.layout.totalSize} float32 values (the weight layout's totalSize), got ${out.length}`,
    });
    expect(out.every((value) => value === 3)).toBe(true);
  });
});

// Keep tfl referenced: model.fit needs the layers runtime loaded (initBackend does it too).
void tfl.version_layers;
