/**
 * Optimizer step cost on a 1M-parameter model (about 4x the MNIST MLP): the
 * tuned optimizers against the straightforward reference loops they must equal
 * bit for bit (src/testing/reference-optimizers.ts), timed in the same process,
 * alternating, on the same weights and gradient. A shard runs this once per
 * step over its range, so it should stay well under a worker's ~30 ms gradient.
 *
 * Times are the process's CPU time (process.cpuUsage) per call, median and
 * min: on a shared machine wall time also counts the time the process waited
 * for a core. The loops allocate nothing, so no GC thread adds to it.
 *
 * Run: pnpm --filter @dtrain/parameter-server bench (or `npx tsx bench/parameter-server.ts`).
 */
import type { WeightEntry } from '@dtrain/protocol';
import { createOptimizer, resolveOptimizerConfig, type OptimizerConfig } from '../src/index.js';
import { ReferenceOptimizer } from '../src/testing/reference-optimizers.js';
import { trainableRanges } from '../src/weight-layout.js';

const SIZE = 1_000_000;
const RUNS = 21;
const WARMUP = 3;
/**
 * Calls on a small array first, so that both implementations run the code V8
 * settles on in a long job. Without them a loop that first got hot inside one
 * long call can stay in its on-stack-replacement code for dozens of calls
 * (the reference adam then takes ~24 ms instead of ~14 here), which would
 * flatter the comparison.
 */
const SMALL_WARMUP_CALLS = 300;
const SMALL = 4096;
const layout: WeightEntry[] = [
  { name: 'dense/kernel', shape: [1000, 990], offset: 0, size: 990_000, trainable: true },
  { name: 'bn/moving_mean', shape: [5000], offset: 990_000, size: 5000, trainable: false },
  { name: 'dense/bias', shape: [5000], offset: 995_000, size: 5000, trainable: true },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** CPU milliseconds `fn` takes. */
function cpuMs(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

const gradient = Float32Array.from({ length: SIZE }, (_, i) => Math.sin(i) * 1e-2);
const configs: [string, OptimizerConfig][] = [
  ['sgd', { name: 'sgd', learningRate: 0.01 }],
  ['momentum', { name: 'momentum', learningRate: 0.01 }],
  ['momentum nesterov', { name: 'momentum', learningRate: 0.01, useNesterov: true }],
  ['adam', { name: 'adam', learningRate: 0.001 }],
  ['rmsprop', { name: 'rmsprop', learningRate: 0.001 }],
  ['rmsprop centered', { name: 'rmsprop', learningRate: 0.001, momentum: 0.9, centered: true }],
];

console.log(
  `optimizer.apply: ${SIZE.toLocaleString('en')} float32 weights, ${RUNS} alternating runs each, CPU ms as median (min) (node ${process.version})`,
);
console.log('optimizer               reference          tuned  speed-up  bit-identical');
for (const [label, config] of configs) {
  const tuned = createOptimizer(config, layout);
  const reference = new ReferenceOptimizer(resolveOptimizerConfig(config), SIZE, trainableRanges(layout));
  const tunedWeights = new Float32Array(SIZE);
  const referenceWeights = new Float32Array(SIZE);
  const times = { tuned: [] as number[], reference: [] as number[] };
  const smallTuned = createOptimizer(config, SMALL);
  const smallReference = new ReferenceOptimizer(resolveOptimizerConfig(config), SMALL, Uint32Array.of(0, SMALL));
  const smallWeights = new Float32Array(SMALL);
  const smallGradient = gradient.subarray(0, SMALL);
  for (let call = 0; call < SMALL_WARMUP_CALLS; call++) {
    smallTuned.apply(smallWeights, smallGradient);
    smallReference.apply(smallWeights, smallGradient);
  }
  for (let round = -WARMUP; round < RUNS; round++) {
    const referenceMs = cpuMs(() => reference.apply(referenceWeights, gradient));
    const tunedMs = cpuMs(() => tuned.apply(tunedWeights, gradient));
    if (round >= 0) {
      times.reference.push(referenceMs);
      times.tuned.push(tunedMs);
    }
  }
  const state = tuned.getState();
  const identical =
    sameBits(tunedWeights, referenceWeights) &&
    Object.entries(reference.slots).every(([name, slot]) => sameBits(state.arrays[name] as Float32Array, slot));
  const ref = median(times.reference);
  const fast = median(times.tuned);
  const cell = (values: number[]): string => `${median(values).toFixed(2)} (${Math.min(...values).toFixed(2)})`;
  console.log(
    `${label.padEnd(18)}${cell(times.reference).padStart(15)}${cell(times.tuned).padStart(15)}${`${(ref / fast).toFixed(2)}x`.padStart(10)}  ${identical ? 'yes' : 'NO'}`,
  );
}

// A shard applies its step chunk by chunk as gradient chunks are averaged; with
// the smallest chunks the protocol allows (4096 bytes) the bookkeeping per chunk shows.
{
  const CHUNK = 1024;
  const whole = createOptimizer({ name: 'adam', learningRate: 0.001 }, layout);
  const chunked = createOptimizer({ name: 'adam', learningRate: 0.001 }, layout);
  const wholeWeights = new Float32Array(SIZE);
  const chunkedWeights = new Float32Array(SIZE);
  const times = { whole: [] as number[], chunked: [] as number[] };
  for (let round = -WARMUP; round < RUNS; round++) {
    const wholeMs = cpuMs(() => whole.apply(wholeWeights, gradient));
    const chunkedMs = cpuMs(() => {
      chunked.beginStep();
      for (let from = 0; from < SIZE; from += CHUNK) chunked.applyChunk(chunkedWeights, gradient, from, Math.min(SIZE, from + CHUNK));
      chunked.endStep();
    });
    if (round >= 0) {
      times.whole.push(wholeMs);
      times.chunked.push(chunkedMs);
    }
  }
  console.log(
    `adam in ${Math.ceil(SIZE / CHUNK)} chunks of ${CHUNK}: ${median(times.chunked).toFixed(2)} ms, whole: ${median(times.whole).toFixed(2)} ms, bit-identical: ${sameBits(chunkedWeights, wholeWeights) ? 'yes' : 'NO'}`,
  );
}
