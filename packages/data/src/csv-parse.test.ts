import { describe, expect, it } from 'vitest';
import { parseCsv, parseNumberCell } from './csv-parse.js';
import { createRng } from './rng.js';
import { expectDataError, freshSeed } from './test-support.testkit.js';

function records(text: string): [string[], number][] {
  const out: [string[], number][] = [];
  parseCsv(text, 'test.csv', (fields, line) => {
    out.push([fields, line]);
  });
  return out;
}

describe('parseCsv', () => {
  it('splits cells and lines with any line ending, skipping blank lines', () => {
    expect(records('a,b\r\n1,2\n3,4\r5,6\r\n\r\n')).toEqual([
      [['a', 'b'], 1],
      [['1', '2'], 2],
      [['3', '4'], 3],
      [['5', '6'], 4],
    ]);
    expect(records('\n\nx\n\n y \n')).toEqual([
      [['x'], 3],
      [[' y '], 5],
    ]);
  });

  it('handles quoted cells with commas, doubled quotes and newlines', () => {
    expect(records('"a,b","say ""hi""","two\nlines",plain\nnext,"",x')).toEqual([
      [['a,b', 'say "hi"', 'two\nlines', 'plain'], 1],
      [['next', '', 'x'], 3],
    ]);
  });

  it('keeps empty cells and drops a byte-order mark', () => {
    expect(records('\ufeff,a,\n')).toEqual([[['', 'a', ''], 1]]);
    expect(records('""\n')).toEqual([[[''], 1]]);
  });

  it('round-trips any table of cells written the RFC 4180 way', () => {
    const rng = createRng(freshSeed());
    const alphabet = ['a', 'Z', '0', ' ', ',', '"', '\n', '\r\n', 'é', '.'];
    for (let round = 0; round < 50; round++) {
      const width = 1 + rng.nextInt(5);
      const table = Array.from({ length: 1 + rng.nextInt(6) }, () =>
        Array.from({ length: width }, () => Array.from({ length: rng.nextInt(6) }, () => alphabet[rng.nextInt(alphabet.length)]).join('')),
      );
      const eol = rng.nextInt(2) === 0 ? '\n' : '\r\n';
      const text = table.map((row) => row.map((cell) => `"${cell.replaceAll('"', '""')}"`).join(',')).join(eol);
      expect(records(text).map(([fields]) => fields)).toEqual(table);
    }
  });

  it('rejects an unclosed quote, naming where it opened', async () => {
    await expectDataError(() => records('a,b\n1,"2\n3,4\n'), 'DTRAIN_DATA_CSV_SYNTAX', 'test.csv: line 2, column 2: quoted cell is never closed; expected a closing "');
  });

  it('rejects text after a closing quote', async () => {
    await expectDataError(
      () => records('a,b\n"1"x,2\n'),
      'DTRAIN_DATA_CSV_SYNTAX',
      'test.csv: line 2, column 1: unexpected "x" after a closing quote; expected a comma or the end of the line',
    );
  });

  it('stops when the handler returns false', () => {
    const seen: string[][] = [];
    parseCsv('a\nb\nc\n', 'x.csv', (fields) => {
      seen.push(fields);
      return seen.length < 2;
    });
    expect(seen).toEqual([['a'], ['b']]);
  });
});

describe('parseNumberCell', () => {
  it('accepts decimal numbers with optional spaces', () => {
    for (const cell of ['0', '-1.5', '+2', '.5', '5.', '1e3', '-2.5E-2', ' 7 ']) {
      expect(parseNumberCell(cell), JSON.stringify(cell)).toBe(Number(cell));
    }
  });

  it('rejects what Number() would wrongly accept or is not finite', () => {
    for (const cell of ['', ' ', '0x10', 'abc', '1,5', 'NaN', 'Infinity', '1e999', '1 2', '--1', '.']) {
      expect(parseNumberCell(cell), JSON.stringify(cell)).toBeUndefined();
    }
  });
});
