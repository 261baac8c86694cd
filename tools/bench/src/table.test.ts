import { describe, expect, it } from 'vitest';
import { formatTable, num } from './table.js';

describe('formatTable', () => {
  it('aligns the first column left and the rest right', () => {
    expect(formatTable(['mode', 'samples/s'], [['plain', '3700'], ['dtrain 2 workers', '51']])).toBe(
      ['mode              samples/s', '----------------  ---------', 'plain                  3700', 'dtrain 2 workers         51'].join('\n'),
    );
  });
  it('prints a dash for missing numbers', () => {
    expect([num(undefined), num(Number.NaN), num(1.26, 1)]).toEqual(['-', '-', '1.3']);
  });
});
