import { describe, expect, it, test } from 'vitest';
import { configError } from './config-error.testkit.js';
import {
  FRACTION,
  NON_NEGATIVE_INT,
  POSITIVE_INT,
  POSITIVE_NUMBER,
  describeRule,
  describeValue,
  objectWithKeys,
  optionalBoolean,
  optionalNumber,
  optionalObjectWithKeys,
  optionalString,
  requireInt,
  requireString,
  type Fields,
} from './validators.js';

const fields = (values: Record<string, unknown>): Fields => ({ path: 'a.b', values });

describe('describeRule', () => {
  test.each([
    [POSITIVE_INT, 'a positive integer'],
    [NON_NEGATIVE_INT, 'a non-negative integer'],
    [POSITIVE_NUMBER, 'a positive number'],
    [{ min: 0 }, 'a non-negative number'],
    [FRACTION, 'a number in [0, 1)'],
    [{ min: 0, minExclusive: true, max: 1 }, 'a number in (0, 1]'],
    [{ min: 1, minExclusive: true }, 'a number > 1'],
    [{ integer: true, min: 2 }, 'an integer >= 2'],
    [{ max: 5 }, 'a number <= 5'],
    [{ integer: true, max: 5, maxExclusive: true }, 'an integer < 5'],
    [{ integer: true }, 'an integer'],
    [{}, 'a number'],
    [{ min: 3, expected: 'three or more' }, 'three or more'],
  ])('%j → %s', (rule, text) => {
    expect(describeRule(rule)).toBe(text);
  });
});

describe('describeValue', () => {
  test.each([
    [undefined, 'nothing'],
    [null, 'null'],
    [-3, '-3'],
    [Number.NaN, 'NaN'],
    [true, 'true'],
    ['abc', '"abc"'],
    ['x'.repeat(100), `"${'x'.repeat(39)}…"`],
    [[], 'an empty array'],
    [[1, 2, 3], 'an array of 3'],
    [{ a: 1 }, 'an object'],
    [new Uint8Array(2), 'binary data'],
  ])('%j → %s', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });
});

describe('objectWithKeys', () => {
  it('returns the fields at their path', () => {
    expect(objectWithKeys({ x: 1 }, 'a.b', ['x', 'y'])).toStrictEqual({ path: 'a.b', values: { x: 1 } });
  });

  it('reads an absent optional section as empty', () => {
    expect(optionalObjectWithKeys(null, 'a', ['x'])).toStrictEqual({ path: 'a', values: {} });
  });

  test.each([
    { value: undefined, message: 'a.b: required' },
    { value: null, message: 'a.b: required' },
    { value: 'x', message: 'a.b: expected an object, got "x"' },
    { value: [{ x: 1 }], message: 'a.b: expected an object, got an array of 1' },
    { value: { x: 1, yy: 2 }, message: 'a.b.yy: unknown key (did you mean "y"?)' },
    { value: { zzz: 2 }, message: 'a.b.zzz: unknown key (expected one of: x, y)' },
    { value: JSON.parse('{"__proto__": {"x": 1}}') as unknown, message: 'a.b.__proto__: unknown key (expected one of: x, y)' },
  ])('$message', ({ value, message }) => {
    expect(configError(() => objectWithKeys(value, 'a.b', ['x', 'y']))).toMatchObject({ code: 'DTRAIN_CONFIG_INVALID', message });
  });
});

describe('field readers', () => {
  it('treat null as absent', () => {
    expect(optionalNumber(fields({ n: null }), 'n', POSITIVE_NUMBER, 7)).toBe(7);
    expect(optionalString(fields({ s: null }), 's')).toBeUndefined();
    expect(optionalBoolean(fields({ b: null }), 'b', true)).toBe(true);
    expect(configError(() => requireInt(fields({ n: null }), 'n', POSITIVE_INT)).message).toBe('a.b.n: required');
  });

  it('read own keys only', () => {
    const values = Object.create({ n: 5 }) as Record<string, unknown>;
    expect(configError(() => requireInt(fields(values), 'n', POSITIVE_INT)).message).toBe('a.b.n: required');
  });

  test.each([
    { run: () => requireInt(fields({ n: 2.5 }), 'n'), message: 'a.b.n: expected an integer, got 2.5' },
    { run: () => requireInt(fields({ n: Number.NaN }), 'n'), message: 'a.b.n: expected an integer, got NaN' },
    { run: () => optionalNumber(fields({ n: Infinity }), 'n', { min: 0 }), message: 'a.b.n: expected a non-negative number, got Infinity' },
    { run: () => optionalNumber(fields({ n: '1' }), 'n', { min: 0 }), message: 'a.b.n: expected a non-negative number, got "1"' },
    { run: () => requireString(fields({}), 's'), message: 'a.b.s: required' },
    { run: () => requireString(fields({ s: 1 }), 's'), message: 'a.b.s: expected a non-empty string, got 1' },
    { run: () => optionalBoolean(fields({ b: 'true' }), 'b'), message: 'a.b.b: expected true or false, got "true"' },
  ])('$message', ({ run, message }) => {
    expect(configError(run)).toMatchObject({ code: 'DTRAIN_CONFIG_INVALID', message });
  });
});
