import { describe, expect, it } from 'vitest';
import type { ByteSource } from './byte-source.js';
import { parseCsv } from './csv-parse.js';
import { scanCsvRecords } from './csv-record-scan.js';
import { createRng } from './rng.js';
import type { Rng } from './rng.js';
import { freshSeed } from './test-support.testkit.js';

/** Bytes in memory, as a ByteSource. */
function memorySource(bytes: Uint8Array): ByteSource {
  return {
    name: 'memory.csv',
    size: async () => bytes.length,
    read: async (offset, length) => bytes.slice(offset, offset + length),
  };
}

const PIECES = ['a', '1', '-2.5', ' ', 'ü', '✓', ',', '"', '""', '\n', '\r', '\r\n', 'x"y'];

/** Random CSV-ish text: quoted cells with line ends and quotes, stray quotes, every line end, blank lines. */
function randomCsv(rng: Rng): string {
  let text = rng.nextInt(4) === 0 ? '\ufeff' : '';
  const records = 1 + rng.nextInt(12);
  for (let r = 0; r < records; r++) {
    const cells = 1 + rng.nextInt(4);
    const row: string[] = [];
    for (let c = 0; c < cells; c++) {
      const body = Array.from({ length: rng.nextInt(5) }, () => PIECES[rng.nextInt(PIECES.length)] as string).join('');
      row.push(rng.nextInt(2) === 0 ? `"${body.replaceAll('"', '""')}"` : body.replace(/[\r\n,"]/g, ''));
    }
    text += row.join(',') + (['\n', '\r\n', '\r', '\n\n', '\r\n \r\n'][rng.nextInt(5)] as string);
  }
  return rng.nextInt(2) === 0 ? text : text.replace(/[\r\n]+$/, '');
}

describe('scanCsvRecords', () => {
  it('finds the records and lines parseCsv finds in the whole text, at any block size', async () => {
    const seed = freshSeed();
    const rng = createRng(seed);
    for (let trial = 0; trial < 200; trial++) {
      const text = randomCsv(rng);
      const bytes = new TextEncoder().encode(text);
      const expected: [string[], number][] = [];
      parseCsv(text, 'memory.csv', (fields, line) => {
        expected.push([fields, line]);
      });
      const blockBytes = 1 + rng.nextInt(9);
      const found: [string[], number][] = [];
      const starts: number[] = [];
      await scanCsvRecords(
        memorySource(bytes),
        (record, start, line) => {
          starts.push(start);
          parseCsv(new TextDecoder().decode(record), 'memory.csv', (fields, at) => {
            found.push([fields, at]);
          }, line);
        },
        blockBytes,
      );
      expect(found, `text ${JSON.stringify(text)}, blocks of ${blockBytes}`).toEqual(expected);
      // Offsets point at the record's own bytes.
      expect(starts.every((s, i) => i === 0 || s > (starts[i - 1] as number))).toBe(true);
    }
  });
});
