import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dtrain, freePort, syntheticJob, tempDir, waitFor, writeJob, getJson } from './harness.js';
import { FakeWorker } from './fake-worker.js';

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
    const port = await freePort();
    const token = 'averaging-token';
    const coordinator = dtrain(['coordinator', '--config', config, '--port', String(port), '--host', '127.0.0.1', '--out', join(tmp.dir, 'out'), '--backend', 'cpu'], {
      DTRAIN_TOKEN: token,
    });
    try {
      await waitFor('readyz', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok ? true : undefined));
      const a = await FakeWorker.connect(`ws://127.0.0.1:${port}`, token);
      a.hello(token);
      const welcomeA = await a.welcome();
      const b = await FakeWorker.connect(`ws://127.0.0.1:${port}`, token);
      b.hello(token);
      const welcomeB = await b.welcome();
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
      coordinator.child.kill('SIGKILL');
      await coordinator.exited;
    }
  });
});
