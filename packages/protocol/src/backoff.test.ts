import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    const top = (attempt: number): number => backoffDelay(attempt, { baseMs: 100, capMs: 5000, random: () => 0.999999 });
    expect([0, 1, 2, 3, 4, 5, 6, 10].map(top)).toEqual([99, 199, 399, 799, 1599, 3199, 4999, 4999]);
    expect(backoffDelay(7, { baseMs: 100, capMs: 5000, random: () => 0 })).toBe(0);
  });

  it('stays within [0, cap] for any attempt and random draw', () => {
    for (let i = 0; i < 1000; i += 1) {
      const d = backoffDelay(Math.floor(Math.random() * 100), { baseMs: 50, capMs: 2000 });
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(2000);
    }
  });
});
