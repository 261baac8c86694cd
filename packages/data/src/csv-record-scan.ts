import type { ByteSource } from './byte-source.js';
import { SCAN_BLOCK_BYTES } from './record-offsets.js';

/** Called per CSV record with its bytes (without its line end), its start offset and the 1-based line it starts on. */
export type CsvRecordBytesHandler = (bytes: Uint8Array, start: number, line: number) => void;

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

// Where the scanner is within a record, as parseCsv would be.
const CELL_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
/** A quote inside a quoted cell: closing it, or the first of a `""`. */
const QUOTE_IN_QUOTED = 3;

/**
 * Streams a CSV shard block by block and hands over each record's bytes:
 * the record boundaries parseCsv would find (RFC 4180: a line end inside a
 * quoted cell is part of the cell; a quote opens a cell only at its start;
 * LF, CRLF or CR end a record), with its line numbers, without holding more
 * than a block and one record. Every byte that matters is ASCII, so bytes
 * can be scanned before they are decoded. Blank records are handed over
 * too (parseCsv skips them); zero-length ones are not. A leading UTF-8
 * byte-order mark is skipped, as parseCsv does.
 */
export async function scanCsvRecords(source: ByteSource, onRecord: CsvRecordBytesHandler, blockBytes = SCAN_BLOCK_BYTES): Promise<void> {
  const size = await source.size();
  let state = CELL_START;
  let pending: Uint8Array[] = [];
  let recordStart = 0;
  let recordLine = 1;
  let line = 1;
  /** A CR was seen: it ends a line unless an LF follows (then the LF does), as parseCsv counts. */
  let pendingCR = false;
  const head = await source.read(0, Math.min(3, size));
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) recordStart = 3;
  for (let offset = recordStart; offset < size; offset += blockBytes) {
    const block = await source.read(offset, Math.min(blockBytes, size - offset));
    let from = 0;
    for (let i = 0; i < block.length; i++) {
      const c = block[i] as number;
      if (pendingCR) {
        pendingCR = false;
        if (c !== LF) line++;
      }
      if (offset + i === recordStart) recordLine = line;
      const endsRecord = state !== QUOTED && (c === CR || c === LF);
      if (c === LF) line++;
      else if (c === CR) pendingCR = true;
      if (endsRecord) {
        const piece = block.subarray(from, i);
        const bytes = pending.length === 0 ? piece : concat([...pending, piece]);
        pending = [];
        if (bytes.length > 0) onRecord(bytes, recordStart, recordLine);
        recordStart = offset + i + 1;
        from = i + 1;
        state = CELL_START;
      } else if (state === QUOTED) {
        if (c === QUOTE) state = QUOTE_IN_QUOTED;
      } else if (c === QUOTE && (state === CELL_START || state === QUOTE_IN_QUOTED)) {
        state = QUOTED;
      } else {
        state = c === COMMA ? CELL_START : UNQUOTED;
      }
    }
    if (from < block.length) pending.push(block.subarray(from));
  }
  if (pending.length > 0) onRecord(concat(pending), recordStart, recordLine);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}
