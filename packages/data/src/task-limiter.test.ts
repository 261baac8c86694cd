import { describe, expect, it } from 'vitest';
import { createTaskLimiter } from './task-limiter.js';

describe('createTaskLimiter', () => {
  it('runs at most `limit` tasks at once, starts them in order, and passes results and failures through', async () => {
    const limit = createTaskLimiter(3);
    let running = 0;
    let max = 0;
    const started: number[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        limit(async () => {
          started.push(i);
          running++;
          max = Math.max(max, running);
          await new Promise((resolve) => setTimeout(resolve, (i * 5) % 7));
          running--;
          if (i === 4) throw new Error('task 4 fails');
          return i * 10;
        }),
      ),
    );
    expect(max).toBe(3);
    expect(started).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([0, 10, 20, 30, 'task 4 fails', 50, 60, 70, 80, 90, 100, 110]);
    // A failure frees its slot: later tasks still run.
    expect(await limit(async () => 'after')).toBe('after');
  });
});
