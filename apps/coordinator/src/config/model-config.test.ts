import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, test } from 'vitest';
import { parseModelConfig } from './model-config.js';
import { configError } from './config-error.testkit.js';

const dir = mkdtempSync(join(tmpdir(), 'dtrain-model-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOPOLOGY = { class_name: 'Sequential', config: { name: 'seq', layers: [] }, keras_version: 'tfjs-layers 4.22.0' };
mkdirSync(join(dir, 'models'));
writeFileSync(join(dir, 'models', 'bare.json'), JSON.stringify(TOPOLOGY));
writeFileSync(join(dir, 'models', 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: TOPOLOGY, weightsManifest: [] }));
writeFileSync(join(dir, 'models', 'keras.json'), JSON.stringify({ modelTopology: { keras_version: '2.15', model_config: TOPOLOGY } }));
writeFileSync(join(dir, 'models', 'broken.json'), '{ "class_name": ');
writeFileSync(join(dir, 'models', 'comma.json'), '{\n  "class_name": "Sequential",\n}\n');
writeFileSync(join(dir, 'models', 'weights.json'), JSON.stringify([{ paths: ['group1-shard1of1.bin'], weights: [] }]));
writeFileSync(join(dir, 'models', 'nameless.json'), JSON.stringify({ config: {} }));

describe('model.layers', () => {
  it('passes the layers through untouched for the engine to check', () => {
    const layers = [{ type: 'dense', units: 3, inputShape: [4], whatever: true }, { type: 'flatten' }];
    expect(parseModelConfig({ layers }, dir)).toStrictEqual({ kind: 'layers', layers });
  });

  test.each([
    { layers: 'dense', field: 'model.layers', message: 'model.layers: expected a non-empty array of layers, got "dense"' },
    { layers: [], field: 'model.layers', message: 'model.layers: expected a non-empty array of layers, got an empty array' },
    { layers: { type: 'dense' }, field: 'model.layers', message: 'model.layers: expected a non-empty array of layers, got an object' },
    {
      layers: [{ type: 'dense' }, { type: 'dropout' }, 'dense'],
      field: 'model.layers[2]',
      message: 'model.layers[2]: expected an object with a string "type", got "dense"',
    },
    {
      layers: [{ type: 'dense' }, { type: 'dropout' }, { units: 3 }],
      field: 'model.layers[2]',
      message: 'model.layers[2]: expected an object with a string "type"',
    },
    { layers: [null], field: 'model.layers[0]', message: 'model.layers[0]: expected an object with a string "type", got null' },
    { layers: [[{ type: 'dense' }]], field: 'model.layers[0]', message: 'model.layers[0]: expected an object with a string "type", got an array of 1' },
    { layers: [{ type: 3 }], field: 'model.layers[0].type', message: 'model.layers[0].type: expected a non-empty string, got 3' },
    { layers: [{ type: '' }], field: 'model.layers[0].type', message: 'model.layers[0].type: expected a non-empty string, got ""' },
  ])('$message', ({ layers, field, message }) => {
    expect(configError(() => parseModelConfig({ layers }, dir))).toMatchObject({ code: 'DTRAIN_CONFIG_INVALID', field, message });
  });
});

describe('model.topology', () => {
  test.each([['models/bare.json'], ['models/model.json'], ['models/keras.json'], [join(dir, 'models', 'model.json')]])(
    '%s yields the bare topology and its absolute path',
    (path) => {
      const absolute = path.startsWith('/') ? path : join(dir, path);
      expect(parseModelConfig({ topology: path }, dir)).toStrictEqual({ kind: 'topology', topology: TOPOLOGY, path: absolute });
    },
  );

  test.each([
    { topology: 'models/missing.json', message: `model.topology: file not found: ${join(dir, 'models', 'missing.json')}` },
    { topology: 'models', message: `model.topology: not a file: ${join(dir, 'models')}` },
    { topology: 'models/bare.json/x', message: `model.topology: file not found: ${join(dir, 'models', 'bare.json', 'x')}` },
    { topology: 42, message: 'model.topology: expected a non-empty string, got 42' },
    { topology: '', message: 'model.topology: expected a non-empty string, got ""' },
    {
      topology: 'models/broken.json',
      message: `model.topology: ${join(dir, 'models', 'broken.json')}:1:16: invalid JSON: unexpected end of input`,
    },
    {
      topology: 'models/comma.json',
      message: `model.topology: ${join(dir, 'models', 'comma.json')}:3:1: invalid JSON: Expected double-quoted property name`,
    },
    {
      topology: 'models/weights.json',
      message: `model.topology: ${join(dir, 'models', 'weights.json')} is not a tfjs model topology: expected an object with "class_name" or "modelTopology", got an array of 1`,
    },
    {
      topology: 'models/nameless.json',
      message: `model.topology: ${join(dir, 'models', 'nameless.json')} is not a tfjs model topology: expected an object with "class_name" or "modelTopology", got an object`,
    },
  ])('$message', ({ topology, message }) => {
    expect(configError(() => parseModelConfig({ topology }, dir))).toMatchObject({
      code: 'DTRAIN_CONFIG_INVALID',
      field: 'model.topology',
      message,
    });
  });
});

describe('the model section', () => {
  test.each([
    { raw: undefined, field: 'model', message: 'model: required' },
    { raw: 'model.json', field: 'model', message: 'model: expected an object, got "model.json"' },
    { raw: {}, field: 'model', message: 'model: expected "layers" (a list of layers) or "topology" (a path to a tfjs model.json)' },
    {
      raw: { layers: [{ type: 'dense' }], topology: 'models/bare.json' },
      field: 'model',
      message: 'model: expected exactly one of "layers" or "topology", got both',
    },
    { raw: { layer: [] }, field: 'model.layer', message: 'model.layer: unknown key (did you mean "layers"?)' },
    { raw: { topolgy: 'x.json' }, field: 'model.topolgy', message: 'model.topolgy: unknown key (did you mean "topology"?)' },
    { raw: { weights: 'x.bin' }, field: 'model.weights', message: 'model.weights: unknown key (expected one of: layers, topology)' },
  ])('$message', ({ raw, field, message }) => {
    expect(configError(() => parseModelConfig(raw, dir))).toMatchObject({ code: 'DTRAIN_CONFIG_INVALID', field, message });
  });
});
