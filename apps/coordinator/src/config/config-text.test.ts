import { describe, expect, test } from 'vitest';
import { detectSyntax, lineColumn, parseConfigText } from './config-text.js';
import { configError } from './config-error.testkit.js';

describe('detectSyntax', () => {
  test.each([
    { file: 'job.yaml', text: '{"name": "x"}', syntax: 'yaml' },
    { file: 'job.YML', text: 'name: x', syntax: 'yaml' },
    { file: 'job.json', text: '  \n{"name": "x"}', syntax: 'json' },
    { file: 'job.json', text: '[1]', syntax: 'json' },
    // Named .json, written as YAML: the content decides.
    { file: 'job.json', text: 'name: x', syntax: 'yaml' },
    { file: 'job.conf', text: '{"name": "x"}', syntax: 'json' },
    { file: 'job', text: 'name: x', syntax: 'yaml' },
  ])('$file holding $text is $syntax', ({ file, text, syntax }) => {
    expect(detectSyntax(text, file)).toBe(syntax);
  });
});

describe('lineColumn', () => {
  test.each([
    { text: 'abc', offset: 0, line: 1, col: 1 },
    { text: 'abc', offset: 2, line: 1, col: 3 },
    { text: 'ab\ncd', offset: 3, line: 2, col: 1 },
    { text: 'ab\ncd\n', offset: 5, line: 2, col: 3 },
    { text: 'ab\ncd\n', offset: 6, line: 3, col: 1 },
    { text: 'ab', offset: 99, line: 1, col: 3 },
  ])('offset $offset of $text is $line:$col', ({ text, offset, line, col }) => {
    expect(lineColumn(text, offset)).toStrictEqual({ line, col });
  });
});

describe('parseConfigText', () => {
  test.each([
    { file: 'job.yaml', text: 'name: x\nn: [1, 2]\n', value: { name: 'x', n: [1, 2] } },
    { file: 'job.yaml', text: '\uFEFFname: x\n', value: { name: 'x' } },
    { file: 'job.json', text: '\uFEFF{"name": "x"}', value: { name: 'x' } },
    { file: 'job.yaml', text: '', value: null },
    // YAML 1.2: `no` and `on` stay strings, `1e-3` is a number.
    { file: 'job.yaml', text: 'a: no\nb: on\nc: 1e-3\n', value: { a: 'no', b: 'on', c: 0.001 } },
    { file: 'job.yaml', text: 'base: &b { x: 1 }\ncopy: *b\n', value: { base: { x: 1 }, copy: { x: 1 } } },
    { file: 'job.json', text: '{\n\t"tabs": [1,\n\t\t2]\n}\n', value: { tabs: [1, 2] } },
  ])('$file: $text', ({ file, text, value }) => {
    expect(parseConfigText(text, file)).toStrictEqual(value);
  });

  test.each([
    { text: 'name: x\nname: y\n', message: 'job.yaml:2:1: invalid YAML: Map keys must be unique' },
    { text: 'name: x\ntraining:\n\tepochs: 1\n', message: 'job.yaml:3:1: invalid YAML: Tabs are not allowed as indentation' },
    {
      text: 'name: x\ntraining: {epochs: 1\n',
      message: 'job.yaml:3:1: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }',
    },
    {
      text: 'name: x\ntraining:\n  epochs: 1\n   batchSize: 2\n',
      message: 'job.yaml:3:11: invalid YAML: Nested mappings are not allowed in compact mappings',
    },
    { text: 'name: x\nmodel: *base\n', message: 'job.yaml:2:8: invalid YAML: alias *base names no anchor &base before it' },
    { text: 'name: x\n---\nname: y\n', message: 'job.yaml:2:1: invalid YAML: expected a single document, found another after "---"' },
  ])('YAML: $message', ({ text, message }) => {
    expect(configError(() => parseConfigText(text, 'job.yaml'))).toMatchObject({
      code: 'DTRAIN_CONFIG_PARSE',
      field: undefined,
      source: 'job.yaml',
      message,
    });
  });

  test.each([
    { text: '{\n  "name": "x",\n}\n', message: 'job.json:3:1: invalid JSON: Expected double-quoted property name' },
    { text: '{\n  "name": "x"\n  "model": {}\n}\n', message: "job.json:3:3: invalid JSON: Expected ',' or '}' after property value" },
    { text: '{\n  "name":\n', message: 'job.json:2:10: invalid JSON: unexpected end of input' },
    { text: '[1, 2,]', message: "job.json:1:7: invalid JSON: Unexpected token ']'" },
    { text: '{\n  "name": "x",\n  "model": ]\n, "a": 1, "b": 2, "c": 3, "d": 4\n}', message: "job.json:3:12: invalid JSON: Unexpected token ']'" },
    { text: '{"a": 1.5e3, "b": -2, "c": tRue}', message: "job.json:1:29: invalid JSON: Unexpected token 'R'" },
    { text: '{"a": 1}\n x', message: 'job.json:2:2: invalid JSON: Unexpected non-whitespace character after JSON' },
  ])('JSON: $message', ({ text, message }) => {
    expect(configError(() => parseConfigText(text, 'job.json'))).toMatchObject({ code: 'DTRAIN_CONFIG_PARSE', message });
  });
});
