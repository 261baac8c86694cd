import { DataError } from './data-error.js';

/** What a {@link ByteLru} has done since it was made. */
export interface ByteLruStats {
  readonly hits: number;
  readonly misses: number;
  /** Entries dropped to make room (not replacements or deletes). */
  readonly evictions: number;
  /** Bytes held now; never above maxBytes. */
  readonly bytes: number;
  readonly entries: number;
}

/**
 * A least-recently-used cache bounded by bytes, not entries: shards and
 * samples differ in size by orders of magnitude, so a count would bound
 * nothing. `get` and `set` make an entry the most recent; `has` does not.
 * Values are kept by reference.
 */
export class ByteLru<K, V extends { readonly byteLength: number } = Uint8Array> {
  /** The budget in bytes. */
  readonly maxBytes: number;
  // A Map iterates in insertion order: re-inserting on use keeps the oldest first.
  readonly #entries = new Map<K, V>();
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  /** @param maxBytes the budget in bytes (a non-negative integer; 0 caches nothing). */
  constructor(maxBytes: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new DataError('DTRAIN_DATA_OPTIONS', `byte cache: maxBytes: expected a non-negative integer, got ${maxBytes}`);
    }
    this.maxBytes = maxBytes;
  }

  /** The value under `key`, now the most recent; undefined (a miss) when not held. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  /** Whether `key` is held; neither counts nor changes recency. */
  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /**
   * Stores `value` as the most recent entry, evicting the least recent ones
   * until it fits. A value larger than the whole budget is not stored (and
   * drops an older value under the same key, which would be stale): returns
   * false then.
   */
  set(key: K, value: V): boolean {
    this.delete(key);
    if (value.byteLength > this.maxBytes) return false;
    for (const [oldKey, old] of this.#entries) {
      if (this.#bytes + value.byteLength <= this.maxBytes) break;
      this.#entries.delete(oldKey);
      this.#bytes -= old.byteLength;
      this.#evictions++;
    }
    this.#entries.set(key, value);
    this.#bytes += value.byteLength;
    return true;
  }

  /** Drops `key`; true when it was held. */
  delete(key: K): boolean {
    const old = this.#entries.get(key);
    if (old === undefined) return false;
    this.#entries.delete(key);
    this.#bytes -= old.byteLength;
    return true;
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  get stats(): ByteLruStats {
    return { hits: this.#hits, misses: this.#misses, evictions: this.#evictions, bytes: this.#bytes, entries: this.#entries.size };
  }
}
