/**
 * A small tfjs convolutional network trained by two dtrain workers with
 * `fitDataset` over a `tf.data` dataset of `{ xs, ys }` batches — the same
 * call as `model.fitDataset`, plus `workers`.
 *
 *   npx tsx examples/cnn-fit-dataset.ts
 *
 * The dataset is a generator over 3,000 of the shipped MNIST images, 100 per
 * batch (any source works: files, a database, a network stream); dtrain reads
 * it once, then the workers train on it. Evaluated on 500 held-back images.
 */
import * as tf from '@tensorflow/tfjs';
import { fitDataset } from 'dtrain';
import { accuracy, loadMnist } from './mnist.js';

const { train, test } = await loadMnist({ train: 3000, test: 500, layout: 'image' });

const BATCH = 100;
function* batches(): Generator<{ xs: tf.Tensor; ys: tf.Tensor }> {
  for (let start = 0; start < train.y.shape[0]; start += BATCH) {
    const size = Math.min(BATCH, train.y.shape[0] - start);
    yield { xs: train.x.slice(start, size), ys: train.y.slice(start, size) };
  }
}
const dataset = tf.data.generator(batches);

const model = tf.sequential({
  layers: [
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: 'heNormal' }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: 'heNormal' }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});
model.compile({ optimizer: tf.train.adam(0.003), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

const history = await fitDataset(model, dataset, {
  epochs: 3,
  batchSize: 32, // per worker
  workers: 2,
  backend: 'wasm',
  seed: 7,
  verbose: 0,
});

console.log(`history: ${JSON.stringify(history.history)}`);
console.log(`test accuracy: ${accuracy(model, test).toFixed(4)} (${test.y.shape[0]} held-back images)`);
