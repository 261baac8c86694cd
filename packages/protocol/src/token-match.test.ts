import { describe, expect, it } from 'vitest';
import { tokenMatches } from './token-match.js';

describe('tokenMatches', () => {
  it('accepts only the expected token, and anything when none is configured', () => {
    expect(tokenMatches('s3cret', 's3cret')).toBe(true);
    expect(tokenMatches('s3cret', 's3cret ')).toBe(false);
    expect(tokenMatches('s3cret', '')).toBe(false);
    expect(tokenMatches('s3cret', 'a much longer token than the expected one')).toBe(false);
    expect(tokenMatches(undefined, 'whatever')).toBe(true);
    expect(tokenMatches('', '')).toBe(true);
  });
});
