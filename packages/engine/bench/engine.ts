/**
 * Training-step throughput of the engine on the backends this machine has:
 * a worker's `Trainer.step` (batch in, flat loss + gradients out), in
 * samples per second. Run: `pnpm --filter @dtrain/engine bench`;
 * `-- --only worker-io` runs one section (mlp, cnn, worker-io), `-- --json
 * FILE` also writes every figure printed as JSON.
 *
 * MLP 784-256-128-10, batch 128: wasm with and without the transposed-matmul
 * wrapper, and cpu. CNN (28×28×1, conv 16 → pool → conv 32 → pool → dense
 * 10), batch 64: wasm and cpu, their ratio, and what the engine's
 * Conv2DBackpropInput and MaxPoolGrad replacements do against the wasm
 * backend's own (slow, respectively wrong) kernels.
 *
 * Worker I/O (MLP, batch 64, wasm): one worker iteration, the new weights
 * written into the model then a step, with the I/O as it was
 * (bench/legacy-worker-io.ts: per-weight slices and tensors, tf.concat +
 * dataSync + a new array) against `writeWeights` in place + `step` into a
 * reused array; short rounds alternate and the figures are medians over
 * rounds, so drift in machine load hits every variant alike. GC count and
 * pause per 1000 iterations show what the allocations cost beyond the copies.
 */

import { writeFileSync } from 'node:fs';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import {
  buildModelFromLayers,
  createTrainer,
  initBackend,
  readWeights,
  registerWasmKernels,
  tf,
  weightLayout,
  writeWeights,
  type BackendRequest,
  type LayerSpec,
} from '../src/index.js';
import { setWasmFastConv2dBackpropInput } from '../src/wasm-conv2d-backprop-input.js';
import { setWasmMaxPoolGradFix } from '../src/wasm-max-pool-grad.js';
import { legacyStep, legacyWriteWeights } from './legacy-worker-io.js';

const SECTIONS = ['mlp', 'cnn', 'worker-io'] as const;
type Section = (typeof SECTIONS)[number];
/** Worker I/O: alternating rounds per variant, and each round's length in seconds. */
const ROUNDS = 9;
const SECONDS_PER_ROUND = 0.5;
const { values: flags } = parseArgs({ options: { json: { type: 'string' }, only: { type: 'string' } } });
if (flags.only !== undefined && !(SECTIONS as readonly string[]).includes(flags.only)) {
  console.error(`--only: expected one of ${SECTIONS.join(', ')}, got ${JSON.stringify(flags.only)}`);
  process.exit(2);
}
const runs = (section: Section): boolean => flags.only === undefined || flags.only === section;
/** Every figure printed, by section and label, for --json. */
const figures: Record<string, Record<string, unknown>> = {};
function record(section: Section, label: string, value: unknown): void {
  (figures[section] ??= {})[label] = value;
}

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

async function measure(
  section: Section,
  label: string,
  backend: BackendRequest,
  workload: Workload,
  seconds: number,
  setup?: () => void,
): Promise<number> {
  await initBackend(backend);
  setup?.();
  const { rate, msPerStep, steps } = samplesPerSecond(workload, seconds);
  console.log(`${label.padEnd(52)} ${rate.toFixed(0).padStart(7)} samples/s  (${msPerStep.toFixed(1)} ms/step, ${steps} steps)`);
  record(section, label.trim(), { samplesPerSecond: rate, msPerStep, steps });
  return rate;
}

console.log(`engine bench: node ${process.version}, tfjs-core ${tf.version_core}`);

if (runs('mlp')) {
  console.log(`\n${mlp.name}`);
  const mlpWrapped = await measure('mlp', '  wasm, transposed-matmul wrapper (default)', 'wasm', mlp, 4, () => registerWasmKernels());
  const mlpPlain = await measure('mlp', '  wasm, original BatchMatMul', 'wasm', mlp, 4, () => registerWasmKernels({ transposedMatMul: false }));
  const mlpCpu = await measure('mlp', '  cpu', 'cpu', mlp, 4);
  console.log(`  wrapper speed-up on wasm: ${(mlpWrapped / mlpPlain).toFixed(2)}x; wasm / cpu: ${(mlpWrapped / mlpCpu).toFixed(1)}x`);
  record('mlp', 'wrapper speed-up on wasm', mlpWrapped / mlpPlain);
  record('mlp', 'wasm / cpu', mlpWrapped / mlpCpu);
}

