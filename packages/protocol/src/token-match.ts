import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented worker token with the expected one in constant time
 * (both hashed first, so lengths leak nothing). No expected token (undefined
 * or '') accepts anything.
 */
export function tokenMatches(expected: string | undefined, given: string): boolean {
  if (expected === undefined || expected === '') return true;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}
