import { dataErrorAt } from './data-error.js';

/**
 * Called once per non-blank record with its cells and the 1-based line the
 * record starts on (a quoted cell may span lines). Return false to stop early.
 */
export type CsvRecordHandler = (fields: string[], line: number) => boolean | void;

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Splits CSV text (RFC 4180): comma-separated cells, `"quoted"` cells that may
 * hold commas, newlines and `""` for a quote; LF, CRLF or CR line ends. Blank
 * lines (a trailing one, say) are skipped. A leading byte-order mark is dropped.
 * An unclosed quote, or text after a closing quote, is DTRAIN_DATA_CSV_SYNTAX.
 * @param file names the file in error messages.
 * @param firstLine the line `text` starts on in its file (a record read by byte range); default 1.
 */
export function parseCsv(text: string, file: string, onRecord: CsvRecordHandler, firstLine = 1): void {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  let line = firstLine;
  while (i < n) {
    const recordLine = line;
    const fields: string[] = [];
    let quotedRecord = false;
    // One iteration per cell; the loop ends at a line end or the end of the text.
    for (;;) {
      if (text.charCodeAt(i) === QUOTE) {
        quotedRecord = true;
        const openLine = line;
        const column = fields.length + 1;
        let value = '';
        let start = i + 1;
        i = start;
        for (;;) {
          if (i >= n) {
            throw dataErrorAt('DTRAIN_DATA_CSV_SYNTAX', file, { line: openLine, column }, 'quoted cell is never closed; expected a closing "');
          }
          const c = text.charCodeAt(i);
          if (c === QUOTE) {
            if (text.charCodeAt(i + 1) === QUOTE) {
              value += text.slice(start, i + 1);
              i += 2;
              start = i;
              continue;
            }
            value += text.slice(start, i);
            i += 1;
            break;
          }
          if (c === LF || (c === CR && text.charCodeAt(i + 1) !== LF)) line += 1;
          i += 1;
        }
        fields.push(value);
        const after = text.charCodeAt(i);
        if (i < n && after !== COMMA && after !== CR && after !== LF) {
          throw dataErrorAt(
            'DTRAIN_DATA_CSV_SYNTAX',
            file,
            { line, column },
            `unexpected ${JSON.stringify(text[i])} after a closing quote; expected a comma or the end of the line`,
          );
        }
      } else {
        const start = i;
        while (i < n) {
          const c = text.charCodeAt(i);
          if (c === COMMA || c === CR || c === LF) break;
          i += 1;
        }
        fields.push(text.slice(start, i));
      }
      if (i < n && text.charCodeAt(i) === COMMA) {
        i += 1;
        continue;
      }
      break;
    }
    // Consume the line end (CRLF counts once).
    if (i < n) {
      if (text.charCodeAt(i) === CR && text.charCodeAt(i + 1) === LF) i += 2;
      else i += 1;
      line += 1;
    }
    const blank = !quotedRecord && fields.length === 1 && (fields[0] as string).trim() === '';
    if (!blank && onRecord(fields, recordLine) === false) return;
  }
}

const NUMBER = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/**
 * A decimal number cell (`12`, `-0.5`, `1e-3`, surrounding spaces allowed) that is finite, or
 * undefined. Stricter than Number(): '' and '0x10' are not numbers in a dataset.
 */
export function parseNumberCell(cell: string): number | undefined {
  if (!NUMBER.test(cell)) return undefined;
  const value = Number(cell);
  // '1e999' matches the pattern but overflows; a dataset has no use for Infinity.
  return Number.isFinite(value) ? value : undefined;
}
