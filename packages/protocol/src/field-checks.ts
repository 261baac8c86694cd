/**
 * Checks for single decoded values. Each takes the value and its path
 * (`gradients.step`, `welcome.layout[2].shape[0]`) and returns it typed, or
 * throws MALFORMED naming the path, what was expected and what arrived.
 */
import { malformed } from './errors.js';

export type Check<T> = (value: unknown, path: string) => T;
export type Fields = Readonly<Record<string, unknown>>;

export const nonNegativeInteger: Check<number> = (value, path) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : malformed(path, 'a non-negative integer', value);

export const positiveInteger: Check<number> = (value, path) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 ? value : malformed(path, 'a positive integer', value);

export const safeInteger: Check<number> = (value, path) =>
  typeof value === 'number' && Number.isSafeInteger(value) ? value : malformed(path, 'an integer', value);

export const finiteNumber: Check<number> = (value, path) =>
  typeof value === 'number' && Number.isFinite(value) ? value : malformed(path, 'a finite number', value);

/**
 * Any number, NaN and ±Infinity included: for a diverged worker's loss, which
 * must reach the parameter server so it is rejected and counted there rather
 * than dropping the connection.
 */
export const anyNumber: Check<number> = (value, path) => (typeof value === 'number' ? value : malformed(path, 'a number', value));

export const nonNegativeFiniteNumber: Check<number> = (value, path) =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : malformed(path, 'a finite number ≥ 0', value);

/** A finite number in [0, 1] (an accuracy). */
export const fraction: Check<number> = (value, path) =>
  typeof value === 'number' && value >= 0 && value <= 1 ? value : malformed(path, 'a number in [0, 1]', value);

export const positiveFiniteNumber: Check<number> = (value, path) =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : malformed(path, 'a finite number > 0', value);

export const string: Check<string> = (value, path) => (typeof value === 'string' ? value : malformed(path, 'a string', value));

export const boolean: Check<boolean> = (value, path) => (typeof value === 'boolean' ? value : malformed(path, 'a boolean', value));

export function oneOf<const T extends string>(choices: readonly T[]): Check<T> {
  const expected = choices.map((choice) => JSON.stringify(choice)).join(' or ');
  return (value, path) => (choices.includes(value as T) ? (value as T) : malformed(path, expected, value));
}

/**
 * Plain objects only: msgpackr's built-in extensions can decode to Map, Set,
 * Date or Error, none of which a header field may be.
 */
export function isPlainObject(value: unknown): value is Fields {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export const plainObject: Check<Fields> = (value, path) => (isPlainObject(value) ? value : malformed(path, 'an object', value));

export function arrayOf<T>(item: Check<T>, minLength = 0): Check<readonly T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) return malformed(path, 'an array', value);
    if (value.length < minLength) return malformed(path, `an array of at least ${minLength} elements`, value);
    return value.map((element: unknown, index) => item(element, `${path}[${index}]`));
  };
}

export const float32Array: Check<Float32Array> = (value, path) =>
  value instanceof Float32Array ? value : malformed(path, 'a Float32Array', value);

export function uint32Array(minLength = 0): Check<Uint32Array> {
  return (value, path) => {
    if (!(value instanceof Uint32Array)) return malformed(path, 'a Uint32Array', value);
    if (value.length < minLength) return malformed(path, `a Uint32Array of at least ${minLength} element(s)`, value);
    return value;
  };
}

/** Reads the fields of one object, prefixing every error with the object's path. */
export class FieldReader {
  readonly path: string;
  readonly #fields: Fields;

  constructor(fields: Fields, path: string) {
    this.#fields = fields;
    this.path = path;
  }

  /** A required field. */
  get<T>(key: string, check: Check<T>): T {
    return check(this.#fields[key], `${this.path}.${key}`);
  }

  /** An optional field: absent and undefined both mean "not given". */
  optional<T>(key: string, check: Check<T>): T | undefined {
    const value = this.#fields[key];
    return value === undefined ? undefined : check(value, `${this.path}.${key}`);
  }

  /** A required nested object, read with its own reader. */
  object<T>(key: string, read: (reader: FieldReader) => T): T {
    const path = `${this.path}.${key}`;
    return read(new FieldReader(plainObject(this.#fields[key], path), path));
  }
}

/** Adapts a reader function to a Check, for arrays of objects. */
export function objectCheck<T>(read: (reader: FieldReader) => T): Check<T> {
  return (value, path) => read(new FieldReader(plainObject(value, path), path));
}
