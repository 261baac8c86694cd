/**
 * Small combinators the per-section parsers are built from. Each one checks a
 * single value and, on a mistake, throws a ConfigError whose message names the
 * field's dotted path, what was expected and (briefly) what was found.
 *
 * `null` counts as absent everywhere: in YAML, `seed:` with nothing after it
 * (or a section whose lines are all commented out) is null, and users mean
 * "not set".
 */
import { invalidField, type ConfigError } from './config-error.js';
import { didYouMean } from './did-you-mean.js';

/** A config mapping being read, and the dotted path where it sits. */
export interface Fields {
  /** '' for the top level. */
  readonly path: string;
  readonly values: Readonly<Record<string, unknown>>;
}

export function joinPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

export function indexPath(path: string, index: number): string {
  return `${path}[${index}]`;
}

/** The dotted path of `key` inside `fields`. */
export function fieldPath(fields: Fields, key: string): string {
  return joinPath(fields.path, key);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** A short description of a found value: never the whole of it (a wrong field may hold a megabyte string). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const quoted = JSON.stringify(value);
    return quoted.length > 42 ? `${quoted.slice(0, 40)}…"` : quoted;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : `an array of ${value.length}`;
  if (isPlainObject(value)) return 'an object';
  // YAML's !!binary gives a Uint8Array; nothing else non-plain comes out of YAML or JSON.
  return ArrayBuffer.isView(value) ? 'binary data' : `a ${typeof value}`;
}

export function expectedGot(field: string, expected: string, value: unknown): ConfigError {
  return invalidField(field, `expected ${expected}, got ${describeValue(value)}`);
}

/** The value of `key`, undefined when absent or null. Only own keys count. */
export function get(fields: Fields, key: string): unknown {
  return Object.hasOwn(fields.values, key) ? (fields.values[key] ?? undefined) : undefined;
}

export function has(fields: Fields, key: string): boolean {
  return get(fields, key) !== undefined;
}

/**
 * Checks that `value` is an object whose keys are all in `known` (listed
 * likeliest first: the order breaks ties between suggestions and is the
 * order shown in messages). Absent → `<path>: required`.
 */
export function objectWithKeys(value: unknown, path: string, known: readonly string[]): Fields {
  if (value === undefined || value === null) throw invalidField(path, 'required');
  return checkKeys(value, path, known);
}

/** Like {@link objectWithKeys}, but an absent section reads as empty, so every field takes its default. */
export function optionalObjectWithKeys(value: unknown, path: string, known: readonly string[]): Fields {
  if (value === undefined || value === null) return { path, values: {} };
  return checkKeys(value, path, known);
}

function checkKeys(value: unknown, path: string, known: readonly string[]): Fields {
  if (!isPlainObject(value)) throw expectedGot(path, 'an object', value);
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const hint = didYouMean(key, known) || ` (expected one of: ${known.join(', ')})`;
    throw invalidField(joinPath(path, key), `unknown key${hint}`);
  }
  return { path, values: value };
}

/** Bounds of a number; every number must also be finite. */
export interface NumberRule {
  readonly integer?: boolean;
  readonly min?: number;
  /** Default false: `min` itself is allowed. */
  readonly minExclusive?: boolean;
  readonly max?: number;
  /** Default false: `max` itself is allowed. */
  readonly maxExclusive?: boolean;
  /** The value must be a whole multiple of this. */
  readonly multipleOf?: number;
  /** Overrides the generated "expected …" wording. */
  readonly expected?: string;
}

export const POSITIVE_INT: NumberRule = { integer: true, min: 1 };
export const NON_NEGATIVE_INT: NumberRule = { integer: true, min: 0 };
export const ANY_INT: NumberRule = { integer: true };
export const POSITIVE_NUMBER: NumberRule = { min: 0, minExclusive: true };
export const NON_NEGATIVE_NUMBER: NumberRule = { min: 0 };
/** [0, 1): fractions and decay rates, where 1 would mean "everything" or "never forget". */
export const FRACTION: NumberRule = { min: 0, max: 1, maxExclusive: true };

/** "a positive integer", "a number in [0, 1)", "a number > 1", … */
export function describeRule(rule: NumberRule): string {
  if (rule.expected !== undefined) return rule.expected;
  const kind = rule.integer === true ? 'integer' : 'number';
  const { min, max } = rule;
  if (min !== undefined && max !== undefined) {
    return `a ${kind} in ${rule.minExclusive === true ? '(' : '['}${min}, ${max}${rule.maxExclusive === true ? ')' : ']'}`;
  }
  if (min !== undefined) {
    if (min === 0) return rule.minExclusive === true ? `a positive ${kind}` : `a non-negative ${kind}`;
    if (min === 1 && rule.integer === true && rule.minExclusive !== true) return 'a positive integer';
    return `${kind === 'integer' ? 'an' : 'a'} ${kind} ${rule.minExclusive === true ? '>' : '>='} ${min}`;
  }
  if (max !== undefined) return `${kind === 'integer' ? 'an' : 'a'} ${kind} ${rule.maxExclusive === true ? '<' : '<='} ${max}`;
  return kind === 'integer' ? 'an integer' : 'a number';
}

