/**
 * Optimizer and shard step cost on a 1M-parameter model (about 4x the MNIST
 * MLP), in one process, alternating, on the same weights and gradient:
 * - the straightforward reference loops (src/testing/reference-optimizers.ts),
 *   which every other way must equal bit for bit;
 * - the tuned JS loops: the fallback where WebAssembly SIMD is unavailable,
 *   and what ran before the kernels (`simd: false`);
 * - the WebAssembly SIMD kernels on arrays outside their memory, copied
 *   through it a block at a time (createOptimizer's default);
 * - the kernels on arrays inside their memory, no copies (how a
 *   ParameterShard runs them).
 * Then a whole shard step (one worker's push, chunk by chunk, and the
 * commit: mean, optimizer, state entries) with the JS loops and the kernels,
 * at 1M parameters and at the MNIST MLP's 235k.
 *
 * Times are the process's CPU time (process.cpuUsage) per call, median and
 * min: on a shared machine wall time also counts the time the process waited
 * for a core. The loops allocate nothing in proportion to the model, so no
 * GC thread adds to it.
 *
 * Run: pnpm --filter @dtrain/parameter-server bench (or `npx tsx bench/parameter-server.ts`).
 */
import { decodeChunk, encodeChunk, type Chunk, type WeightEntry } from '@dtrain/protocol';
import { ParameterShard, createOptimizer, resolveOptimizerConfig, type Optimizer, type OptimizerConfig } from '../src/index.js';
import { buildOptimizer, planOptimizer } from '../src/create-optimizer.js';
import { KernelMemory, arrayBytes } from '../src/kernel-memory.js';
import { optimizerMemoryBytes } from '../src/optimizer.js';
import { ReferenceOptimizer } from '../src/testing/reference-optimizers.js';
import { trainableRanges } from '../src/weight-layout.js';

const SIZE = 1_000_000;
const RUNS = 21;
const WARMUP = 3;
/**
 * Calls on a small array first, so that every implementation runs the code
 * V8 settles on in a long job. Without them a JS loop that first got hot
 * inside one long call can stay in its on-stack-replacement code for dozens
 * of calls (the reference adam then takes ~24 ms instead of ~14 here), which
 * would flatter the comparison.
 */
const SMALL_WARMUP_CALLS = 300;
const SMALL = 4096;

function layoutOf(size: number): WeightEntry[] {
  const kernel = size - 10_000;
  return [
    { name: 'dense/kernel', shape: [kernel], offset: 0, size: kernel, trainable: true },
    { name: 'bn/moving_mean', shape: [5000], offset: kernel, size: 5000, trainable: false },
    { name: 'dense/bias', shape: [5000], offset: kernel + 5000, size: 5000, trainable: true },
  ];
}
const layout = layoutOf(SIZE);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function cell(values: number[]): string {
  return `${median(values).toFixed(2)} (${Math.min(...values).toFixed(2)})`;
}

