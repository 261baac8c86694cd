import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DataError } from '@dtrain/data';
import { EngineError, initBackend, type BackendRequest, type LayerSpec } from '@dtrain/engine';
import { WorkerCompute } from './compute.js';
import { ComputeThread } from './compute-thread.js';
import { computeFixture, type ComputeFixture } from './compute-thread.testkit.js';
import { WorkerError } from './errors.js';

/** Conv (whose weight gradient the wasm backend lacks), max pool, batch norm (non-trainable entries), L2. */
const CNN: readonly LayerSpec[] = [
  { type: 'conv2d', inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu' },
  { type: 'batchNormalization' },
  { type: 'maxPooling2d', poolSize: 2 },
  { type: 'flatten' },
  { type: 'dense', units: 16, activation: 'relu', kernelRegularizer: { l2: 0.01 } },
  { type: 'dense', units: 10, activation: 'softmax' },
];

/** A step of a few seconds on the cpu backend (784-512-512-10, batch 384). */
const BIG: readonly LayerSpec[] = [
  { type: 'dense', inputShape: [784], units: 512, activation: 'relu' },
  { type: 'dense', units: 512, activation: 'relu' },
  { type: 'dense', units: 10, activation: 'softmax' },
];

const started: ComputeThread[] = [];
async function startThread(backend: BackendRequest): Promise<ComputeThread> {
  const thread = await ComputeThread.start({ backend });
  started.push(thread);
  return thread;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((thread) => thread.terminate()));
});

/** The reference: the same computation on this thread. */
async function inThisThread(fixture: ComputeFixture, backend: 'wasm' | 'cpu'): Promise<WorkerCompute> {
  await initBackend(backend);
  const compute = await WorkerCompute.fromWelcome(fixture.welcome, fixture.weights);
  for (const chunk of fixture.chunks) compute.addChunk(chunk);
  return compute;
}

