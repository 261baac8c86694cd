/**
 * Metrics overhead: what updating the metrics costs per training step, as a
 * share of the step. Issue 4 asks for under 1% of step time.
 *
 * Coordinator path per step, as the coordinator calls it: one stepCommitted
 * with N workers (wait + compute histograms, samples counter), byte counts
 * for N inbound gradient frames, N assignments and one weights broadcast,
 * one worker-state update (in a real job that only happens when
 * membership changes; counted every step to stay on the safe side), and
 * the embedded shard's commit (shardStep), which is also timed alone.
 * Worker path per step: stepComputed + waited + tfjsMemory.
 *
 * The share is printed against a 20 ms step and, when a summary.json of a
 * real run is found (default runs/mnist-mlp/summary.json, or the path given
 * as the first argument), against that run's mean step time. Rendering
 * /metrics happens per scrape, not per step; its cost is printed for scale.
 *
 * Run: pnpm --filter @dtrain/metrics bench (or `npx tsx bench/metrics.ts`).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CoordinatorMetrics, ShardMetrics, WorkerMetrics, createMetricsRegistry, renderMetrics, type CommittedStep, type ShardStep } from '../src/index.js';

const TYPICAL_STEP_SECONDS = 0.02;
const ROUNDS = 15;
const STEPS_PER_ROUND = 20_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Median µs per call of `run`, over ROUNDS rounds of STEPS_PER_ROUND calls after one warm-up round. */
function microsPerCall(run: (i: number) => void): number {
  const samples: number[] = [];
  for (let round = -1; round < ROUNDS; round += 1) {
    const start = performance.now();
    for (let i = 0; i < STEPS_PER_ROUND; i += 1) run(i);
    const elapsed = performance.now() - start;
    if (round >= 0) samples.push((elapsed * 1000) / STEPS_PER_ROUND);
  }
  return median(samples);
}

async function coordinatorStepMicros(workers: number): Promise<{ micros: number; renderMs: number }> {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const metrics = new CoordinatorMetrics(registry, { job: 'bench', backend: 'wasm', version: '0.0.0' });
  const micros = microsPerCall((i) => {
    // Built per step, as the observer builds it from the coordinator's step event.
    const step: CommittedStep = {
      epoch: i >> 10,
      sampleCount: 64 * workers,
      loss: 1 / (1 + i),
      wallSeconds: 0.015 + (i % 7) * 0.001,
      workers: Array.from({ length: workers }, (_, w) => ({
        workerId: w,
        samples: 64,
        accepted: true,
        waitSeconds: (w * (i % 5)) / 1000,
        computeSeconds: 0.012 + w / 1000,
      })),
    };
    for (let w = 0; w < workers; w += 1) metrics.transferred('in', 1_073_000);
    for (let w = 0; w < workers; w += 1) metrics.transferred('out', 600);
    metrics.transferred('out', 1_073_000 * workers);
    metrics.stepCommitted(step);
    metrics.workerStates({ connecting: 0, joined: workers, training: 0, standby: 0, draining: 0 });
    metrics.shardStep(shardStep(i, workers));
  });
  return { micros, renderMs: await renderMillis(registry) };
}

/** The embedded shard's commit event, built per step as the coordinator builds it. */
function shardStep(i: number, workers: number): ShardStep {
  return { shard: 0, applySeconds: 0.0004 + (i % 9) / 10_000, bytesIn: 1_073_000 * workers, bytesOut: 1_073_000 * workers, pendingPushes: workers, committed: true };
}

function shardStepMicros(): number {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const metrics = new ShardMetrics(registry, { shards: [0] });
  return microsPerCall((i) => metrics.shardStep(shardStep(i, 4)));
}

function workerStepMicros(): number {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const metrics = new WorkerMetrics(registry, { backend: 'wasm', workerId: 0, job: 'bench' });
  return microsPerCall((i) => {
    metrics.waited(0.002 + (i % 3) / 1000);
    metrics.stepComputed({ computeSeconds: 0.012, dataSeconds: 0.0003, samples: 64 });
    metrics.tfjsMemory({ numTensors: 14, numBytes: 940_000 + (i % 2) });
  });
}

let renderSink = 0;
async function renderMillis(registry: ReturnType<typeof createMetricsRegistry>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 50; i += 1) {
    const start = performance.now();
    renderSink += (await renderMetrics(registry)).body.length;
    samples.push(performance.now() - start);
  }
  return median(samples);
}

/** Mean step time of a real run, from its summary.json, if there is one. */
function realStepSeconds(): { seconds: number; path: string } | undefined {
  const path = resolve(process.argv[2] ?? new URL('../../../runs/mnist-mlp/summary.json', import.meta.url).pathname);
  try {
    const summary = JSON.parse(readFileSync(path, 'utf8')) as { timing?: { meanStepSeconds?: number } };
    const seconds = summary.timing?.meanStepSeconds;
    return seconds !== undefined && seconds > 0 ? { seconds, path } : undefined;
  } catch {
    return undefined;
  }
}

const real = realStepSeconds();
const pct = (micros: number, stepSeconds: number): string => `${((micros / 1e6 / stepSeconds) * 100).toFixed(4)}%`;
console.log(`metrics update cost per step (median of ${ROUNDS} rounds x ${STEPS_PER_ROUND} steps)`);
if (real !== undefined) console.log(`real mean step time ${(real.seconds * 1000).toFixed(2)} ms from ${real.path}`);
for (const workers of [2, 4, 8]) {
  const { micros, renderMs } = await coordinatorStepMicros(workers);
  console.log(
    `  coordinator, ${workers} workers: ${micros.toFixed(2)} µs/step = ${pct(micros, TYPICAL_STEP_SECONDS)} of a 20 ms step` +
      `${real === undefined ? '' : `, ${pct(micros, real.seconds)} of the real step`}; /metrics render ${renderMs.toFixed(2)} ms per scrape`,
  );
}
const shard = shardStepMicros();
console.log(`  of which the shard's commit (shardStep): ${shard.toFixed(2)} µs/step`);
const worker = workerStepMicros();
console.log(
  `  worker: ${worker.toFixed(2)} µs/step = ${pct(worker, TYPICAL_STEP_SECONDS)} of a 20 ms step` +
    `${real === undefined ? '' : `, ${pct(worker, real.seconds)} of the real step`} (tf.memory() itself not included)`,
);
if (renderSink < 0) console.log(renderSink);