/** CPU milliseconds `fn` takes. */
function cpuMs(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

async function cpuMsAsync(fn: () => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** An optimizer whose weights and gradient live in its own kernel memory, as a shard's do. */
function inPlace(config: OptimizerConfig, size: number): { optimizer: Optimizer; weights: Float32Array; gradient: Float32Array } {
  const plan = planOptimizer(config, layoutOf(size));
  const memory = KernelMemory.create(2 * arrayBytes(size, 4) + optimizerMemoryBytes(plan.config, size));
  if (memory === undefined) throw new Error('WebAssembly SIMD is not available on this engine');
  const weights = memory.float32(size);
  const gradient = memory.float32(size);
  return { optimizer: buildOptimizer(plan, memory), weights, gradient };
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
console.log(
  `${'optimizer'.padEnd(18)}${'reference'.padStart(14)}${'JS loops'.padStart(14)}${'SIMD copied'.padStart(14)}${'SIMD in place'.padStart(15)}${'JS/copied'.padStart(11)}${'JS/in place'.padStart(13)}  bit-identical`,
);
for (const [label, config] of configs) {
  const reference = new ReferenceOptimizer(resolveOptimizerConfig(config), SIZE, trainableRanges(layout));
  const js = createOptimizer(config, layout, undefined, { simd: false });
  const copied = createOptimizer(config, layout);
  const held = inPlace(config, SIZE);
  held.gradient.set(gradient);
  const weights = { reference: new Float32Array(SIZE), js: new Float32Array(SIZE), copied: new Float32Array(SIZE) };
  const times = { reference: [] as number[], js: [] as number[], copied: [] as number[], held: [] as number[] };
  const smallJs = createOptimizer(config, SMALL, undefined, { simd: false });
  const smallReference = new ReferenceOptimizer(resolveOptimizerConfig(config), SMALL, Uint32Array.of(0, SMALL));
  const smallWeights = new Float32Array(SMALL);
  const smallGradient = gradient.subarray(0, SMALL);
  for (let call = 0; call < SMALL_WARMUP_CALLS; call++) {
    smallJs.apply(smallWeights, smallGradient);
    smallReference.apply(smallWeights, smallGradient);
  }
  for (let round = -WARMUP; round < RUNS; round++) {
    const referenceMs = cpuMs(() => reference.apply(weights.reference, gradient));
    const jsMs = cpuMs(() => js.apply(weights.js, gradient));
    const copiedMs = cpuMs(() => copied.apply(weights.copied, gradient));
    const heldMs = cpuMs(() => held.optimizer.apply(held.weights, held.gradient));
    if (round >= 0) {
      times.reference.push(referenceMs);
      times.js.push(jsMs);
      times.copied.push(copiedMs);
      times.held.push(heldMs);
    }
  }
  const identical =
    [weights.js, weights.copied, held.weights].every((w) => sameBits(w, weights.reference)) &&
    [js, copied, held.optimizer].every((o) => {
      const state = o.getState();
      return Object.entries(reference.slots).every(([name, slot]) => sameBits(state.arrays[name] as Float32Array, slot));
    });
  const ratio = (a: number[], b: number[]): string => `${(median(a) / median(b)).toFixed(2)}x`;
  console.log(
    `${label.padEnd(18)}${cell(times.reference).padStart(14)}${cell(times.js).padStart(14)}${cell(times.copied).padStart(14)}${cell(times.held).padStart(15)}${ratio(times.js, times.copied).padStart(11)}${ratio(times.js, times.held).padStart(13)}  ${identical ? 'yes' : 'NO'}`,
  );
}

// A shard applies its step chunk by chunk as gradient chunks are averaged; with
// the smallest chunks the protocol allows (4096 bytes) the bookkeeping per chunk shows.
{
  const CHUNK = 1024;
  const config: OptimizerConfig = { name: 'adam', learningRate: 0.001 };
  const whole = inPlace(config, SIZE);
  const chunked = inPlace(config, SIZE);
  const js = createOptimizer(config, layout, undefined, { simd: false });
  const jsWeights = new Float32Array(SIZE);
  whole.gradient.set(gradient);
  chunked.gradient.set(gradient);
  const times = { whole: [] as number[], chunked: [] as number[], js: [] as number[] };
  const inChunks = (o: Optimizer, w: Float32Array, g: Float32Array): void => {
    o.beginStep();
    for (let from = 0; from < SIZE; from += CHUNK) o.applyChunk(w, g, from, Math.min(SIZE, from + CHUNK));
    o.endStep();
  };
  for (let round = -WARMUP; round < RUNS; round++) {
    const wholeMs = cpuMs(() => whole.optimizer.apply(whole.weights, whole.gradient));
    const chunkedMs = cpuMs(() => inChunks(chunked.optimizer, chunked.weights, chunked.gradient));
    const jsMs = cpuMs(() => inChunks(js, jsWeights, gradient));
    if (round >= 0) {
      times.whole.push(wholeMs);
      times.chunked.push(chunkedMs);
      times.js.push(jsMs);
    }
  }
  console.log(
    `adam in ${Math.ceil(SIZE / CHUNK)} chunks of ${CHUNK}: SIMD in place ${cell(times.chunked)} ms (whole: ${cell(times.whole)}), JS loops ${cell(times.js)}, bit-identical: ${sameBits(chunked.weights, whole.weights) && sameBits(jsWeights, whole.weights) ? 'yes' : 'NO'}`,
  );
}

/**
 * A shard's whole step as the coordinator drives it: one worker's push
 * arrives chunk by chunk (acceptChunk sums each), then commit averages,
 * runs the optimizer and hands out each chunk's weights. The chunk objects
 * are decoded before the timing, as the transport would hand them over.
 */
async function shardStep(size: number, chunkBytes: number): Promise<void> {
  const shardLayout = layoutOf(size);
  const config: OptimizerConfig = { name: 'adam', learningRate: 0.001 };
  const initial = Float32Array.from({ length: size }, (_, i) => Math.cos(i) * 0.05);
  const make = (simd: boolean): ParameterShard =>
    new ParameterShard({ layout: shardLayout, range: { start: 0, end: size }, chunkBytes, weights: initial, optimizer: config, simd });
  const shards = { js: make(false), simd: make(true) };
  const pushGradient = gradient.subarray(0, size);
  const chunksFor = (shard: ParameterShard, step: number): Chunk[] =>
    shard.plan.chunksOf(shard.range).map((span) =>
      decodeChunk(
        encodeChunk(
          { kind: 'gradientChunk', workerId: 1, step, version: shard.version, sampleCount: 32, offset: span.offset },
          pushGradient.subarray(span.offset, span.offset + span.count),
        ),
      ),
    );
  const times = { js: { accept: [] as number[], commit: [] as number[], step: [] as number[] }, simd: { accept: [] as number[], commit: [] as number[], step: [] as number[] } };
  for (let round = -WARMUP; round < RUNS; round++) {
    const step = round + WARMUP;
    for (const kind of ['js', 'simd'] as const) {
      const shard = shards[kind];
      const chunks = chunksFor(shard, step);
      const acceptMs = cpuMs(() => {
        for (const chunk of chunks) if (shard.acceptChunk(chunk) !== 'accepted') throw new Error('chunk not accepted');
      });
      const commitMs = await cpuMsAsync(() => shard.commit(step, [{ workerId: 1, step }], () => {}));
      if (round >= 0) {
        times[kind].accept.push(acceptMs);
        times[kind].commit.push(commitMs);
        times[kind].step.push(acceptMs + commitMs);
      }
    }
  }
  const identical =
    sameBits(shards.js.weights, shards.simd.weights) &&
    ['m', 'v'].every((name) => sameBits(shards.js.optimizerState().arrays[name] as Float32Array, shards.simd.optimizerState().arrays[name] as Float32Array));
  const line = (what: 'accept' | 'commit' | 'step'): string =>
    `${what.padStart(8)}${cell(times.js[what]).padStart(16)}${cell(times.simd[what]).padStart(16)}${`${(median(times.js[what]) / median(times.simd[what])).toFixed(2)}x`.padStart(9)}`;
  console.log(
    `\nshard step, adam, ${size.toLocaleString('en')} parameters in ${shards.js.chunkCount} chunks of ${chunkBytes / 1024} KiB (1 push + commit), CPU ms median (min); bit-identical: ${identical ? 'yes' : 'NO'}`,
  );
  console.log(`${''.padStart(8)}${'JS loops'.padStart(16)}${'SIMD kernels'.padStart(16)}${'speed-up'.padStart(9)}`);
  for (const what of ['accept', 'commit', 'step'] as const) console.log(line(what));
}

await shardStep(SIZE, 1 << 20);
// The MNIST MLP (784-256-128-10) at the cluster's default 4 MiB chunks: one chunk.
await shardStep(235_146, 4 << 20);
