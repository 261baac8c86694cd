/**
 * Training-step throughput of the engine on the backends this machine has:
 * a worker's `Trainer.step` (batch in, flat loss + gradients out), in
 * samples per second. Run: `pnpm --filter @dtrain/engine bench`.
 *
 * MLP 784-256-128-10, batch 128: wasm with and without the transposed-matmul
 * wrapper, and cpu. CNN (28×28×1, conv 16 → pool → conv 32 → pool → dense
 * 10), batch 64: wasm and cpu, their ratio, and what the engine's
 * Conv2DBackpropInput and MaxPoolGrad replacements do against the wasm
 * backend's own (slow, respectively wrong) kernels.
 */

import {
  buildModelFromLayers,
  createTrainer,
  initBackend,
  registerWasmKernels,
  tf,
  type BackendRequest,
  type LayerSpec,
} from '../src/index.js';
import { setWasmFastConv2dBackpropInput } from '../src/wasm-conv2d-backprop-input.js';
import { setWasmMaxPoolGradFix } from '../src/wasm-max-pool-grad.js';

interface Workload {
  readonly name: string;
  readonly layers: readonly LayerSpec[];
  readonly batchSize: number;
  readonly inputSize: number;
  readonly classes: number;
}

const mlp: Workload = {
  name: 'MLP 784-256-128-10, batch 128',
  layers: [
    { type: 'dense', inputShape: [784], units: 256, activation: 'relu' },
    { type: 'dense', units: 128, activation: 'relu' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
  batchSize: 128,
  inputSize: 784,
  classes: 10,
};

const cnn: Workload = {
  name: 'CNN 28x28x1 conv16-pool-conv32-pool-dense10, batch 64',
  layers: [
    { type: 'conv2d', inputShape: [28, 28, 1], filters: 16, kernelSize: 3, activation: 'relu' },
    { type: 'maxPooling2d', poolSize: 2 },
    { type: 'conv2d', filters: 32, kernelSize: 3, activation: 'relu' },
    { type: 'maxPooling2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
  batchSize: 64,
  inputSize: 784,
  classes: 10,
};

/** Steps per second × batch size, timed over at least `seconds` after warm-up. */
function samplesPerSecond(workload: Workload, seconds: number): { rate: number; msPerStep: number; steps: number } {
  const model = buildModelFromLayers(workload.layers, { seed: 1 });
  const trainer = createTrainer(model, { loss: 'sparseCategoricalCrossentropy' });
  const x = Float32Array.from({ length: workload.batchSize * workload.inputSize }, () => Math.random());
  const y = Float32Array.from({ length: workload.batchSize }, () => Math.floor(Math.random() * workload.classes));
  for (let i = 0; i < 2; i++) trainer.step(x, y, workload.batchSize);
  let steps = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000 || steps < 3) {
    trainer.step(x, y, workload.batchSize);
    steps++;
  }
  const elapsed = (performance.now() - start) / 1000;
  model.dispose();
  return { rate: (steps * workload.batchSize) / elapsed, msPerStep: (elapsed * 1000) / steps, steps };
}

async function measure(label: string, backend: BackendRequest, workload: Workload, seconds: number, setup?: () => void): Promise<number> {
  await initBackend(backend);
  setup?.();
  const { rate, msPerStep, steps } = samplesPerSecond(workload, seconds);
  console.log(`${label.padEnd(52)} ${rate.toFixed(0).padStart(7)} samples/s  (${msPerStep.toFixed(1)} ms/step, ${steps} steps)`);
  return rate;
}

console.log(`engine bench: node ${process.version}, tfjs-core ${tf.version_core}`);
console.log(`\n${mlp.name}`);
const mlpWrapped = await measure('  wasm, transposed-matmul wrapper (default)', 'wasm', mlp, 4, () => registerWasmKernels());
const mlpPlain = await measure('  wasm, original BatchMatMul', 'wasm', mlp, 4, () => registerWasmKernels({ transposedMatMul: false }));
const mlpCpu = await measure('  cpu', 'cpu', mlp, 4);
console.log(`  wrapper speed-up on wasm: ${(mlpWrapped / mlpPlain).toFixed(2)}x; wasm / cpu: ${(mlpWrapped / mlpCpu).toFixed(1)}x`);

console.log(`\n${cnn.name}`);
const cnnWasm = await measure('  wasm (engine kernels, default)', 'wasm', cnn, 6, () => registerWasmKernels());
const cnnSlowInput = await measure('  wasm, original Conv2DBackpropInput', 'wasm', cnn, 6, () => setWasmFastConv2dBackpropInput(false));
const cnnWrongPool = await measure('  wasm, original MaxPoolGrad (wrong for max <= 0)', 'wasm', cnn, 6, () => {
  setWasmFastConv2dBackpropInput(true);
  setWasmMaxPoolGradFix(false);
});
await initBackend('wasm');
registerWasmKernels();
const cnnCpu = await measure('  cpu', 'cpu', cnn, 6);
console.log(`  wasm / cpu: ${(cnnWasm / cnnCpu).toFixed(1)}x`);
console.log(`  Conv2DBackpropInput replacement speed-up: ${(cnnWasm / cnnSlowInput).toFixed(2)}x; MaxPoolGrad replacement vs original: ${(cnnWasm / cnnWrongPool).toFixed(2)}x`);
