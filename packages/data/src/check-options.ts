import { DataError } from './data-error.js';

/*
 * Reader options usually come from a user's job file, so they are checked at
 * run time even though the types say what they should be. Each failure is one
 * line naming the field and what was expected (code DTRAIN_DATA_OPTIONS).
 */

function fail(where: string, field: string, expected: string, got: unknown): never {
  const shown = got === undefined ? 'nothing' : JSON.stringify(got);
  throw new DataError('DTRAIN_DATA_OPTIONS', `${where}: ${field}: expected ${expected}, got ${shown}`);
}

export function checkObject(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, 'options', 'an object', value);
  return value as Record<string, unknown>;
}

export function checkString(value: unknown, where: string, field: string): string {
  if (typeof value !== 'string' || value === '') fail(where, field, 'a non-empty string', value);
  return value;
}

export function checkBoolean(value: unknown, where: string, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(where, field, 'true or false', value);
  return value;
}

export function checkOneOf<T extends string>(
  value: unknown,
  where: string,
  field: string,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(where, field, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as T;
}

/** A safe integer in [min, ∞). */
export function checkInteger(value: unknown, where: string, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    const expected = min === Number.MIN_SAFE_INTEGER ? 'a safe integer' : min === 0 ? 'a non-negative integer' : `an integer ≥ ${min}`;
    fail(where, field, expected, value);
  }
  return value;
}

/** A finite number in [min, max]. */
export function checkNumber(value: unknown, where: string, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(where, field, `a number in [${min}, ${max}]`, value);
  }
  return value;
}

export function checkShape(value: unknown, where: string, field: string): number[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    fail(where, field, 'a non-empty array of positive integers', value);
  }
  return value as number[];
}

/** A column named by header string or 0-based index. */
export function checkColumnRef(value: unknown, where: string, field: string): string | number {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  return fail(where, field, 'a header name or a 0-based column index', value);
}

/** Class names for labels given as words: class id = position in the list. */
export function checkClassNames(value: unknown, where: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) {
    fail(where, 'classNames', 'a non-empty array of strings', value);
  }
  const names = value.map((v: string) => v.trim());
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) fail(where, 'classNames', 'distinct names', value);
  return names;
}
