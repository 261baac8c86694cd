import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf, tfl } from '@dtrain/engine';
import { FitError, FitErrorCode, fit, fitDataset, type FitLogs } from 'dtrain';
import { dtrain, tempDir, type Proc } from './harness.js';

/**
 * The TypeScript API across real processes: `fit` starts the coordinator in
 * this process and 2 `dtrain worker` processes, trains, writes the weights
 * back into the user's model and leaves no process behind; bad input is
 * refused before any process starts.
 */

/** Process ids whose parent is this process (read from /proc). */
function childPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // The command name may hold spaces and parentheses: the fields after the last ')' are fixed.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) pids.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** Runs `work` while sampling this process's children every 10 ms: the pids ever seen (a worker process lives far longer than that). */
async function watchChildren<T>(work: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; seen: Set<number> }> {
  const seen = new Set<number>();
  const timer = setInterval(() => childPids().forEach((p) => seen.add(p)), 10);
  const [result] = await Promise.allSettled([work()]);
  clearInterval(timer);
  childPids().forEach((p) => seen.add(p));
  return { result, seen };
}

/** 3 Gaussian blobs in 4-D, one per class: separable, so a small MLP learns it in a few epochs. Seeded. */
function blobs(n: number, seed: number): { x: Float32Array; y: Float32Array } {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const gauss = (): number => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const centres = [
    [2, 0, -1, 1],
    [-2, 1, 1, -1],
    [0, -2, 2, 1],
  ];
  const x = new Float32Array(n * 4);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i += 1) {
    const c = Math.floor(rand() * 3);
    y[i] = c;
    for (let d = 0; d < 4; d += 1) x[i * 4 + d] = (centres[c]?.[d] ?? 0) + 0.7 * gauss();
  }
  return { x, y };
}

function mlp(optimizer: tf.Optimizer | string = tf.train.adam(0.02)): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.dense({ units: 16, activation: 'relu', inputShape: [4] }));
  model.add(tfl.layers.dense({ units: 3, activation: 'softmax' }));
  model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

function flatWeights(model: tfl.LayersModel): Float32Array {
  return Float32Array.from(model.getWeights().flatMap((w) => [...w.dataSync()]));
}

async function accuracyOf(model: tfl.LayersModel, x: Float32Array, y: Float32Array): Promise<number> {
  const [, acc] = model.evaluate(tf.tensor2d(x, [y.length, 4]), tf.tensor1d(y)) as tf.Scalar[];
  return (await acc!.data())[0]!;
}

const N = 2000;
const BATCH = 50;
const data = blobs(N, 7);
const heldOut = blobs(300, 99);

beforeAll(async () => {
  await initBackend('wasm');
});

