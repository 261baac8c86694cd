import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildModelFromLayers } from './build-model.js';
import { EngineError } from './engine-error.js';
import { initBackend } from './init-backend.js';
import { loadModelFromDir } from './load-model-from-dir.js';
import { predict } from './inference.js';
import { randomArray } from './testing/numeric.js';
import { readWeights, weightLayout, writeWeights } from './weight-layout.js';

const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dtrain-engine-'));
  dirs.push(dir);
  return dir;
}

/**
 * Saves a model the way tfjs-node's file:// handler lays it out: model.json
 * plus binary shards, here split into `shards` files to exercise multi-path groups.
 */
async function saveToDir(model: tfl.LayersModel, dir: string, shards: number): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = new Uint8Array(artifacts.weightData as ArrayBuffer);
      const step = Math.ceil(data.byteLength / shards);
      const paths: string[] = [];
      for (let shard = 0; shard < shards; shard++) {
        const path = `group1-shard${shard + 1}of${shards}.bin`;
        await writeFile(join(dir, path), data.subarray(shard * step, (shard + 1) * step));
        paths.push(path);
      }
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths, weights: artifacts.weightSpecs }],
      };
      await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

async function fileError(dir: string): Promise<EngineError> {
  const error = await loadModelFromDir(dir).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(EngineError);
  expect((error as EngineError).code).toBe('DTRAIN_ENGINE_MODEL_FILE');
  return error as EngineError;
}

beforeAll(async () => {
  await initBackend('wasm');
});

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('loadModelFromDir', () => {
  it('loads topology and weights saved by model.save, across several shards', async () => {
    const model = buildModelFromLayers([
      { type: 'conv2d', inputShape: [6, 6, 1], filters: 2, kernelSize: 3, activation: 'relu' },
      { type: 'batchNormalization' },
      { type: 'flatten' },
      { type: 'dense', units: 3, activation: 'softmax' },
    ]);
    const layout = weightLayout(model);
    // Random values everywhere, batch-norm statistics included, so every byte matters.
    writeWeights(model, layout, randomArray(layout.totalSize).map((v) => v + 1.5));
    const dir = await tempDir();
    await saveToDir(model, dir, 3);

    const loaded = await loadModelFromDir(dir);
    expect(weightLayout(loaded)).toEqual(layout);
    expect(readWeights(loaded, layout)).toEqual(readWeights(model, layout));
    const x = randomArray(4 * 36);
    expect(predict(loaded, x, 4).values).toEqual(predict(model, x, 4).values);
  });

  it('names the file that is missing', async () => {
    const dir = await tempDir();
    expect((await fileError(dir)).message).toMatch(/model\.json: cannot read \(ENOENT/);
    const model = buildModelFromLayers([{ type: 'dense', inputShape: [2], units: 1 }]);
    await saveToDir(model, dir, 2);
    await rm(join(dir, 'group1-shard2of2.bin'));
    expect((await fileError(dir)).message).toMatch(/group1-shard2of2\.bin: cannot read \(ENOENT/);
  });

  it('rejects a malformed model.json and weight paths outside the directory', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'model.json'), '{"modelTopology": ');
    expect((await fileError(dir)).message).toMatch(/model\.json: not valid JSON/);
    await writeFile(join(dir, 'model.json'), JSON.stringify({ weightsManifest: [] }));
    expect((await fileError(dir)).message).toMatch(/model\.json: has no modelTopology object/);
    const model = buildModelFromLayers([{ type: 'dense', inputShape: [2], units: 1 }]);
    await saveToDir(model, dir, 1);
    const json = JSON.parse(await (await import('node:fs/promises')).readFile(join(dir, 'model.json'), 'utf8')) as {
      weightsManifest: { paths: string[] }[];
    };
    (json.weightsManifest[0] as { paths: string[] }).paths = ['../../etc/passwd'];
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    expect((await fileError(dir)).message).toMatch(/weightsManifest path "\.\.\/\.\.\/etc\/passwd" points outside the model directory/);
  });

  it('reports weights that do not fit the topology', async () => {
    const dir = await tempDir();
    const model = buildModelFromLayers([{ type: 'dense', inputShape: [2], units: 1 }]);
    await saveToDir(model, dir, 1);
    await writeFile(join(dir, 'group1-shard1of1.bin'), new Uint8Array(4));
    expect((await fileError(dir)).message).toMatch(/model\.json: /);
  });
});
