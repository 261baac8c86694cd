/**
 * Loads a model saved in the tfjs Layers format (model.json with
 * `modelTopology` and `weightsManifest`, plus its binary weight shards) from
 * a directory. tfjs only reads `file://` URLs with tfjs-node installed; this
 * reads the files itself and hands them to `loadLayersModel` as an IOHandler,
 * so it works on every backend.
 */

import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { EngineError, EngineErrorCode, errorText } from './engine-error.js';

/** The file name tfjs gives a saved model's JSON. */
export const MODEL_JSON = 'model.json';

function fileError(path: string, problem: string, cause?: unknown): EngineError {
  return new EngineError(EngineErrorCode.MODEL_FILE, `${path}: ${problem}`, cause === undefined ? undefined : { cause });
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw fileError(path, `cannot read (${errorText(error)})`, error);
  }
}

/** A weight shard path from the manifest, kept inside the model's directory. */
function shardPath(dir: string, path: unknown, manifestPath: string): string {
  if (typeof path !== 'string' || path === '') throw fileError(manifestPath, `weightsManifest has a bad path ${JSON.stringify(path)}`);
  const full = resolve(dir, decodeURIComponent(path));
  const inside = relative(dir, full);
  if (inside.startsWith('..') || isAbsolute(inside)) {
    throw fileError(manifestPath, `weightsManifest path ${JSON.stringify(path)} points outside the model directory`);
  }
  return full;
}

/** The IOHandler `loadModelFromDir` uses; exported for callers that want `tf.loadGraphModel` or their own loader. */
export function dirModelHandler(dir: string): tf.io.IOHandler {
  const root = resolve(dir);
  const manifestPath = join(root, MODEL_JSON);
  return {
    load: async () => {
      const text = new TextDecoder().decode(await readBytes(manifestPath));
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(text) as tf.io.ModelJSON;
      } catch (error) {
        throw fileError(manifestPath, `not valid JSON (${errorText(error)})`, error);
      }
      if (typeof json !== 'object' || json === null || typeof json.modelTopology !== 'object' || json.modelTopology === null) {
        throw fileError(manifestPath, 'has no modelTopology object (not a tfjs Layers model.json)');
      }
      if (json.weightsManifest !== undefined && !Array.isArray(json.weightsManifest)) {
        throw fileError(manifestPath, 'weightsManifest: expected an array of weight groups');
      }
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const shards: Uint8Array[] = [];
        for (const group of manifest) {
          if (!Array.isArray(group.paths) || !Array.isArray(group.weights)) {
            throw fileError(manifestPath, 'weightsManifest: every group needs paths and weights arrays');
          }
          specs.push(...group.weights);
          for (const path of group.paths) shards.push(await readBytes(shardPath(root, path, manifestPath)));
        }
        const data = new Uint8Array(shards.reduce((total, shard) => total + shard.byteLength, 0));
        let offset = 0;
        for (const shard of shards) {
          data.set(shard, offset);
          offset += shard.byteLength;
        }
        return [specs, data.buffer];
      });
    },
  };
}

/**
 * Loads `dir/model.json` and its weight files. Throws `DTRAIN_ENGINE_MODEL_FILE`
 * naming the file for a missing or malformed file, or when the weights do not
 * fit the topology.
 */
export async function loadModelFromDir(dir: string): Promise<tfl.LayersModel> {
  try {
    return await tfl.loadLayersModel(dirModelHandler(dir));
  } catch (error) {
    if (error instanceof EngineError) throw error;
    throw fileError(join(resolve(dir), MODEL_JSON), errorText(error), error);
  }
}
