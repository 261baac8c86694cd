/**
 * `fit` serving workers that run elsewhere: the coordinator listens on a
 * port and waits for two workers to join, wherever they run. To stay
 * self-contained, this script starts those two workers itself with
 * `startWorker`, as a worker machine would (`dtrain worker --coordinator …`).
 *
 *   npx tsx examples/serve-remote-workers.ts
 *
 * On Kubernetes the workers are a Deployment instead of the two `startWorker`
 * calls below: serve on every interface (`host: '0.0.0.0'`) behind a Service,
 * put the token in a Secret, and run in each pod
 *
 *   dtrain worker --coordinator ws://trainer:7000 --token-file /var/run/dtrain/token --linger
 *
 * (`dtrain k8s render` writes such manifests). Scale the Deployment up or down
 * while `fit` runs: workers join and leave between steps.
 */
import { randomBytes } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { fit, startWorker, type WorkerHandle } from 'dtrain';
import { accuracy, loadMnist } from './mnist.js';

const { train, test } = await loadMnist({ train: 3000, test: 1000, layout: 'flat' });
const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [784], units: 64, activation: 'relu', kernelInitializer: 'heNormal' }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ],
});
model.compile({ optimizer: tf.train.adam(0.003), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

const token = randomBytes(18).toString('base64url');

// The "remote" workers, started once the coordinator listens: they train until the job ends.
const starting: Promise<WorkerHandle>[] = [];
const history = await fit(model, train.x, train.y, {
  epochs: 3,
  batchSize: 32,
  validationSplit: 0.1,
  workers: {
    listen: {
      port: 0, // a free port; a fixed one (e.g. 7000) is what remote workers would be told
      host: '127.0.0.1',
      token,
      onListening: (url) => {
        console.log(`coordinator listening on ${url}; starting 2 workers`);
        for (let i = 0; i < 2; i++) starting.push(startWorker({ coordinator: url, token, backend: 'wasm', log: 'quiet' }));
      },
    },
    minWorkers: 2, // wait for both before the first step
  },
  backend: 'wasm',
  seed: 3,
  verbose: 0,
});
const workers = await Promise.all(starting);
const exits = await Promise.all(workers.map((worker) => worker.done));

console.log(`workers exited: ${exits.map((exit) => `${exit.code} (${exit.reason})`).join(', ')}`);
console.log(`history: ${JSON.stringify(history.history)}`);
console.log(`test accuracy: ${accuracy(model, test).toFixed(4)} (${test.y.shape[0]} held-back images)`);