describe('fit(model, x, y, args) with 2 local worker processes', () => {
  it('trains 3 epochs: History as tfjs shapes it, callbacks in order, trained weights in the model, no process left', async () => {
    const model = mlp();
    const before = flatWeights(model);
    const calls: string[] = [];
    const batches: { epoch: number; batch: number; logs: FitLogs }[] = [];
    let epoch = -1;
    const history = await fit(model, tf.tensor2d(data.x, [N, 4]), tf.tensor1d(data.y), {
      epochs: 3,
      batchSize: BATCH,
      validationSplit: 0.1,
      workers: 2,
      backend: 'wasm',
      callbacks: {
        onTrainBegin: () => void calls.push('trainBegin'),
        onEpochBegin: (e) => {
          epoch = e;
          calls.push(`epochBegin ${e}`);
        },
        // Async, and slow: training must not wait for it, and fit must wait for the queue.
        onBatchEnd: async (batch, logs) => {
          batches.push({ epoch, batch, logs: logs ?? {} });
          if (batch === 0) await new Promise((r) => setTimeout(r, 50));
        },
        onEpochEnd: (e, logs) => void calls.push(`epochEnd ${e} ${Object.keys(logs ?? {}).sort().join(',')}`),
        onTrainEnd: () => void calls.push('trainEnd'),
      },
    });
    expect(history.epoch).toEqual([0, 1, 2]);
    const { loss, val_loss } = history.history;
    expect(loss).toHaveLength(3);
    expect(loss[2]).toBeLessThan(loss[0]!);
    expect(val_loss).toHaveLength(3);
    expect(history.params).toMatchObject({ epochs: 3, batchSize: BATCH, samples: 1800, doValidation: true });
    // Training accuracy from the workers' batches, as tfjs' acc.
    const acc = history.history.acc ?? [];
    expect(acc).toHaveLength(3);
    for (const a of acc) expect(a).toBeGreaterThanOrEqual(0);
    expect(acc[2]).toBeGreaterThan(0.8);
    const keys = 'acc,loss,val_acc,val_loss';
    expect(calls).toEqual(['trainBegin', 'epochBegin 0', `epochEnd 0 ${keys}`, 'epochBegin 1', `epochEnd 1 ${keys}`, 'epochBegin 2', `epochEnd 2 ${keys}`, 'trainEnd']);
    // 1800 training samples in batches of 50 per worker, 2 workers: 18 steps of 100 samples per epoch.
    expect(batches).toHaveLength(18 * 3);
    expect(batches.map((b) => `${b.epoch}:${b.batch}`)).toEqual([0, 1, 2].flatMap((e) => Array.from({ length: 18 }, (_, i) => `${e}:${i}`)));
    for (const b of batches) expect(b.logs).toMatchObject({ batch: b.batch, size: 2 * BATCH, loss: expect.any(Number) as number, acc: expect.any(Number) as number });
    const after = flatWeights(model);
    expect(after.some((v, i) => v !== before[i])).toBe(true);
    expect(await accuracyOf(model, heldOut.x, heldOut.y)).toBeGreaterThan(0.9);
    expect(childPids()).toEqual([]);
  });

  it('stops when aborted after the first epoch: rejects with DTRAIN_FIT_ABORTED, the model holds that point\'s weights, no process left', async () => {
    const model = mlp(tf.train.sgd(0.1));
    const before = flatWeights(model);
    const controller = new AbortController();
    const ended: number[] = [];
    const run = fit(model, data.x, data.y, {
      epochs: 50,
      batchSize: BATCH,
      backend: 'wasm',
      signal: controller.signal,
      callbacks: {
        onEpochEnd: (e) => {
          ended.push(e);
          controller.abort();
        },
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'FitError', code: FitErrorCode.ABORTED });
    expect(ended.length).toBeGreaterThanOrEqual(1);
    expect(ended.length).toBeLessThan(50);
    expect(flatWeights(model).some((v, i) => v !== before[i])).toBe(true);
    expect(childPids()).toEqual([]);
  });

  it("rejects with a callback's own error (the job stopped at the next step boundary), no process left", async () => {
    const boom = new RangeError('callback failed');
    const onBatchEnd = (batch: number): void => {
      if (batch === 3) throw boom;
    };
    const run = fit(mlp(), data.x, data.y, { epochs: 50, batchSize: BATCH, backend: 'wasm', callbacks: { onBatchEnd } });
    await expect(run).rejects.toBe(boom);
    expect(childPids()).toEqual([]);
  });

  it('fitDataset reads an iterable of {xs, ys} batches once (batchesPerEpoch of them); model.stopTraining in a callback ends it normally', async () => {
    const model = mlp();
    const batchesOf = function* (): Generator<{ xs: tf.Tensor; ys: tf.Tensor }> {
      for (let i = 0; i < N; i += 100) yield { xs: tf.tensor2d(data.x.slice(i * 4, (i + 100) * 4), [100, 4]), ys: tf.tensor1d(data.y.slice(i, i + 100)) };
    };
    const history = await fitDataset(model, batchesOf(), {
      epochs: 20,
      batchesPerEpoch: 16,
      batchSize: BATCH,
      validationData: [heldOut.x, heldOut.y],
      backend: 'wasm',
      callbacks: {
        onEpochEnd: (epoch) => {
          if (epoch === 1) model.stopTraining = true;
        },
      },
    });
    expect(history.epoch).toEqual([0, 1]);
    expect(history.params).toMatchObject({ samples: 1600 });
    expect(history.history.val_loss).toHaveLength(2);
    expect(await accuracyOf(model, heldOut.x, heldOut.y)).toBeGreaterThan(0.8);
    expect(childPids()).toEqual([]);
  });

  it("continues from the model's own weights and writes the result back by name (a learning rate of ~0 leaves them as they were)", async () => {
    const model = mlp(tf.train.sgd(1e-9));
    const before = flatWeights(model);
    const tensorsBefore = tf.memory().numTensors;
    await fit(model, data.x.subarray(0, 400 * 4), data.y.subarray(0, 400), { epochs: 1, batchSize: 100, workers: 1, backend: 'wasm' });
    // The coordinator's own copy of the model is disposed when its job ends: a fit call leaves no tensors behind.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const after = flatWeights(model);
    expect(after).toHaveLength(before.length);
    const maxDiff = after.reduce((m, v, i) => Math.max(m, Math.abs(v - before[i]!)), 0);
    expect(maxDiff).toBeLessThan(1e-5);
    expect(childPids()).toEqual([]);
  });
});

describe('fit with local SGD and a 16-bit wire', () => {
  it('localSteps 4 with bfloat16 gradients: trains, each epoch of 2 workers a quarter of the exchanges, and leaves no process', async () => {
    const model = mlp();
    const steps: number[] = [];
    const history = await fit(model, data.x, data.y, {
      epochs: 3,
      batchSize: BATCH,
      backend: 'wasm',
      localSteps: 4,
      innerState: 'reset',
      wire: 'bfloat16',
      callbacks: { onBatchEnd: (batch) => void steps.push(batch) },
    });
    expect(history.history['loss']).toHaveLength(3);
    const loss = history.history['loss'] as number[];
    expect(loss[2]).toBeLessThan(loss[0] as number);
    expect(await accuracyOf(model, heldOut.x, heldOut.y)).toBeGreaterThan(0.8);
    // 2,000 samples in batches of BATCH per worker: a round takes 4 batches from each of the 2 workers.
    expect(steps.length).toBe(3 * Math.ceil(Math.ceil(N / BATCH) / 8));
    expect(childPids()).toEqual([]);
  });
});

describe('fit({ workers: { listen } }) serves workers started elsewhere', () => {
  it('trains with a `dtrain worker` that connects with the token, keeps outDir, and resumes from it', async () => {
    const tmp = tempDir('fit-listen');
    const outDir = join(tmp.dir, 'run');
    const workers: Proc[] = [];
    const listen = {
      port: 0,
      host: '127.0.0.1',
      token: 'fit-test-token',
      onListening: (url: string) => void workers.push(dtrain(['worker', '--coordinator', url, '--backend', 'wasm'], { DTRAIN_TOKEN: 'fit-test-token' })),
    };
    try {
      const model = mlp();
      const first = await fit(model, data.x, data.y, { epochs: 1, batchSize: 100, workers: { listen }, outDir, backend: 'wasm' });
      expect(first.epoch).toEqual([0]);
      expect(JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8'))).toMatchObject({ state: 'done', epochs: 1 });
      expect(existsSync(join(outDir, 'checkpoints', 'LATEST'))).toBe(true);
      // The worker exits by itself when told the job is done.
      expect(await workers[0]!.exited).toEqual({ code: 0, signal: null });
      const resumed = await fit(model, data.x, data.y, { epochs: 2, batchSize: 100, workers: { listen }, outDir, resume: true, backend: 'wasm' });
      expect(resumed.epoch).toEqual([1]);
      expect(await workers[1]!.exited).toEqual({ code: 0, signal: null });
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      tmp.cleanup();
    }
  });
});

describe('fit refuses bad input before any worker process starts', () => {
  class Scale extends tfl.layers.Layer {
    static className = 'DtrainTestScale';
    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return tf.mul(Array.isArray(inputs) ? inputs[0]! : inputs, 2);
    }
  }
  tf.serialization.registerClass(Scale);

  const cases: { name: string; code: FitErrorCode; message: RegExp; run: () => Promise<unknown> }[] = [
    {
      name: 'a model that is not compiled',
      code: FitErrorCode.NOT_COMPILED,
      message: /not compiled/,
      run: () => {
        const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 3, inputShape: [4] })] });
        return fit(model, data.x, data.y);
      },
    },
    { name: 'an optimizer without a dtrain counterpart', code: FitErrorCode.OPTIMIZER, message: /Adagrad.*SGD/, run: () => fit(mlp(tf.train.adagrad(0.1)), data.x, data.y) },
    {
      name: 'a loss function',
      code: FitErrorCode.LOSS,
      message: /function/,
      run: () => {
        const model = mlp();
        model.compile({ optimizer: 'sgd', loss: (a: tf.Tensor, b: tf.Tensor) => tf.losses.meanSquaredError(a, b) });
        return fit(model, data.x, data.y);
      },
    },
    { name: 'x and y of different sample counts', code: FitErrorCode.SAMPLE_COUNT, message: /2000 samples but y has 1999/, run: () => fit(mlp(), data.x, data.y.subarray(1)) },
    { name: 'x that does not fit the input shape', code: FitErrorCode.SHAPE, message: /x has shape \[2000, 2, 2\]/, run: () => fit(mlp(), tf.tensor3d(data.x, [N, 2, 2]), data.y) },
    {
      name: 'a custom layer',
      code: FitErrorCode.CUSTOM_LAYER,
      message: /DtrainTestScale.*custom layers/,
      run: () => {
        const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 3, inputShape: [4], activation: 'softmax' }), new Scale({})] });
        model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
        return fit(model, data.x, data.y);
      },
    },
    { name: 'resume without outDir', code: FitErrorCode.RESUME_NEEDS_OUT_DIR, message: /outDir/, run: () => fit(mlp(), data.x, data.y, { resume: true }) },
    { name: 'shuffle not a boolean', code: FitErrorCode.ARGUMENT, message: /shuffle must be true or false/, run: () => fit(mlp(), data.x, data.y, { shuffle: 'no' as unknown as boolean }) },
    { name: 'localSteps 0', code: FitErrorCode.ARGUMENT, message: /^fit: localSteps: expected a positive integer, got 0$/, run: () => fit(mlp(), data.x, data.y, { localSteps: 0 }) },
    { name: 'an outer optimizer without a learning rate', code: FitErrorCode.ARGUMENT, message: /^fit: outerOptimizer\.learningRate: required$/, run: () => fit(mlp(), data.x, data.y, { localSteps: 4, outerOptimizer: { name: 'sgd' } }) },
    { name: 'localSteps beyond an epoch', code: FitErrorCode.ARGUMENT, message: /^fit: localSteps: 100 batches per round, but an epoch has only 63/, run: () => fit(mlp(), data.x, data.y, { localSteps: 100 }) },
    { name: 'an unknown wire format', code: FitErrorCode.ARGUMENT, message: /^fit: wire: expected one of/, run: () => fit(mlp(), data.x, data.y, { wire: 'int8' }) },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.code}`, async () => {
      const { result, seen } = await watchChildren(c.run);
      expect(result.status).toBe('rejected');
      const error = (result as PromiseRejectedResult).reason as FitError;
      expect(error).toBeInstanceOf(FitError);
      expect(error.code).toBe(c.code);
      expect(error.message).toMatch(c.message);
      expect(seen.size).toBe(0);
    });
  }
});