if (runs('cnn')) {
  console.log(`\n${cnn.name}`);
  const cnnWasm = await measure('cnn', '  wasm (engine kernels, default)', 'wasm', cnn, 6, () => registerWasmKernels());
  const cnnSlowInput = await measure('cnn', '  wasm, original Conv2DBackpropInput', 'wasm', cnn, 6, () => setWasmFastConv2dBackpropInput(false));
  const cnnWrongPool = await measure('cnn', '  wasm, original MaxPoolGrad (wrong for max <= 0)', 'wasm', cnn, 6, () => {
    setWasmFastConv2dBackpropInput(true);
    setWasmMaxPoolGradFix(false);
  });
  await initBackend('wasm');
  registerWasmKernels();
  const cnnCpu = await measure('cnn', '  cpu', 'cpu', cnn, 6);
  console.log(`  wasm / cpu: ${(cnnWasm / cnnCpu).toFixed(1)}x`);
  console.log(`  Conv2DBackpropInput replacement speed-up: ${(cnnWasm / cnnSlowInput).toFixed(2)}x; MaxPoolGrad replacement vs original: ${(cnnWasm / cnnWrongPool).toFixed(2)}x`);
  record('cnn', 'wasm / cpu', cnnWasm / cnnCpu);
  record('cnn', 'Conv2DBackpropInput replacement speed-up', cnnWasm / cnnSlowInput);
  record('cnn', 'MaxPoolGrad replacement vs original', cnnWasm / cnnWrongPool);
}

if (runs('worker-io')) await workerIo();

if (flags.json !== undefined) {
  writeFileSync(flags.json, `${JSON.stringify({ node: process.version, tfjsCore: tf.version_core, figures }, null, 2)}\n`);
  console.log(`\nfigures written to ${flags.json}`);
}

