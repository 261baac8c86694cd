/**
 * A tfjs multilayer perceptron on MNIST, trained data-parallel by two dtrain
 * workers with `fit` — the same call as `model.fit`, plus `workers`.
 *
 *   npx tsx examples/mnist-mlp-fit.ts
 *
 * Trains on 4,000 of the shipped 10,000 images (10% of them for validation)
 * for 3 epochs, then evaluates on 1,000 held-back images here in this process.
 */
import * as tf from '@tensorflow/tfjs';
import { fit } from 'dtrain';
import { accuracy, loadMnist } from './mnist.js';

const { train, test } = await loadMnist({ train: 4000, test: 1000, layout: 'flat' });

const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu', kernelInitializer: 'heNormal' }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});
model.compile({ optimizer: tf.train.adam(0.002), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

const history = await fit(model, train.x, train.y, {
  epochs: 3,
  batchSize: 32, // per worker: each step averages 2 × 32 samples
  validationSplit: 0.1,
  workers: 2,
  backend: 'wasm',
  seed: 1,
  verbose: 0,
  callbacks: {
    onEpochEnd: (epoch, logs) => console.log(`epoch ${epoch + 1}: loss ${logs?.['loss']?.toFixed(4)} val_acc ${logs?.['val_acc']?.toFixed(4)}`),
  },
});

console.log(`history: ${JSON.stringify(history.history)}`);
// The model now holds the trained weights: evaluate it like any tfjs model.
console.log(`test accuracy: ${accuracy(model, test).toFixed(4)} (${test.y.shape[0]} held-back images)`);