function satisfies(value: number, rule: NumberRule): boolean {
  if (!Number.isFinite(value)) return false;
  if (rule.integer === true && !Number.isSafeInteger(value)) return false;
  if (rule.min !== undefined && (rule.minExclusive === true ? value <= rule.min : value < rule.min)) return false;
  if (rule.max !== undefined && (rule.maxExclusive === true ? value >= rule.max : value > rule.max)) return false;
  if (rule.multipleOf !== undefined && value % rule.multipleOf !== 0) return false;
  return true;
}

/** `value` as a number obeying `rule`. */
export function checkNumber(value: unknown, field: string, rule: NumberRule): number {
  if (typeof value !== 'number' || !satisfies(value, rule)) throw expectedGot(field, describeRule(rule), value);
  return value;
}

export function requireNumber(fields: Fields, key: string, rule: NumberRule): number {
  const value = get(fields, key);
  if (value === undefined) throw invalidField(fieldPath(fields, key), 'required');
  return checkNumber(value, fieldPath(fields, key), rule);
}

export function requireInt(fields: Fields, key: string, rule: NumberRule = ANY_INT): number {
  return requireNumber(fields, key, { ...rule, integer: true });
}

/** The number at `key`, or `fallback` when absent. */
export function optionalNumber(fields: Fields, key: string, rule: NumberRule, fallback: number): number;
export function optionalNumber(fields: Fields, key: string, rule: NumberRule): number | undefined;
export function optionalNumber(fields: Fields, key: string, rule: NumberRule, fallback?: number): number | undefined {
  const value = get(fields, key);
  return value === undefined ? fallback : checkNumber(value, fieldPath(fields, key), rule);
}

export function optionalInt(fields: Fields, key: string, rule: NumberRule, fallback: number): number;
export function optionalInt(fields: Fields, key: string, rule: NumberRule): number | undefined;
export function optionalInt(fields: Fields, key: string, rule: NumberRule, fallback?: number): number | undefined {
  const value = get(fields, key);
  return value === undefined ? fallback : checkNumber(value, fieldPath(fields, key), { ...rule, integer: true });
}

export function checkString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw expectedGot(field, 'a non-empty string', value);
  return value;
}

export function requireString(fields: Fields, key: string): string {
  const value = get(fields, key);
  if (value === undefined) throw invalidField(fieldPath(fields, key), 'required');
  return checkString(value, fieldPath(fields, key));
}

export function optionalString(fields: Fields, key: string): string | undefined {
  const value = get(fields, key);
  return value === undefined ? undefined : checkString(value, fieldPath(fields, key));
}

export function optionalBoolean(fields: Fields, key: string, fallback: boolean): boolean;
export function optionalBoolean(fields: Fields, key: string): boolean | undefined;
export function optionalBoolean(fields: Fields, key: string, fallback?: boolean): boolean | undefined {
  const value = get(fields, key);
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw expectedGot(fieldPath(fields, key), 'true or false', value);
  return value;
}

/** `value` as one of `allowed`, with a suggestion for a near miss. */
export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  const hint = typeof value === 'string' ? didYouMean(value, allowed) : '';
  const expected = allowed.length === 1 ? `"${allowed[0]}"` : `one of ${allowed.map((a) => `"${a}"`).join(', ')}`;
  throw invalidField(field, `expected ${expected}, got ${describeValue(value)}${hint}`);
}

export function requireOneOf<T extends string>(fields: Fields, key: string, allowed: readonly T[]): T {
  const value = get(fields, key);
  if (value === undefined) throw invalidField(fieldPath(fields, key), 'required');
  return oneOf(value, fieldPath(fields, key), allowed);
}

export function optionalOneOf<T extends string>(fields: Fields, key: string, allowed: readonly T[], fallback: T): T {
  const value = get(fields, key);
  return value === undefined ? fallback : oneOf(value, fieldPath(fields, key), allowed);
}

export interface ArrayOptions {
  /** Plural noun for the items, used when `value` is not an array at all: "positive integers". */
  readonly of: string;
  /** Default false. */
  readonly nonEmpty?: boolean;
}

/** `value` as an array, each item checked by `item` under the field `<field>[i]`. */
export function arrayOf<T>(value: unknown, field: string, options: ArrayOptions, item: (value: unknown, field: string) => T): T[] {
  if (!Array.isArray(value) || (options.nonEmpty === true && value.length === 0)) {
    throw expectedGot(field, `${options.nonEmpty === true ? 'a non-empty' : 'an'} array of ${options.of}`, value);
  }
  return value.map((v: unknown, i) => item(v, indexPath(field, i)));
}

/** A tensor shape without the batch axis: a non-empty array of positive integers. */
export function checkShape(value: unknown, field: string): number[] {
  return arrayOf(value, field, { of: 'positive integers', nonEmpty: true }, (v, f) => checkNumber(v, f, POSITIVE_INT));
}
