/**
 * Parameter-server step cost on a 1M-parameter model (about 4x the MNIST MLP):
 * one push (finite check + sample-weighted accumulate), one commit per
 * optimizer (mean + update), and encoding the weights broadcast. A step with
 * W workers costs W pushes + 1 commit + 1 encode; all of it should stay well
 * under a worker's ~30 ms gradient so the server is never the bottleneck.
 *
 * Run: pnpm --filter @dtrain/parameter-server bench (or `npx tsx bench/parameter-server.ts`).
 */
import { performance } from 'node:perf_hooks';
import type { WeightEntry } from '@dtrain/protocol';
import { ParameterServer, type OptimizerConfig } from '../src/index.js';

const SIZE = 1_000_000;
const RUNS = 15;
const layout: WeightEntry[] = [
  { name: 'dense/kernel', shape: [1000, 990], offset: 0, size: 990_000, trainable: true },
  { name: 'bn/moving_mean', shape: [5000], offset: 990_000, size: 5000, trainable: false },
  { name: 'dense/bias', shape: [5000], offset: 995_000, size: 5000, trainable: true },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const gradients = Float32Array.from({ length: SIZE }, (_, i) => Math.sin(i) * 1e-2);
const configs: OptimizerConfig[] = [
  { name: 'sgd', learningRate: 0.01 },
  { name: 'momentum', learningRate: 0.01, useNesterov: true },
  { name: 'adam', learningRate: 0.001 },
  { name: 'rmsprop', learningRate: 0.001, momentum: 0.9, centered: true },
];

console.log(`parameter-server bench: ${SIZE.toLocaleString('en')} float32 weights, median of ${RUNS} (node ${process.version})`);
console.log('optimizer   push ms  commit ms  encode ms');
for (const optimizer of configs) {
  const ps = new ParameterServer({ layout, weights: new Float32Array(SIZE), optimizer });
  const push: number[] = [];
  const commit: number[] = [];
  const encode: number[] = [];
  for (let round = -2; round < RUNS; round++) {
    let t = performance.now();
    ps.push({ workerId: 0, step: round + 3, version: ps.version, batchId: 0, sampleCount: 128, loss: 0.5, gradients });
    const pushed = performance.now() - t;
    t = performance.now();
    ps.commit();
    const committed = performance.now() - t;
    t = performance.now();
    ps.encodedWeights(round + 3);
    const encoded = performance.now() - t;
    if (round >= 0) {
      push.push(pushed);
      commit.push(committed);
      encode.push(encoded);
    }
  }
  const cols = [median(push), median(commit), median(encode)].map((ms) => ms.toFixed(2).padStart(9));
  console.log(`${optimizer.name.padEnd(10)}${cols.join('  ')}`);
}
