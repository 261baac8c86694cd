import { describe, expect, it } from 'vitest';
import { IdleClock } from './idle-clock.js';

describe('IdleClock', () => {
  it('measures from start to stop minus the work done in between, in seconds', () => {
    const clock = new IdleClock();
    clock.start(1000);
    clock.busy(40);
    clock.busy(10);
    expect(clock.stop(1250)).toBe(0.2);
  });

  it('has nothing to report before the first gradients, after a reset, or twice for one interval', () => {
    const clock = new IdleClock();
    clock.busy(5);
    expect(clock.stop(10)).toBeUndefined();
    clock.start(0);
    clock.reset();
    expect(clock.stop(100)).toBeUndefined();
    clock.start(0);
    expect(clock.stop(30)).toBe(0.03);
    expect(clock.stop(60)).toBeUndefined();
  });

  it('starts each interval afresh and never goes negative', () => {
    const clock = new IdleClock();
    clock.start(0);
    clock.busy(500);
    expect(clock.stop(100)).toBe(0);
    clock.start(200);
    expect(clock.stop(260)).toBe(0.06);
  });
});
