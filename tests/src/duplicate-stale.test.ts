import { afterAll, describe, expect, it } from 'vitest';
import type { AssignmentMessage } from '@dtrain/protocol';
import { tempDir, writeJob } from './harness.js';
import { FakeWorker } from './fake-worker.js';
import { Cluster, elasticJob } from './cluster.js';

/** The same gradient delivered twice is applied once; a gradient for an old weights version is rejected and counted. */
describe('duplicate and stale gradients', () => {
  const tmp = tempDir('dup-stale');
  afterAll(() => tmp.cleanup());

  it('applies a duplicate once and rejects a stale push', async () => {
    const lr = 0.1;
    const c = new Cluster(writeJob(tmp.dir, elasticJob('dup-stale', {}, { optimizer: { name: 'sgd', learningRate: lr } })), tmp.dir);
    try {
      await c.startCoordinator();
      const w = await FakeWorker.connect(c.url, c.token);
      w.hello(c.token);
      const welcome = await w.welcome();
      const w0 = (await w.weights(welcome.version)).weights.slice();
      const g = Float32Array.from({ length: w0.length }, () => Math.random() - 0.5);
      const push = (asg: AssignmentMessage, version: number): void => w.push(welcome.workerId, asg, g, { version });

      const first = await w.assignment();
      push(first, first.version);
      push(first, first.version);
      const v1 = (await w.weights(1)).weights;
      for (const i of [0, 1, 2, w0.length - 1]) expect(v1[i]).toBeCloseTo(w0[i]! - lr * g[i]!, 6);

      // A push for an old version is rejected; it is the worker's answer for the step, so the
      // step commits nothing and the batch is handed out again at the same version.
      const second = await w.next('assignment', w.messages.indexOf(first) + 1);
      expect(second.version).toBe(1);
      push(second, 0);
      const third = await w.next('assignment', w.messages.indexOf(second) + 1);
      expect([third.version, third.batchId]).toEqual([1, second.batchId]);
      push(third, 1);
      const v2 = (await w.weights(2)).weights;
      for (const i of [0, 1, 2]) expect(v2[i]).toBeCloseTo(v1[i]! - lr * g[i]!, 6);
      const status = await c.status();
      expect(status.rejected.duplicate).toBe(1);
      expect(status.rejected.stale).toBe(1);
      w.close();
    } finally {
      await c.stop();
    }
  });
});
