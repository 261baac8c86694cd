import { describe, expect, it } from 'vitest';
import { StragglerPolicy } from './straggler-policy.js';

const feed = (p: StragglerPolicy, times: Record<number, number>, rounds: number): void => {
  for (let r = 0; r < rounds; r += 1) for (const [id, s] of Object.entries(times)) p.observe(Number(id), s);
};

describe('StragglerPolicy', () => {
  it('benches a worker slower than ratio × the median of the others, and probes it periodically', () => {
    const p = new StragglerPolicy({ ratio: 3, minWorkers: 1, probeEverySteps: 5 });
    feed(p, { 0: 0.02, 1: 0.021, 2: 0.1 }, 3);
    expect(p.select([0, 1, 2], 10)).toEqual([0, 1]);
    expect(p.isBenched(2)).toBe(true);
    expect([11, 12, 13, 14].map((s) => p.select([0, 1, 2], s))).toEqual([[0, 1], [0, 1], [0, 1], [0, 1]]);
    expect(p.select([0, 1, 2], 15)).toEqual([0, 1, 2]);
  });

  it('reinstates a benched worker once its probes show it back within the ratio', () => {
    const p = new StragglerPolicy({ ratio: 2, minWorkers: 1, probeEverySteps: 2 });
    feed(p, { 0: 0.01, 1: 0.01, 2: 0.05 }, 4);
    expect(p.select([0, 1, 2], 0)).toEqual([0, 1]);
    feed(p, { 2: 0.01 }, 10);
    expect(p.select([0, 1, 2], 1)).toEqual([0, 1, 2]);
    expect(p.isBenched(2)).toBe(false);
  });

  it('never benches below minWorkers, nor judges before enough samples', () => {
    const p = new StragglerPolicy({ ratio: 2, minWorkers: 2 });
    feed(p, { 0: 0.01, 1: 0.5 }, 5);
    expect(p.select([0, 1], 0)).toEqual([0, 1]);
    const q = new StragglerPolicy({ ratio: 2, minWorkers: 1 });
    feed(q, { 0: 0.01, 1: 0.5 }, 2);
    expect(q.select([0, 1], 0)).toEqual([0, 1]);
    feed(q, { 0: 0.01, 1: 0.5 }, 1);
    expect(q.select([0, 1], 1)).toEqual([0]);
  });

  it('forgets a worker that left', () => {
    const p = new StragglerPolicy({ ratio: 2, minWorkers: 1 });
    feed(p, { 0: 0.01, 1: 0.01, 2: 0.2 }, 3);
    expect(p.select([0, 1, 2], 0)).toEqual([0, 1]);
    p.forget(2);
    expect(p.isBenched(2)).toBe(false);
    expect(p.select([0, 1, 2], 1)).toEqual([0, 1, 2]);
  });
});
