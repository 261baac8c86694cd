import { describe, expect, it } from 'vitest';
import { steadyRate, type StepPoint } from './steady-rate.js';

/** Steps 1..n of 64 samples, the first `slow` taking 1 s each and the rest 0.01 s. */
function series(n: number, slow: number): StepPoint[] {
  const points: StepPoint[] = [];
  let t = 0;
  for (let step = 1; step <= n; step += 1) {
    t += step <= slow ? 1 : 0.01;
    points.push({ step, t, samples: 64 });
  }
  return points;
}

describe('steadyRate', () => {
  it('leaves the warm-up steps out', () => {
    // Past step 20 of 100 every step takes 0.01 s: 6,400 samples/s, whatever the slow start cost.
    expect(steadyRate(series(100, 10))).toBeCloseTo(6400, 6);
    expect(steadyRate(series(100, 10), 0)).toBeCloseTo((99 * 64) / (9 + 90 * 0.01), 6);
  });
  it('counts merged points by their samples', () => {
    const points = [
      { step: 2, t: 1, samples: 128 },
      { step: 4, t: 2, samples: 128 },
      { step: 8, t: 4, samples: 256 },
    ];
    expect(steadyRate(points, 0.5)).toBe(256 / 2);
  });
  it('is undefined without two points past the warm-up', () => {
    expect(steadyRate([])).toBeUndefined();
    expect(steadyRate([{ step: 1, t: 1, samples: 64 }])).toBeUndefined();
    expect(steadyRate([{ step: 1, t: 1, samples: 64 }, { step: 5, t: 2, samples: 64 }], 0.9)).toBeUndefined();
  });
});
