/**
 * Child process of the data-plane benchmark's large-model section: plain
 * single-process tfjs on the job's own model, data, optimizer and batch size
 * (`model.trainOnBatch`, no dtrain), timing `WARMUP` untimed then `STEPS`
 * timed steps. OPTIMIZER is `job` (the job's own, Adam or SGD) or `sgd` (plain
 * SGD at the job's learning rate: the cheapest update tfjs has, for when the
 * job's optimizer does not fit in one process). Prints one JSON line
 * ({ backend, optimizer, warmupSeconds, stepSeconds[] }) on stdout; its peak
 * RSS is read by the parent.
 *
 * Usage: node single-process-step.js JOB.yaml BACKEND OPTIMIZER WARMUP STEPS
 */
import { heldTraining, loadJobConfig, loadJobData } from '@dtrain/coordinator';
import { buildModel, initBackend, tf, type BackendRequest } from '@dtrain/engine';

const [configPath, backend, which, warmupArg, stepsArg] = process.argv.slice(2);
const warmup = Number(warmupArg);
const steps = Number(stepsArg);
if (configPath === undefined || backend === undefined || (which !== 'job' && which !== 'sgd') || !Number.isInteger(warmup) || !Number.isInteger(steps)) {
  process.stderr.write('usage: single-process-step JOB.yaml BACKEND job|sgd WARMUP STEPS\n');
  process.exit(2);
}
const info = await initBackend(backend as BackendRequest);
const config = await loadJobConfig(configPath);
const data = await loadJobData(config);
const { batchSize } = config.training;
const features = data.train.featureShape.reduce((a, b) => a * b, 1);
const model = await buildModel(config.model, { seed: config.training.seed });
const { optimizer } = config.training;
const name = which === 'sgd' ? 'sgd' : optimizer.name;
if (name !== 'adam' && name !== 'sgd') throw new Error(`single-process-step: only adam and sgd jobs, got ${optimizer.name}`);
model.compile({ optimizer: name === 'adam' ? tf.train.adam(optimizer.learningRate) : tf.train.sgd(optimizer.learningRate), loss: config.training.loss });

const stepSeconds: number[] = [];
let warmupSeconds = 0;
const batches = Math.floor(data.train.numSamples / batchSize);
for (let i = 0; i < warmup + steps; i += 1) {
  const at = (i % batches) * batchSize;
  const xs = tf.tensor2d(heldTraining(data).features.subarray(at * features, (at + batchSize) * features), [batchSize, features]);
  const ys = tf.tensor2d(heldTraining(data).labels.subarray(at, at + batchSize), [batchSize, 1]);
  const t0 = performance.now();
  // trainOnBatch reads the loss back, so the step's kernels have finished when it resolves.
  await model.trainOnBatch(xs, ys);
  const s = (performance.now() - t0) / 1000;
  tf.dispose([xs, ys]);
  if (i < warmup) warmupSeconds += s;
  else stepSeconds.push(s);
}
process.stdout.write(`${JSON.stringify({ backend: info.name, optimizer: name, warmupSeconds, stepSeconds })}\n`);
