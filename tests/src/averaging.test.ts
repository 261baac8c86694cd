import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dtrain, freePort, syntheticJob, tempDir, waitFor, writeJob, getJson } from './harness.js';
import { FakeWorker } from './fake-worker.js';
import type { WelcomeMessage } from '@dtrain/protocol';

/**
 * A real `dtrain coordinator` for `config` and two test-played workers
 * that joined it (ids 0 and 1); `stop` kills the coordinator.
 */
async function coordinatorWithTwoWorkers(config: string, outDir: string, token: string): Promise<{ port: number; a: FakeWorker; b: FakeWorker; welcomes: [WelcomeMessage, WelcomeMessage]; stop: () => Promise<void> }> {
  const port = await freePort();
  const coordinator = dtrain(['coordinator', '--config', config, '--port', String(port), '--host', '127.0.0.1', '--out', outDir, '--backend', 'cpu'], { DTRAIN_TOKEN: token });
  const stop = async (): Promise<void> => {
    coordinator.child.kill('SIGKILL');
    await coordinator.exited;
  };
  try {
    await waitFor('readyz', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok ? true : undefined));
    const a = await FakeWorker.connect(`ws://127.0.0.1:${port}`, token);
    a.hello(token);
    const welcomeA = await a.welcome();
    const b = await FakeWorker.connect(`ws://127.0.0.1:${port}`, token);
    b.hello(token);
    const welcomeB = await b.welcome();
    return { port, a, b, welcomes: [welcomeA, welcomeB], stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Two test-played workers push known gradients for batches of unequal size;
 * the weights the coordinator broadcasts must be w - lr * (sample-weighted
 * mean of the gradients), i.e. SGD applied once to the weighted average.
 */
describe('gradient averaging across workers (real coordinator process)', () => {
  const tmp = tempDir('averaging');
  afterAll(() => tmp.cleanup());

  it('applies the sample-weighted mean of the pushed gradients', async () => {
    const lr = 0.5;
    const config = writeJob(
      tmp.dir,
      syntheticJob('averaging', {
        model: { layers: [{ type: 'dense', units: 2, inputShape: [3], activation: 'linear' }] },
        dataset: { numSamples: 40, featureShape: [3], numClasses: 2, validationSplit: 0 },
        training: { epochs: 2, batchSize: 32, optimizer: { name: 'sgd', learningRate: lr }, loss: 'meanSquaredError' },
        cluster: { minWorkers: 2, stepTimeoutMs: 20_000 },
      }),
    );
    const token = 'averaging-token';
    const { port, a, b, welcomes, stop } = await coordinatorWithTwoWorkers(config, join(tmp.dir, 'out'), token);
    const [welcomeA, welcomeB] = welcomes;
    try {
      expect([welcomeA.workerId, welcomeB.workerId]).toEqual([0, 1]);
      const w0 = (await a.weights(welcomeA.version)).weights.slice();
      const size = w0.length;
      expect(size).toBe(3 * 2 + 2);

      const [asgA, asgB] = await Promise.all([a.assignment(), b.assignment()]);
      const nA = asgA.sampleIds.length;
      const nB = asgB.sampleIds.length;
      expect([nA, nB].sort((x, y) => x - y)).toEqual([8, 32]);
      const gA = Float32Array.from({ length: size }, () => Math.random() * 2 - 1);
      const gB = Float32Array.from({ length: size }, () => Math.random() * 2 - 1);
      const push = (w: FakeWorker, id: number, asg: typeof asgA, g: Float32Array): void => w.push(id, asg, g);
      push(a, 0, asgA, gA);
      push(b, 1, asgB, gB);
      const w1 = (await a.weights(1)).weights;
      const wB = (await b.weights(1)).weights;
      expect(Array.from(wB)).toEqual(Array.from(w1));
      for (let i = 0; i < size; i += 1) {
        const mean = (nA * gA[i]! + nB * gB[i]!) / (nA + nB);
        expect(w1[i]).toBeCloseTo(w0[i]! - lr * mean, 5);
      }
      const status = await getJson<{ samples: number; version: number }>(`http://127.0.0.1:${port}/status`, token);
      expect(status.samples).toBe(40);
      expect(status.version).toBe(1);
      a.close();
      b.close();
    } finally {
      await stop();
    }
  });

  /**
   * The step's training accuracy is the sample-weighted mean of what the
   * workers reported with their gradients (32 samples at 0.25 and 8 at 1 make
   * 0.4, exactly), and a job whose training.metrics leave accuracy out
   * exports none, whatever the workers send.
   */
  it.each([
    ['default metrics', undefined, 0.4],
    ['training.metrics: []', [], undefined],
  ] as const)('training accuracy of a step, %s', async (name, metrics, expected) => {
    const job = `train-accuracy-${metrics === undefined ? 'default' : 'none'}`;
    const config = writeJob(
      tmp.dir,
      syntheticJob(job, {
        model: { layers: [{ type: 'dense', units: 2, inputShape: [3], activation: 'softmax' }] },
        dataset: { numSamples: 40, featureShape: [3], numClasses: 2, validationSplit: 0 },
        training: { epochs: 2, batchSize: 32, ...(metrics === undefined ? {} : { metrics }) },
        cluster: { minWorkers: 2, stepTimeoutMs: 20_000 },
      }),
    );
    const token = 'accuracy-token';
    const { port, a, b, welcomes, stop } = await coordinatorWithTwoWorkers(config, join(tmp.dir, job), token);
    const [welcomeA, welcomeB] = welcomes;
    try {
      const size = (await a.weights(welcomeA.version)).weights.length;
      await b.weights(welcomeB.version);
      const [asgA, asgB] = await Promise.all([a.assignment(), b.assignment()]);
      const zero = new Float32Array(size);
      // Whichever got the 32-sample batch reports 0.25, the other 1.
      a.push(0, asgA, zero, { accuracy: asgA.sampleIds.length === 32 ? 0.25 : 1 });
      b.push(1, asgB, zero, { accuracy: asgB.sampleIds.length === 32 ? 0.25 : 1 });
      await a.weights(1);
      const series = await waitFor('the committed step in /metrics', async () => {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${token}` } });
        const body = await res.text();
        return /^dtrain_steps_total 1$/m.test(body) ? body : undefined;
      });
      const line = series.split('\n').find((l) => l.startsWith('dtrain_accuracy{') && l.includes('split="train"'));
      if (expected === undefined) expect(line, name).toBeUndefined();
      else expect(Number(line?.split(' ').at(-1))).toBe(expected);
      a.close();
      b.close();
    } finally {
      await stop();
    }
  });
});
