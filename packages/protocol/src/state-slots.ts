import { ProtocolError, ProtocolErrorCode } from './errors.js';
import type { ShardStateMessage } from './messages.js';

/**
 * A shard's state (its weights and optimizer arrays, named slots) travels
 * between coordinator and shard as shardState messages of at most one
 * chunk's elements each: setup (coordinator → shard) and snapshots (shard →
 * coordinator). Offsets are local to the shard's range.
 */

/** The shardState messages that carry `values` as slot `slot`, `chunkElements` at a time. */
export function* stateMessages(id: number, slot: string, values: Float32Array, chunkElements: number): Generator<ShardStateMessage> {
  if (!(Number.isSafeInteger(chunkElements) && chunkElements > 0)) throw new RangeError(`stateMessages: chunkElements must be a positive integer, got ${chunkElements}`);
  for (let offset = 0; offset < values.length; offset += chunkElements) {
    yield { type: 'shardState', id, slot, offset, values: values.subarray(offset, Math.min(values.length, offset + chunkElements)) };
  }
}

/**
 * Collects shardState messages of one setup or snapshot into named arrays
 * of `size` elements, and says when every slot is whole. Anything that
 * does not fit (an unknown slot, another id, values beyond the range, a
 * region sent twice) is a ProtocolError MALFORMED naming it.
 */
export class SlotCollector {
  readonly id: number;
  readonly size: number;
  readonly #arrays = new Map<string, Float32Array>();
  readonly #filled = new Map<string, number>();
  /** Slots are named by the sender as they come ('any'), or fixed up front. */
  readonly #open: boolean;

  readonly #make: (slot: string) => Float32Array;

  /**
   * @param slots the slots expected, or 'any' for whatever the sender names (a snapshot, whose optimizer arrays only the shard knows)
   * @param make where a slot's `size` elements go (e.g. a view of a bigger array the caller assembles); default a new array
   */
  constructor(id: number, slots: readonly string[] | 'any', size: number, make?: (slot: string) => Float32Array) {
    this.id = id;
    this.size = size;
    this.#open = slots === 'any';
    this.#make = make ?? (() => new Float32Array(size));
    for (const slot of slots === 'any' ? [] : slots) {
      if (this.#arrays.has(slot)) throw new ProtocolError(ProtocolErrorCode.MALFORMED, `state slot ${JSON.stringify(slot)} named twice`);
      this.#arrays.set(slot, this.#makeSlot(slot));
      this.#filled.set(slot, 0);
    }
  }

  #makeSlot(slot: string): Float32Array {
    const array = this.#make(slot);
    if (array.length !== this.size) throw new RangeError(`SlotCollector: the array for ${slot} holds ${array.length} elements, not ${this.size}`);
    return array;
  }

  /** Copies one message's values into place. */
  add(message: ShardStateMessage): void {
    const where = `shardState ${JSON.stringify(message.slot)} at ${message.offset}`;
    if (message.id !== this.id) throw new ProtocolError(ProtocolErrorCode.MALFORMED, `${where}: id ${message.id}, expected ${this.id}`);
    if (this.#open && !this.#arrays.has(message.slot)) {
      this.#arrays.set(message.slot, this.#makeSlot(message.slot));
      this.#filled.set(message.slot, 0);
    }
    const array = this.#arrays.get(message.slot);
    if (array === undefined) throw new ProtocolError(ProtocolErrorCode.MALFORMED, `${where}: no such slot (expected one of ${[...this.#arrays.keys()].join(', ')})`);
    const filled = this.#filled.get(message.slot) ?? 0;
    // Sent in order, back to back: anything else is a bug or a forgery, and would leave a hole.
    if (message.offset !== filled) throw new ProtocolError(ProtocolErrorCode.MALFORMED, `${where}: expected offset ${filled}`);
    if (message.offset + message.values.length > this.size) {
      throw new ProtocolError(ProtocolErrorCode.MALFORMED, `${where}: ${message.values.length} values run past the range's ${this.size} elements`);
    }
    array.set(message.values, message.offset);
    this.#filled.set(message.slot, filled + message.values.length);
  }

  /** True once every slot holds `size` elements. */
  get complete(): boolean {
    for (const filled of this.#filled.values()) if (filled !== this.size) return false;
    return true;
  }

  /** The slots' arrays; throws MALFORMED naming the first slot that is not whole. */
  take(): Map<string, Float32Array> {
    for (const [slot, filled] of this.#filled) {
      if (filled !== this.size) throw new ProtocolError(ProtocolErrorCode.MALFORMED, `state slot ${JSON.stringify(slot)}: ${filled} of ${this.size} elements arrived`);
    }
    return this.#arrays;
  }
}