/** Index of the first element whose bits differ, or -1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = new Uint32Array(a.slice().buffer);
  const y = new Uint32Array(b.slice().buffer);
  return x.findIndex((bits, i) => bits !== y[i]);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

function thrown(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('ComputeThread', () => {
  it.each(['wasm', 'cpu'] as const)('computes what WorkerCompute computes on this thread, bit for bit (%s)', async (backend) => {
    const fixture = await computeFixture({ layers: CNN });
    const reference = await inThisThread(fixture, backend);
    const thread = await startThread(backend);
    expect(thread.backend.name).toBe(backend);
    await thread.load(fixture.welcome, fixture.weights);
    await Promise.all(fixture.chunks.map((chunk) => thread.addChunk(chunk)));

    const first = fixture.assignment(7, 32);
    const result = await thread.compute(first);
    const expected = reference.compute(first);
    expect(result.loss).toBe(expected.loss);
    expect(Number.isFinite(result.loss)).toBe(true);
    expect(firstDifference(thread.gradients, expected.gradients)).toBe(-1);
    expect(result.seconds).toBeGreaterThanOrEqual(result.stepSeconds);

    // The next version through shared memory; once setWeights resolves the buffer is ours again.
    const next = fixture.randomWeights();
    thread.weights.set(next);
    const set = thread.setWeights(8);
    expect(thread.weightsWritable).toBe(false);
    await set;
    expect(thread.weightsWritable).toBe(true);
    thread.weights.fill(Number.NaN);
    reference.setWeights(8, next);
    const second = fixture.assignment(8, 32);
    const result2 = await thread.compute(second);
    const expected2 = reference.compute(second);
    expect(result2.loss).toBe(expected2.loss);
    expect(firstDifference(thread.gradients, expected2.gradients)).toBe(-1);
    expect(result2.loss).not.toBe(result.loss);
    reference.dispose();
  });

  it('keeps the main thread responsive during a long step', async () => {
    const fixture = await computeFixture({ layers: BIG, numSamples: 384, chunkSize: 128 });
    const thread = await startThread('cpu');
    await thread.load(fixture.welcome, fixture.weights);
    await Promise.all(fixture.chunks.map((chunk) => thread.addChunk(chunk)));
    let last = performance.now();
    let maxGap = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 50);
    try {
      const result = await thread.compute(fixture.assignment(7, 384));
      maxGap = Math.max(maxGap, performance.now() - last);
      // On the main thread this step would have been one gap as long as itself.
      expect(result.stepSeconds, 'the step must be long for this test to show anything').toBeGreaterThan(1);
      expect(maxGap).toBeLessThan(500);
      expect(ticks).toBeGreaterThanOrEqual(Math.floor((result.stepSeconds * 1000) / 100));
    } finally {
      clearInterval(timer);
    }
  });

  it('rejects with the error WorkerCompute throws, and carries on', async () => {
    const fixture = await computeFixture({ layers: CNN, numSamples: 200, chunkSize: 64 });
    const reference = await inThisThread(fixture, 'cpu');
    const thread = await startThread('cpu');
    const short = await rejection(thread.load(fixture.welcome, fixture.weights.subarray(1)));
    expect(short).toBeInstanceOf(WorkerError);
    expect(short).toMatchObject({
      code: 'DTRAIN_WORKER_LAYOUT',
      message: `initial weights hold ${fixture.weights.length - 1} values; the layout has ${fixture.weights.length}`,
    });
    await thread.load(fixture.welcome);
    await Promise.all(fixture.chunks.map((chunk) => thread.addChunk(chunk)));

    const early = await rejection(thread.compute(fixture.assignment(7, 8)));
    expect(early).toBeInstanceOf(WorkerError);
    expect(early).toMatchObject({ code: 'DTRAIN_WORKER_VERSION', message: 'assignment for version 7 but no weights have been set yet' });

    thread.weights.set(fixture.weights);
    await thread.setWeights(7);
    const stale = fixture.assignment(6, 8);
    const wrongVersion = await rejection(thread.compute(stale));
    expect(wrongVersion).toBeInstanceOf(WorkerError);
    expect(wrongVersion).toMatchObject({ code: 'DTRAIN_WORKER_VERSION', message: 'assignment for version 6 but weights are at 7' });
    expect(wrongVersion).toMatchObject(thrown(() => reference.compute(stale)) as object);

    // A sample past the data: the data package's own error, as on this thread.
    const outOfRange = { ...fixture.assignment(7, 8), sampleIds: Uint32Array.of(3, 250) };
    const dataError = await rejection(thread.compute(outOfRange));
    expect(dataError).toBeInstanceOf(DataError);
    const expectedDataError = thrown(() => reference.compute(outOfRange)) as DataError;
    expect(dataError).toMatchObject({ code: expectedDataError.code, message: expectedDataError.message });

    const badChunk = { ...fixture.chunks[1]!, start: 5 };
    const chunkError = await rejection(thread.addChunk(badChunk));
    expect(chunkError).toBeInstanceOf(DataError);
    expect(chunkError).toMatchObject({ code: 'DTRAIN_DATA_CHUNK', message: 'chunk 1: starts at sample 5; expected 64 (chunk size 64)' });

    const pending = thread.compute(fixture.assignment(7, 8));
    const overlapping = await rejection(thread.compute(fixture.assignment(7, 8)));
    expect(overlapping).toBeInstanceOf(WorkerError);
    expect(overlapping).toMatchObject({ code: 'DTRAIN_WORKER_STATE', message: 'compute thread: compute while another is pending' });
    expect(Number.isFinite((await pending).loss)).toBe(true);
    reference.dispose();
  });

  it('fails to start as initBackend fails on this thread', async () => {
    const request = 'gpu' as BackendRequest;
    const expected = await rejection(initBackend(request));
    const error = await rejection(ComputeThread.start({ backend: request }));
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ code: 'DTRAIN_ENGINE_BACKEND', message: (expected as EngineError).message });
  });

  it('terminate stops a step midway and rejects it, and every later call', async () => {
    const fixture = await computeFixture({ layers: BIG, numSamples: 384, chunkSize: 128 });
    const thread = await startThread('cpu');
    await thread.load(fixture.welcome, fixture.weights);
    await Promise.all(fixture.chunks.map((chunk) => thread.addChunk(chunk)));
    const step = rejection(thread.compute(fixture.assignment(7, 384)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await thread.terminate();
    const error = await step;
    expect(error).toBeInstanceOf(WorkerError);
    expect(error).toMatchObject({ code: 'DTRAIN_WORKER_THREAD', message: 'compute thread terminated' });
    expect(thread.state).toBe('closed');
    await expect(thread.exited).resolves.toBeUndefined();
    await expect(thread.setWeights(8)).rejects.toBe(error);
  });

  it('dispose lets queued work finish, then ends the thread', async () => {
    const fixture = await computeFixture({ layers: CNN });
    const thread = await startThread('wasm');
    await thread.load(fixture.welcome, fixture.weights);
    await Promise.all(fixture.chunks.map((chunk) => thread.addChunk(chunk)));
    const step = thread.compute(fixture.assignment(7, 16));
    const disposed = thread.dispose();
    const late = await rejection(thread.setWeights(8));
    expect(late).toMatchObject({ code: 'DTRAIN_WORKER_THREAD', message: 'compute thread disposed' });
    expect(Number.isFinite((await step).loss)).toBe(true);
    await disposed;
    expect(thread.state).toBe('closed');
    await expect(thread.exited).resolves.toBeUndefined();
    const after = await rejection(thread.compute(fixture.assignment(7, 16)));
    expect(after).toBeInstanceOf(WorkerError);
    expect(after).toMatchObject({ code: 'DTRAIN_WORKER_THREAD', message: 'compute thread disposed' });
  });

  it('leaves nothing running after dispose: a process that used a thread exits by itself', async () => {
    const here = (file: string): string => JSON.stringify(new URL(file, import.meta.url).href);
    const script = `
      import { ComputeThread } from ${here('./compute-thread.ts')};
      import { computeFixture } from ${here('./compute-thread.testkit.ts')};
      const fixture = await computeFixture({ layers: [{ type: 'dense', inputShape: [4], units: 3, activation: 'softmax' }] });
      const thread = await ComputeThread.start({ backend: 'wasm' });
      await thread.load(fixture.welcome, fixture.weights);
      for (const chunk of fixture.chunks) await thread.addChunk(chunk);
      const { loss } = await thread.compute(fixture.assignment(7, 8));
      await thread.dispose();
      console.log(JSON.stringify({ finite: Number.isFinite(loss), state: thread.state }));
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (data: string) => (stdout += data));
    child.stderr.setEncoding('utf8').on('data', (data: string) => (stderr += data));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    clearTimeout(killer);
    expect({ code, signal }, stderr).toEqual({ code: 0, signal: null });
    expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '')).toEqual({ finite: true, state: 'closed' });
  });
});
