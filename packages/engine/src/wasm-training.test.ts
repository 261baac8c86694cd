/**
 * Every layer type and activation of the model spec trains on wasm: the
 * gradients of a step equal the cpu backend's for the same weights and batch
 * (rtol 1e-3: float32 through several layers, summed in a different order),
 * and a few SGD steps lower the loss. This is what found the kernels
 * register-wasm-kernels.ts adds.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { buildModelFromLayers } from './build-model.js';
import { initBackend } from './init-backend.js';
import type { LayerSpec, LossName } from './model-spec.js';
import { expectClose, seededRandom } from './testing/numeric.js';
import { applySgd } from './testing/sgd.js';
import { createTrainer } from './trainer.js';
import { readWeights, writeWeights } from './weight-layout.js';

interface Case {
  readonly name: string;
  readonly layers: readonly LayerSpec[];
  readonly loss: LossName;
  /** Makes one sample's label from a random source. */
  readonly classes: number;
  /** Dropout makes two runs differ, so only training is checked. */
  readonly stochastic?: boolean;
}

const cases: Case[] = [
  {
    name: 'dense with every activation, and an activation layer',
    layers: [
      { type: 'dense', inputShape: [6], units: 8, activation: 'relu', kernelInitializer: 'heNormal' },
      { type: 'dense', units: 8, activation: 'sigmoid', kernelRegularizer: { l1: 0.001 } },
      { type: 'dense', units: 8, activation: 'tanh', kernelInitializer: 'glorotNormal' },
      { type: 'dense', units: 8, activation: 'elu', kernelInitializer: 'leCunUniform' },
      { type: 'dense', units: 8, activation: 'selu', kernelInitializer: 'leCunNormal' },
      { type: 'dense', units: 8, activation: 'softplus', kernelInitializer: 'heUniform' },
      { type: 'dense', units: 8, activation: 'linear', useBias: false },
      { type: 'activation', activation: 'tanh' },
      { type: 'dense', units: 3, activation: 'softmax', kernelRegularizer: { l2: 0.01 } },
    ],
    loss: 'categoricalCrossentropy',
    classes: 3,
  },
  {
    name: 'conv2d (valid and strided same) + maxPooling2d + flatten + L2',
    layers: [
      { type: 'conv2d', inputShape: [10, 10, 2], filters: 4, kernelSize: 3, activation: 'relu', kernelRegularizer: { l2: 0.001 } },
      { type: 'maxPooling2d', poolSize: 2 },
      { type: 'conv2d', filters: 5, kernelSize: [2, 3], strides: 2, padding: 'same', activation: 'tanh' },
      { type: 'flatten' },
      { type: 'dense', units: 4, activation: 'softmax' },
    ],
    loss: 'sparseCategoricalCrossentropy',
    classes: 4,
  },
  {
    name: 'depthwiseConv2d + batchNormalization + maxPooling2d (same)',
    layers: [
      { type: 'depthwiseConv2d', inputShape: [9, 9, 3], kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same' },
      { type: 'batchNormalization', momentum: 0.9 },
      { type: 'activation', activation: 'relu' },
      { type: 'depthwiseConv2d', kernelSize: 2, activation: 'elu' },
      { type: 'maxPooling2d', poolSize: 2, strides: 1, padding: 'same' },
      { type: 'flatten' },
      { type: 'dense', units: 3, activation: 'softmax' },
    ],
    loss: 'categoricalCrossentropy',
    classes: 3,
  },
  {
    name: 'embedding + flatten + dense (binary)',
    layers: [
      { type: 'embedding', inputShape: [5], inputDim: 12, outputDim: 4 },
      { type: 'flatten' },
      { type: 'dense', units: 1, activation: 'sigmoid' },
    ],
    loss: 'binaryCrossentropy',
    classes: 2,
  },
  {
    name: 'dense + batchNormalization + reshape + conv2d (regression)',
    layers: [
      { type: 'dense', inputShape: [5], units: 16 },
      { type: 'batchNormalization' },
      { type: 'reshape', targetShape: [4, 4, 1] },
      { type: 'conv2d', filters: 2, kernelSize: 2, activation: 'sigmoid' },
      { type: 'flatten' },
      { type: 'dense', units: 2 },
    ],
    loss: 'meanSquaredError',
    classes: 0,
  },
  {
    name: 'dropout',
    layers: [
      { type: 'dense', inputShape: [6], units: 16, activation: 'relu' },
      { type: 'dropout', rate: 0.25 },
      { type: 'dense', units: 3, activation: 'softmax' },
    ],
    loss: 'categoricalCrossentropy',
    classes: 3,
    stochastic: true,
  },
];

/** A fixed random batch for a case: inputs in the right range, labels for the loss. */
function batchFor(testCase: Case, inputSize: number, outputSize: number, n: number): { x: Float32Array; y: Float32Array } {
  const random = seededRandom(7);
  const embedding = testCase.layers[0]?.type === 'embedding' ? testCase.layers[0].inputDim : 0;
  const x = Float32Array.from({ length: n * inputSize }, () => (embedding > 0 ? Math.floor(random() * embedding) : random() * 2 - 1));
  let y: Float32Array;
  if (testCase.loss === 'sparseCategoricalCrossentropy') {
    y = Float32Array.from({ length: n }, () => Math.floor(random() * testCase.classes));
  } else if (testCase.loss === 'categoricalCrossentropy') {
    y = new Float32Array(n * outputSize);
    for (let i = 0; i < n; i++) y[i * outputSize + Math.floor(random() * outputSize)] = 1;
  } else if (testCase.loss === 'binaryCrossentropy') {
    y = Float32Array.from({ length: n * outputSize }, () => (random() < 0.5 ? 0 : 1));
  } else {
    y = Float32Array.from({ length: n * outputSize }, () => random() * 2 - 1);
  }
  return { x, y };
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('training every layer type on wasm', () => {
  for (const testCase of cases) {
    describe(testCase.name, () => {
      function setup(): { trainer: ReturnType<typeof createTrainer>; x: Float32Array; y: Float32Array; n: number } {
        const model = buildModelFromLayers(testCase.layers, { seed: 11 });
        const trainer = createTrainer(model, { loss: testCase.loss });
        const n = 16;
        const inputSize = (model.inputs[0]?.shape ?? []).slice(1).reduce((a: number, b) => a * (b ?? 1), 1);
        const outputSize = (model.outputs[0]?.shape ?? []).slice(1).reduce((a: number, b) => a * (b ?? 1), 1);
        return { trainer, n, ...batchFor(testCase, inputSize, outputSize, n) };
      }

      // Dropout draws different masks on each backend: only its training is checked.
      const compare = testCase.stochastic === true ? undefined : it;
      compare?.('step gives the cpu backend’s loss and gradients', async () => {
        const { trainer, x, y, n } = setup();
        await initBackend('wasm');
        const wasm = trainer.step(x, y, n);
        await initBackend('cpu');
        const cpu = trainer.step(x, y, n);
        await initBackend('wasm');
        expectClose([wasm.loss], [cpu.loss], { rtol: 1e-4 });
        expectClose(wasm.gradients, cpu.gradients, { rtol: 1e-3, atolScale: 1e-4 });
        expect(cpu.gradients.some((value) => value !== 0)).toBe(true);
      });

      it('SGD steps on wasm lower the loss', async () => {
        await initBackend('wasm');
        const { trainer, x, y, n } = setup();
        const initial = trainer.step(x, y, n).loss;
        const layout = trainer.layout;
        const start = readWeights(trainer.model, layout);
        let last = initial;
        for (let i = 0; i < 25; i++) {
          const { gradients, loss } = trainer.step(x, y, n);
          expect(Number.isFinite(loss)).toBe(true);
          applySgd(trainer.model, layout, gradients, 0.1);
          last = loss;
        }
        expect(last).toBeLessThan(initial * 0.9);
        writeWeights(trainer.model, layout, start);
      });
    });
  }
});

describe('a CNN on wasm', () => {
  /** 12×12 images of one bright horizontal (class 0) or vertical (class 1) bar, plus noise. */
  function bars(random: () => number, n: number): { x: Float32Array; y: Float32Array } {
    const x = new Float32Array(n * 144);
    const y = new Float32Array(n);
    for (let s = 0; s < n; s++) {
      const label = random() < 0.5 ? 0 : 1;
      const line = 1 + Math.floor(random() * 10);
      y[s] = label;
      for (let r = 0; r < 12; r++) {
        for (let c = 0; c < 12; c++) {
          const onBar = label === 0 ? r === line : c === line;
          x[s * 144 + r * 12 + c] = (onBar ? 1 : 0) + (random() - 0.5) * 0.3;
        }
      }
    }
    return { x, y };
  }

  it('conv2d + maxPooling2d + dense: the loss falls over 30 SGD steps', async () => {
    await initBackend('wasm');
    const model = buildModelFromLayers(
      [
        { type: 'conv2d', inputShape: [12, 12, 1], filters: 8, kernelSize: 3, activation: 'relu' },
        { type: 'maxPooling2d', poolSize: 2 },
        { type: 'conv2d', filters: 8, kernelSize: 3, activation: 'relu' },
        { type: 'maxPooling2d', poolSize: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 2, activation: 'softmax' },
      ],
      { seed: 3 },
    );
    const trainer = createTrainer(model, { loss: 'sparseCategoricalCrossentropy' });
    const random = seededRandom(5);
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      const { x, y } = bars(random, 32);
      const { loss, gradients } = trainer.step(x, y, 32);
      losses.push(loss);
      applySgd(model, trainer.layout, gradients, 0.3);
    }
    const first = losses.slice(0, 3).reduce((a, b) => a + b) / 3;
    const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(last).toBeLessThan(first * 0.6);
  });
});
