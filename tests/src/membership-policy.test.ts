import { afterAll, describe, expect, it } from 'vitest';
import type { AssignmentMessage } from '@dtrain/protocol';
import { tempDir, writeJob } from './harness.js';
import { FakeWorker } from './fake-worker.js';
import { Cluster, elasticJob } from './cluster.js';

/** Membership rules played against a real coordinator process by test-driven workers. */
describe('membership policy', () => {
  const tmp = tempDir('membership');
  afterAll(() => tmp.cleanup());

  const join = async (c: Cluster): Promise<{ w: FakeWorker; id: number }> => {
    const w = await FakeWorker.connect(c.url, c.token);
    w.hello(c.token);
    const first = await Promise.race([w.next('welcome'), w.next('standby')]);
    return { w, id: first.type === 'welcome' ? first.workerId : -1 };
  };
  const push = (w: FakeWorker, id: number, asg: AssignmentMessage, g: Float32Array): void => w.push(id, asg, g);

  it('scaleLearningRate: linear scales the step by the number of workers in it', async () => {
    const lr = 0.05;
    const c = new Cluster(writeJob(tmp.dir, elasticJob('lr-scale', { minWorkers: 1 }, { optimizer: { name: 'sgd', learningRate: lr }, scaleLearningRate: 'linear' }), 'lr.yaml'), tmp.dir);
    try {
      await c.startCoordinator();
      const a = await join(c);
      const step0 = await a.w.assignment();
      const b = await join(c); // welcomed before step 0 commits, so it takes part in step 1
      const size = step0.sampleIds.length;
      const g = Float32Array.from({ length: (await a.w.weights(0)).weights.length }, () => Math.random() - 0.5);
      push(a.w, a.id, step0, g);
      const v1 = (await a.w.weights(1)).weights;
      const w0 = (await a.w.weights(0)).weights;
      for (const i of [0, 5, 9]) expect(v1[i]).toBeCloseTo(w0[i]! - lr * g[i]!, 6);
      const [sa, sb] = await Promise.all([a.w.next('assignment', a.w.messages.indexOf(step0) + 1), b.w.assignment()]);
      expect([sa.step, sb.step, sa.sampleIds.length, sb.sampleIds.length]).toEqual([1, 1, size, size]);
      push(a.w, a.id, sa, g);
      push(b.w, b.id, sb, g);
      const v2 = (await a.w.weights(2)).weights;
      for (const i of [0, 5, 9]) expect(v2[i]).toBeCloseTo(v1[i]! - 2 * lr * g[i]!, 5);
      a.w.close();
      b.w.close();
    } finally {
      await c.stop();
    }
  });

  it('above cluster.maxWorkers a worker is put on standby, and promoted when a place frees up', async () => {
    const c = new Cluster(writeJob(tmp.dir, elasticJob('max-workers', { minWorkers: 1, maxWorkers: 1 }), 'max.yaml'), tmp.dir);
    try {
      await c.startCoordinator();
      const a = await join(c);
      expect(a.id).toBe(0);
      const b = await join(c);
      expect(b.id).toBe(-1);
      expect((await b.w.next('standby')).reason).toBe('cluster.maxWorkers=1 reached');
      const standing = await c.status();
      expect(standing.workers.map((w) => w.state).sort()).toEqual(['standby', 'training']);
      a.w.close();
      const promoted = await b.w.welcome();
      expect(promoted.version).toBeGreaterThanOrEqual(0);
      const asg = await b.w.assignment();
      expect(asg.sampleIds.length).toBeGreaterThan(0);
      b.w.close();
    } finally {
      await c.stop();
    }
  });
});
