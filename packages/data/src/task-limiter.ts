/** Runs an async task when a slot is free; resolves or rejects as the task does. */
export type TaskLimiter = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * At most `limit` tasks running at once, the rest started in the order they
 * were given as slots free up: bounds work (decoders, open files) that many
 * callers start together without making each caller wait for the others.
 */
export function createTaskLimiter(limit: number): TaskLimiter {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running < limit) running++;
    // A finishing task hands its slot straight to the next waiting one: `running` stays as it is.
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next === undefined) running--;
      else next();
    }
  };
}
