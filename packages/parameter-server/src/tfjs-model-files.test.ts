import { mkdtemp, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ParameterServerError } from './parameter-server-error.js';
import { filesIOHandler, flattenModel, useTfjsCpu } from './testing/tfjs-cpu.js';
import { readTfjsModel, writeTfjsModel } from './tfjs-model-files.js';

const tf = await useTfjsCpu();

function buildModel(): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 6, inputShape: [4], activation: 'relu' }),
      tfl.layers.batchNormalization(),
      tfl.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  // Moving stats away from their 0/1 initial values, so a mix-up would show in the predictions.
  model.setWeights(model.getWeights().map((w) => tf.randomUniform(w.shape, 0.5, 1.5)));
  return model;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dtrain-ps-model-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeTfjsModel', () => {
  it('writes a model tfjs loads with the same predictions', async () => {
    const model = buildModel();
    const flat = flattenModel(model);
    expect(flat.layout.some((e) => !e.trainable)).toBe(true);
    await writeTfjsModel(dir, flat);

    const modelJson = await readFile(join(dir, 'model.json'), 'utf8');
    const parsed = JSON.parse(modelJson) as Record<string, unknown>;
    expect(parsed).toMatchObject({ format: 'layers-model', generatedBy: 'dtrain', convertedBy: null });
    expect(parsed['weightsManifest']).toEqual([
      { paths: ['weights.bin'], weights: flat.layout.map((e) => ({ name: e.name, shape: e.shape, dtype: 'float32' })) },
    ]);
    const bin = await readFile(join(dir, 'weights.bin'));
    expect(bin.byteLength).toBe(flat.weights.byteLength);

    const loaded = await tfl.loadLayersModel(filesIOHandler(modelJson, bin));
    const x = tf.randomNormal([5, 4]);
    const expected = (model.predict(x) as ReturnType<typeof tf.randomNormal>).dataSync();
    const actual = (loaded.predict(x) as ReturnType<typeof tf.randomNormal>).dataSync();
    expect([...actual]).toEqual([...expected]);
    tf.dispose([x]);
    model.dispose();
    loaded.dispose();
  });

  it('creates the folder (and its parents) when missing', async () => {
    const flat = flattenModel(buildModel());
    const nested = join(dir, 'run', 'model');
    await writeTfjsModel(nested, flat);
    expect((await readTfjsModel(nested)).weights).toEqual(flat.weights);
  });

  it('reads back exactly what it wrote', async () => {
    const flat = flattenModel(buildModel());
    flat.weights[0] = -0;
    flat.weights[1] = NaN;
    await writeTfjsModel(dir, flat);
    const back = await readTfjsModel(dir);
    expect(back.topology).toEqual(JSON.parse(JSON.stringify(flat.topology)));
    expect(back.weightSpecs.map((s) => s.name)).toEqual(flat.layout.map((e) => e.name));
    expect(new Uint8Array(back.weights.buffer)).toEqual(new Uint8Array(flat.weights.buffer));
  });

  it('names weights.bin when its length does not fit the manifest', async () => {
    const flat = flattenModel(buildModel());
    await writeTfjsModel(dir, flat);
    await truncate(join(dir, 'weights.bin'), 12);
    const error = await readTfjsModel(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParameterServerError);
    expect(error).toMatchObject({
      code: 'DTRAIN_PS_CHECKPOINT',
      message: `${join(dir, 'weights.bin')}: 12 bytes, expected ${flat.weights.byteLength} (${flat.weights.length} float32 weights in model.json)`,
    });
  });

  it('refuses weights that do not fit the layout', async () => {
    const flat = flattenModel(buildModel());
    const error = await writeTfjsModel(dir, { ...flat, weights: flat.weights.subarray(1) }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'DTRAIN_PS_LAYOUT',
      message: `weights has ${flat.weights.length - 1} elements but the layout describes ${flat.weights.length}`,
    });
  });
});
