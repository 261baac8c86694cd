import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, FaultSchedule, seededRandom } from './chaos-schedule.js';

describe('FaultSchedule', () => {
  it('is the same sequence for the same seed and another for another seed', () => {
    const take = (seed: number) => {
      const s = new FaultSchedule({ seed, meanIntervalMs: 10_000, minIntervalMs: 4_000 });
      return Array.from({ length: 30 }, () => s.next());
    };
    expect(take(7)).toEqual(take(7));
    expect(take(7)).not.toEqual(take(8));
  });

  it('spaces recurring faults by the mean, never below the minimum, deals every kind once per four, and injects each once-fault once', () => {
    const s = new FaultSchedule({ seed: 1, meanIntervalMs: 10_000, minIntervalMs: 4_000 });
    const faults = Array.from({ length: 4002 }, () => s.next());
    const recurring = faults.filter((f) => (FAULT_KINDS as readonly string[]).includes(f.kind));
    expect(recurring).toHaveLength(4000);
    const mean = recurring.reduce((sum, f) => sum + f.delayMs, 0) / recurring.length;
    expect(mean).toBeGreaterThan(9_600);
    expect(mean).toBeLessThan(10_400);
    expect(Math.min(...recurring.map((f) => f.delayMs))).toBeGreaterThanOrEqual(4_000);
    for (const kind of FAULT_KINDS) expect(recurring.filter((f) => f.kind === kind).length).toBe(1000);
    // Every run of four holds each kind once, in an order that varies.
    for (let i = 0; i < recurring.length; i += 4) expect(new Set(recurring.slice(i, i + 4).map((f) => f.kind)).size).toBe(4);
    expect(new Set(Array.from({ length: 100 }, (_, i) => recurring.slice(i * 4, i * 4 + 4).map((f) => f.kind).join())).size).toBeGreaterThan(10);
    expect(faults.filter((f) => f.kind === 'garbage-frames').map((f) => faults.indexOf(f))).toEqual([2]);
    expect(faults.filter((f) => f.kind === 'wrong-token').map((f) => faults.indexOf(f))).toEqual([5]);
  });

  it('refuses a mean interval not above the minimum', () => {
    expect(() => new FaultSchedule({ seed: 1, meanIntervalMs: 3000, minIntervalMs: 3000 })).toThrow(/must exceed the minimum/);
  });

  it('seededRandom is uniform enough in [0, 1)', () => {
    const r = seededRandom(42);
    const xs = Array.from({ length: 10_000 }, r);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((a, b) => a + b, 0) / xs.length).toBeCloseTo(0.5, 1);
  });
});
