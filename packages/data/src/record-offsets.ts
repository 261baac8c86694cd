import type { ByteSource } from './byte-source.js';

/**
 * Byte offsets of a text shard's records, found in one streaming pass: 8
 * bytes a record (a Float64Array, exact to 2^53 bytes), never the text.
 */
export class RecordOffsets {
  #data = new Float64Array(1024);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(offset: number): void {
    if (this.#length === this.#data.length) {
      const next = new Float64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.#length++] = offset;
  }

  /** A copy holding exactly the offsets pushed. */
  toArray(): Float64Array {
    return this.#data.slice(0, this.#length);
  }
}

/** How much of a shard one streaming read takes: large enough to amortise a round trip, small enough to stay off the memory graph. */
export const SCAN_BLOCK_BYTES = 1 << 20;

/** Called per line with its bytes (without the `\n`), the byte offset where it starts and its 1-based number. */
export type LineHandler = (bytes: Uint8Array, start: number, line: number) => void;

/**
 * Streams a shard block by block and hands over each `\n`-separated line.
 * Only the current block and a line that spans blocks are held. A `\n` byte
 * never occurs inside a UTF-8 multi-byte sequence, so splitting bytes is safe.
 */
export async function scanLines(source: ByteSource, onLine: LineHandler, blockBytes = SCAN_BLOCK_BYTES): Promise<void> {
  const size = await source.size();
  let pending: Uint8Array[] = [];
  let lineStart = 0;
  let line = 1;
  for (let offset = 0; offset < size; offset += blockBytes) {
    const block = await source.read(offset, Math.min(blockBytes, size - offset));
    let from = 0;
    for (let nl = block.indexOf(0x0a, from); nl >= 0; nl = block.indexOf(0x0a, from)) {
      const piece = block.subarray(from, nl);
      onLine(pending.length === 0 ? piece : concat([...pending, piece]), lineStart, line);
      pending = [];
      line++;
      lineStart = offset + nl + 1;
      from = nl + 1;
    }
    if (from < block.length) pending.push(block.subarray(from));
  }
  if (pending.length > 0) onLine(concat(pending), lineStart, line);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}
