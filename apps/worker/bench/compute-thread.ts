/**
 * What moving a worker's computation onto a thread costs per step:
 * ComputeThread against WorkerCompute on the calling thread, same process,
 * same data, in alternating blocks of steps. Run: `pnpm --filter
 * @dtrain/worker bench` (or `npx tsx bench/compute-thread.ts` in apps/worker).
 *
 * MNIST MLP 784-256-128-10, batch 64, wasm. Two rows: compute alone, and a
 * training step as a worker runs it (new weights set, then compute). The
 * thread adds a message round trip per call, a copy of the sample ids and
 * one of the gradients into shared memory; `hop` (compute row) is the wall
 * time of a threaded step minus the time the thread reports for it, which
 * separates that from the step-time noise of a busy machine.
 */

import { initBackend, type LayerSpec } from '@dtrain/engine';
import type { AssignmentMessage } from '@dtrain/protocol';
import { WorkerCompute } from '../src/compute.js';
import { ComputeThread } from '../src/compute-thread.js';
import { computeFixture, type ComputeFixture } from '../src/compute-thread.testkit.js';

const MLP: readonly LayerSpec[] = [
  { type: 'dense', inputShape: [784], units: 256, activation: 'relu' },
  { type: 'dense', units: 128, activation: 'relu' },
  { type: 'dense', units: 10, activation: 'softmax' },
];
const BATCH = 64;
/** Steps per block; blocks alternate between the two, so load from other processes hits both alike. */
const BLOCK = 10;
const SECONDS = 8;

interface Runner {
  /** One step; `version` > 0 sets new weights of that version first. */
  step(version: number): Promise<void>;
  /** Milliseconds the compute thread reported for its steps (ThreadComputeResult.seconds), summed. */
  threadMs?: number;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length / 2;
  return sorted.length % 2 === 1 ? (sorted[Math.floor(mid)] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

interface Comparison {
  /** Median over blocks of the mean step time, ms: `a`, `b`. */
  readonly a: number;
  readonly b: number;
  /** Median over block pairs of (b − a) per step, ms: robust to bursts of load that hit one block of a pair. */
  readonly difference: number;
  /** Median over `b`'s blocks of its wall time per step minus the time its thread reported, ms. */
  readonly hop: number;
}

/** `a` and `b` in alternating blocks of BLOCK steps for about SECONDS in all. */
async function compare(a: Runner, b: Runner, withWeights: boolean, version: { next: number }): Promise<Comparison> {
  const hops: number[] = [];
  const block = async (runner: Runner): Promise<number> => {
    const reported = runner.threadMs ?? 0;
    const start = performance.now();
    for (let i = 0; i < BLOCK; i++) await runner.step(withWeights ? version.next++ : 0);
    const ms = (performance.now() - start) / BLOCK;
    if (runner.threadMs !== undefined) hops.push(ms - (runner.threadMs - reported) / BLOCK);
    return ms;
  };
  await block(a);
  await block(b);
  hops.length = 0;
  const msA: number[] = [];
  const msB: number[] = [];
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000 || msA.length < 5) {
    msA.push(await block(a));
    msB.push(await block(b));
  }
  const difference = median(msB.map((ms, i) => ms - (msA[i] as number)));
  return { a: median(msA), b: median(msB), difference, hop: median(hops) };
}

async function main(): Promise<void> {
  const fixture: ComputeFixture = await computeFixture({ layers: MLP, numSamples: 4096, chunkSize: 1024 });
  const weights = fixture.weights;
  // Drawn up front: the timed loops only pick one.
  const batches = Array.from({ length: 64 }, () => fixture.assignment(0, BATCH));
  let next = 0;
  const assignment = (version: number): AssignmentMessage => ({ ...(batches[next++ % batches.length] as AssignmentMessage), version });

  await initBackend('wasm');
  const local = await WorkerCompute.fromWelcome(fixture.welcome, weights);
  for (const chunk of fixture.chunks) local.addChunk(chunk);
  let localVersion = fixture.welcome.version;
  const inThisThread: Runner = {
    step: async (version) => {
      if (version > 0) {
        local.setWeights(version, weights);
        localVersion = version;
      }
      local.compute(assignment(localVersion));
    },
  };

  const thread = await ComputeThread.start({ backend: 'wasm' });
  await thread.load(fixture.welcome, weights);
  await Promise.all(fixture.chunks.map((chunk) => thread.addChunk(chunk)));
  let threadVersion = fixture.welcome.version;
  const onThread: Runner = {
    threadMs: 0,
    step: async (version) => {
      let set: Promise<void> | undefined;
      if (version > 0) {
        thread.weights.set(weights);
        // As a worker would: the assignment does not wait for the copy (the thread answers in order).
        set = thread.setWeights(version);
        threadVersion = version;
      }
      const result = await thread.compute(assignment(threadVersion));
      onThread.threadMs = (onThread.threadMs ?? 0) + result.seconds * 1000;
      await set;
    },
  };

  const layoutSize = fixture.weights.length;
  console.log(`ComputeThread vs WorkerCompute on this thread: MNIST MLP 784-256-128-10 (${layoutSize} weights), batch ${BATCH}, wasm`);
  console.log(`blocks of ${BLOCK} steps, alternating, ~${SECONDS} s per row; medians over blocks`);
  const version = { next: fixture.welcome.version + 1 };
  for (const withWeights of [false, true]) {
    const { a, b, difference, hop } = await compare(inThisThread, onThread, withWeights, version);
    // setWeights' copy is not in the thread's compute time: the hop only means something without it.
    const hopText = withWeights ? '' : `   hop ${(hop * 1000).toFixed(0)} µs/step`;
    const label = withWeights ? 'setWeights + compute' : 'compute';
    console.log(
      `  ${label.padEnd(22)} this thread ${a.toFixed(2)} ms/step   ComputeThread ${b.toFixed(2)} ms/step   ` +
        `difference ${(difference * 1000).toFixed(0)} µs/step   ratio ${((a + difference) / a).toFixed(3)}${hopText}`,
    );
  }
  local.dispose();
  await thread.dispose();
}

await main();
