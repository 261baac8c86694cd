/** A wake-up for loops that wait on membership changes; `wait` resolves true when notified. */
export class Signal {
  #waiters: ((notified: boolean) => void)[] = [];

  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake(true);
  }

  /** Resolves true on the next `notify`, false after `timeoutMs`. */
  wait(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      const wake = (notified: boolean): void => {
        clearTimeout(timer);
        resolve(notified);
      };
      this.#waiters.push(wake);
    });
  }
}
