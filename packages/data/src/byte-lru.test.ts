import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteLru } from './byte-lru.js';
import { expectDataError } from './test-support.testkit.js';

type Op = { readonly kind: 'set'; readonly key: number; readonly size: number } | { readonly kind: 'get' | 'delete'; readonly key: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 9 }), size: fc.integer({ min: 0, max: 120 }) }),
  fc.record({ kind: fc.constantFrom('get' as const, 'delete' as const), key: fc.integer({ min: 0, max: 9 }) }),
);

/** The obvious model: a list, oldest first, evicted from the front. */
class Model {
  entries: { key: number; size: number }[] = [];
  constructor(readonly max: number) {}
  touch(key: number): boolean {
    const at = this.entries.findIndex((e) => e.key === key);
    if (at < 0) return false;
    this.entries.push(...this.entries.splice(at, 1));
    return true;
  }
  set(key: number, size: number): void {
    this.entries = this.entries.filter((e) => e.key !== key);
    if (size > this.max) return;
    while (this.bytes() + size > this.max) this.entries.shift();
    this.entries.push({ key, size });
  }
  bytes(): number {
    return this.entries.reduce((a, e) => a + e.size, 0);
  }
}

describe('ByteLru', () => {
  // Fresh random inputs each run (fast-check prints the seed and the shrunk case on failure).
  it('never holds more than its budget, keeps the newest entry that fits, and matches an LRU model', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.array(op, { maxLength: 80 }), (max, ops) => {
        const lru = new ByteLru<number>(max);
        const model = new Model(max);
        for (const o of ops) {
          if (o.kind === 'set') {
            const value = new Uint8Array(o.size);
            const stored = lru.set(o.key, value);
            model.set(o.key, o.size);
            expect(stored).toBe(o.size <= max);
            if (stored) {
              expect(lru.has(o.key)).toBe(true);
              expect(lru.get(o.key)).toBe(value);
              model.touch(o.key);
            } else {
              expect(lru.has(o.key)).toBe(false);
            }
          } else if (o.kind === 'get') {
            expect(lru.get(o.key) !== undefined).toBe(model.touch(o.key));
          } else {
            expect(lru.delete(o.key)).toBe(model.entries.some((e) => e.key === o.key));
            model.entries = model.entries.filter((e) => e.key !== o.key);
          }
          expect(lru.stats.bytes).toBeLessThanOrEqual(max);
          expect(lru.stats.bytes).toBe(model.bytes());
          expect(lru.stats.entries).toBe(model.entries.length);
          for (let key = 0; key < 10; key++) expect(lru.has(key)).toBe(model.entries.some((e) => e.key === key));
        }
      }),
    );
  });

  it('evicts the least recently used entry, counting hits, misses and evictions', () => {
    const lru = new ByteLru<string>(10);
    lru.set('a', new Uint8Array(4));
    lru.set('b', new Uint8Array(4));
    expect(lru.get('a')).toBeDefined(); // a is now newer than b
    lru.set('c', new Uint8Array(4)); // evicts b
    expect(lru.has('b')).toBe(false);
    expect(lru.has('a')).toBe(true);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.stats).toEqual({ hits: 1, misses: 1, evictions: 1, bytes: 8, entries: 2 });
  });

  it('does not store a value larger than the budget, and drops the stale one under its key', () => {
    const lru = new ByteLru<string, Float32Array>(16);
    lru.set('a', new Float32Array(2));
    expect(lru.set('a', new Float32Array(5))).toBe(false);
    expect(lru.has('a')).toBe(false);
    expect(lru.stats.bytes).toBe(0);
  });

  it('rejects a budget that is not a non-negative integer', async () => {
    await expectDataError(() => new ByteLru(-1), 'DTRAIN_DATA_OPTIONS', 'byte cache: maxBytes: expected a non-negative integer, got -1');
    await expectDataError(() => new ByteLru(1.5), 'DTRAIN_DATA_OPTIONS', /got 1\.5/);
  });
});
