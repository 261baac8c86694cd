/**
 * Field readers for validating a model spec that arrived as untyped JSON or
 * YAML. Each throws `DTRAIN_ENGINE_MODEL_SPEC` with the field's full path.
 */

import { EngineError, EngineErrorCode, describeValue } from './engine-error.js';

export type Fields = Readonly<Record<string, unknown>>;

export function specError(path: string, expected: string, got: unknown): EngineError {
  return new EngineError(EngineErrorCode.MODEL_SPEC, `${path}: expected ${expected}, got ${describeValue(got)}`);
}

export function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function positiveInt(fields: Fields, key: string, path: string): number {
  const value = fields[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw specError(`${path}.${key}`, 'a positive integer', value);
  }
  return value;
}

export function optionalPositiveInt(fields: Fields, key: string, path: string): void {
  if (fields[key] !== undefined) positiveInt(fields, key, path);
}

export function oneOf(fields: Fields, key: string, path: string, allowed: readonly string[], required: boolean): void {
  const value = fields[key];
  if (value === undefined && !required) return;
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw specError(`${path}.${key}`, `one of ${allowed.join(', ')}`, value);
  }
}

export function optionalBoolean(fields: Fields, key: string, path: string): void {
  const value = fields[key];
  if (value !== undefined && typeof value !== 'boolean') throw specError(`${path}.${key}`, 'true or false', value);
}

/** A number in [min, max) (or [min, max] when `maxInclusive`). */
export function numberIn(
  fields: Fields,
  key: string,
  path: string,
  range: { readonly min: number; readonly max: number; readonly minExclusive?: boolean; readonly maxInclusive?: boolean },
  required: boolean,
): void {
  const value = fields[key];
  if (value === undefined && !required) return;
  const { min, max, minExclusive = false, maxInclusive = false } = range;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (minExclusive ? value > min : value >= min) &&
    (maxInclusive ? value <= max : value < max);
  if (!ok) {
    const interval = `${minExclusive ? '(' : '['}${min}, ${max === Infinity ? '∞' : max}${maxInclusive ? ']' : ')'}`;
    throw specError(`${path}.${key}`, `a number in ${interval}`, value);
  }
}

/** A non-empty array of positive integers, optionally of a fixed length. */
export function positiveIntList(fields: Fields, key: string, path: string, length?: number): void {
  const value = fields[key];
  const expected = length === undefined ? 'a non-empty array of positive integers' : `${length} positive integers`;
  if (!Array.isArray(value) || value.length === 0 || (length !== undefined && value.length !== length)) {
    throw specError(`${path}.${key}`, expected, value);
  }
  value.forEach((item: unknown, index) => {
    if (typeof item !== 'number' || !Number.isInteger(item) || item <= 0) {
      throw specError(`${path}.${key}[${index}]`, 'a positive integer', item);
    }
  });
}

/** A positive integer or a pair of them (kernel sizes, strides, pool sizes). */
export function sizeOrPair(fields: Fields, key: string, path: string, required: boolean): void {
  const value = fields[key];
  if (value === undefined && !required) return;
  if (typeof value === 'number') {
    positiveInt(fields, key, path);
    return;
  }
  if (Array.isArray(value)) {
    positiveIntList(fields, key, path, 2);
    return;
  }
  throw specError(`${path}.${key}`, 'a positive integer or a pair of them', value);
}

export function rejectUnknown(fields: Fields, path: string, known: ReadonlySet<string>): void {
  for (const key of Object.keys(fields)) {
    if (!known.has(key)) {
      throw new EngineError(
        EngineErrorCode.MODEL_SPEC,
        `${path}.${key}: unknown field (allowed: ${[...known].join(', ')})`,
      );
    }
  }
}