/** One worker iteration (weights in, step, gradients out), old I/O against new, on wasm. */
async function workerIo(): Promise<void> {
  const batchSize = 64;
  await initBackend('wasm');
  registerWasmKernels();
  console.log(`\nWorker I/O: writeWeights(all) + step, MLP 784-256-128-10, batch ${batchSize}, wasm`);
  const model = buildModelFromLayers(mlp.layers, { seed: 1 });
  const layout = weightLayout(model);
  const trainer = createTrainer(model, { loss: 'sparseCategoricalCrossentropy', layout });
  const weights = readWeights(model, layout);
  const out = new Float32Array(layout.totalSize);
  const x = Float32Array.from({ length: batchSize * mlp.inputSize }, () => Math.random());
  const y = Float32Array.from({ length: batchSize }, () => Math.floor(Math.random() * mlp.classes));

  const variants = [
    {
      label: 'old: slices + tensors in, concat + dataSync + new array out',
      iterate: (): number => {
        legacyWriteWeights(model, layout, weights);
        return legacyStep(trainer, x, y, batchSize).loss;
      },
    },
    {
      label: 'new: writeWeights in place, step(x, y, n) (new array out)',
      iterate: (): number => {
        writeWeights(model, layout, weights);
        return trainer.step(x, y, batchSize).loss;
      },
    },
    {
      label: 'new: writeWeights in place, step(x, y, n, out)',
      iterate: (): number => {
        writeWeights(model, layout, weights);
        return trainer.step(x, y, batchSize, out).loss;
      },
    },
  ];

  // The paths must agree before their speed means anything.
  legacyWriteWeights(model, layout, weights);
  const reference = legacyStep(trainer, x, y, batchSize);
  writeWeights(model, layout, weights);
  const identical = trainer.step(x, y, batchSize, out).loss === reference.loss && out.every((v, i) => v === reference.gradients[i]);
  console.log(`  old and new gradients bit-identical: ${identical ? 'yes' : 'NO'}  (${layout.totalSize} floats, ${((layout.totalSize * 4) / 1e6).toFixed(2)} MB)`);
  record('worker-io', 'gradients bit-identical', identical);

  const gcEntries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => gcEntries.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  // Per variant, per round: [start, end) in ms and the iterations run.
  const rounds = variants.map(() => [] as { from: number; to: number; iterations: number }[]);
  for (const variant of variants) for (let i = 0; i < 5; i++) variant.iterate();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, variant] of variants.entries()) {
      const from = performance.now();
      let to = from;
      let iterations = 0;
      while (to - from < SECONDS_PER_ROUND * 1000) {
        variant.iterate();
        iterations++;
        to = performance.now();
      }
      rounds[index]?.push({ from, to, iterations });
    }
  }
  // GC entries arrive asynchronously; give the observer a turn before reading them.
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();

  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = sorted.length >> 1;
    return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  };
  const rate = ({ from, to, iterations }: { from: number; to: number; iterations: number }): number => (iterations * batchSize) / ((to - from) / 1000);
  const results = variants.map((variant, index) => {
    const windows = rounds[index] ?? [];
    const iterations = windows.reduce((sum, window) => sum + window.iterations, 0);
    const gcs = gcEntries.filter((entry) => windows.some(({ from, to }) => entry.startTime >= from && entry.startTime < to));
    const gcMs = gcs.reduce((sum, entry) => sum + entry.duration, 0);
    const samplesPerSecond = median(windows.map(rate));
    const result = {
      samplesPerSecond,
      msPerIteration: (batchSize * 1000) / samplesPerSecond,
      iterations,
      gcPer1000Iterations: (gcs.length * 1000) / iterations,
      gcMsPer1000Iterations: (gcMs * 1000) / iterations,
    };
    console.log(
      `  ${variant.label.padEnd(62)} ${result.samplesPerSecond.toFixed(0).padStart(7)} samples/s  ` +
        `(${result.msPerIteration.toFixed(2)} ms/iteration, ${iterations} iterations; ` +
        `GC ${result.gcPer1000Iterations.toFixed(0)} per 1000 iterations, ${result.gcMsPer1000Iterations.toFixed(0)} ms pause per 1000)`,
    );
    record('worker-io', variant.label, result);
    return result;
  });
  const [old, , fresh] = results as [(typeof results)[number], (typeof results)[number], (typeof results)[number]];
  // Rounds of the two run back to back, so their ratio per round cancels most drift in machine load.
  const ratio = median((rounds[2] ?? []).map((window, round) => rate(window) / rate(rounds[0]?.[round] ?? window)));
  console.log(
    `  new (out) / old: ${ratio.toFixed(2)}x samples/s (median of ${ROUNDS} paired rounds); ` +
      `${(old.msPerIteration - fresh.msPerIteration).toFixed(2)} ms less per iteration`,
  );
  record('worker-io', 'new (out) / old', ratio);

  // The I/O alone, without the step's compute: the weights in, and the same
  // tensor shapes out (the weights stand in for the gradients).
  const microseconds = (run: () => void): number => {
    for (let i = 0; i < 20; i++) run();
    const count = 300;
    const start = performance.now();
    for (let i = 0; i < count; i++) run();
    return ((performance.now() - start) * 1000) / count;
  };
  const tensors = model.weights.map((weight) => weight.read());
  const io = {
    weightsInOld: microseconds(() => legacyWriteWeights(model, layout, weights)),
    weightsInNew: microseconds(() => writeWeights(model, layout, weights)),
    gradientsOutOld: microseconds(() => {
      const flat = tf.tidy(() => tf.concat(tensors.map((tensor) => tf.reshape(tensor, [-1]))));
      new Float32Array(layout.totalSize).set(flat.dataSync() as Float32Array);
      flat.dispose();
    }),
    gradientsOutNew: microseconds(() => readWeights(model, layout, out)),
  };
  console.log(
    `  I/O alone: weights in ${io.weightsInOld.toFixed(0)} -> ${io.weightsInNew.toFixed(0)} us ` +
      `(${(io.weightsInOld / io.weightsInNew).toFixed(1)}x); gradients out ${io.gradientsOutOld.toFixed(0)} -> ${io.gradientsOutNew.toFixed(0)} us ` +
      `(${(io.gradientsOutOld / io.gradientsOutNew).toFixed(1)}x)`,
  );
  record('worker-io', 'I/O alone, microseconds', io);
  model.dispose();
}
