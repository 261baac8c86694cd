import { mkdir } from 'node:fs/promises';
import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import type { WeightEntry } from '@dtrain/protocol';
import { readSavedFile, readSavedJson, writeFileDurably } from './durable-files.js';
import { float32FromLittleEndian, float32ToLittleEndian } from './float32-bytes.js';
import { ParameterServerError } from './parameter-server-error.js';
import { validateLayoutFor } from './weight-layout.js';

/** File names of a tfjs layers model as `tf.io` writes and reads it. */
export const MODEL_JSON_FILE = 'model.json';
export const WEIGHTS_BIN_FILE = 'weights.bin';

/** `format` of a Keras-style layers model in tfjs's model.json. */
const LAYERS_MODEL_FORMAT = 'layers-model';

export interface WriteTfjsModelOptions {
  /** tfjs Layers topology JSON, as `model.toJSON(null, false)` returns it. */
  readonly topology: unknown;
  readonly layout: readonly WeightEntry[];
  /** Flat weights in layout order; written as is. */
  readonly weights: Float32Array;
  /** model.json `generatedBy`; default 'dtrain'. */
  readonly generatedBy?: string;
}

/** One weight of a model.json manifest (tfjs `WeightsManifestEntry`, float32 only). */
export interface TfjsWeightSpec {
  readonly name: string;
  readonly shape: number[];
  readonly dtype: 'float32';
}

/** What {@link readTfjsModel} returns: the pieces `tf.io` calls ModelArtifacts. */
export interface TfjsModel {
  readonly topology: unknown;
  readonly weightSpecs: readonly TfjsWeightSpec[];
  /** All weights back to back in manifest order. */
  readonly weights: Float32Array;
}

/**
 * Writes `dir/model.json` and `dir/weights.bin` in the format tfjs's
 * `tf.loadLayersModel` reads (the format `model.save('file://…')` writes):
 * one manifest group, one shard, entries in layout order. `dir` must exist.
 * Files are fsynced; making the pair appear atomically is the caller's job
 * (checkpoints write into a temporary directory and rename it).
 * @throws ParameterServerError `DTRAIN_PS_LAYOUT` or `DTRAIN_PS_IO`.
 */
export async function writeTfjsModel(dir: string, options: WriteTfjsModelOptions): Promise<void> {
  validateLayoutFor(options.layout, options.weights.length, 'weights');
  const modelJson = {
    format: LAYERS_MODEL_FORMAT,
    generatedBy: options.generatedBy ?? 'dtrain',
    convertedBy: null,
    modelTopology: options.topology,
    weightsManifest: [
      {
        paths: [WEIGHTS_BIN_FILE],
        weights: options.layout.map((entry) => ({ name: entry.name, shape: [...entry.shape], dtype: 'float32' })),
      },
    ],
  };
  await mkdir(dir, { recursive: true });
  await writeFileDurably(join(dir, WEIGHTS_BIN_FILE), float32ToLittleEndian(options.weights));
  await writeFileDurably(join(dir, MODEL_JSON_FILE), JSON.stringify(modelJson));
}

/**
 * Reads a layers model written by {@link writeTfjsModel} (or by tfjs, as long
 * as every weight is float32 and unquantized). Shards of a group are
 * concatenated in `paths` order, as tfjs does.
 * @throws ParameterServerError `DTRAIN_PS_CHECKPOINT` naming the file.
 */
export async function readTfjsModel(dir: string): Promise<TfjsModel> {
  const jsonPath = join(dir, MODEL_JSON_FILE);
  const json = await readSavedJson(jsonPath);
  const fail = (file: string, what: string): never => {
    throw new ParameterServerError('DTRAIN_PS_CHECKPOINT', `${file}: ${what}`, { file });
  };
  if (!isRecord(json)) return fail(jsonPath, 'expected a JSON object');
  if (json['format'] !== undefined && json['format'] !== LAYERS_MODEL_FORMAT) {
    fail(jsonPath, `format is ${JSON.stringify(json['format'])}, expected "${LAYERS_MODEL_FORMAT}"`);
  }
  if (!isRecord(json['modelTopology'])) fail(jsonPath, 'modelTopology is missing');
  const manifest = json['weightsManifest'];
  if (!Array.isArray(manifest)) return fail(jsonPath, 'weightsManifest must be an array');

  const weightSpecs: TfjsWeightSpec[] = [];
  const parts: Float32Array[] = [];
  for (const [g, group] of manifest.entries()) {
    const where = `weightsManifest[${g}]`;
    if (!isRecord(group) || !Array.isArray(group['paths']) || !Array.isArray(group['weights'])) {
      return fail(jsonPath, `${where} must have paths and weights arrays`);
    }
    let groupElements = 0;
    for (const [w, spec] of (group['weights'] as unknown[]).entries()) {
      const at = `${where}.weights[${w}]`;
      if (!isRecord(spec) || typeof spec['name'] !== 'string') return fail(jsonPath, `${at} has no name`);
      const shape = spec['shape'];
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
        return fail(jsonPath, `${at} (${spec['name']}): shape must be non-negative integers`);
      }
      if (spec['dtype'] !== 'float32' || spec['quantization'] !== undefined) {
        return fail(jsonPath, `${at} (${spec['name']}): only unquantized float32 weights are supported`);
      }
      weightSpecs.push({ name: spec['name'], shape: shape as number[], dtype: 'float32' });
      groupElements += (shape as number[]).reduce((a, b) => a * b, 1);
    }
    const shards: Uint8Array[] = [];
    for (const path of group['paths'] as unknown[]) {
      if (typeof path !== 'string' || path.includes('/') || path.includes('\\')) {
        return fail(jsonPath, `${where}: paths must be file names beside model.json`);
      }
      shards.push(await readSavedFile(join(dir, path)));
    }
    const bytes = Buffer.concat(shards);
    if (bytes.byteLength !== groupElements * 4) {
      const files = (group['paths'] as string[]).map((p) => join(dir, p)).join(', ');
      fail(files, `${bytes.byteLength} bytes, expected ${groupElements * 4} (${groupElements} float32 weights in ${MODEL_JSON_FILE})`);
    }
    parts.push(float32FromLittleEndian(bytes));
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const weights = parts.length === 1 ? (parts[0] as Float32Array) : new Float32Array(total);
  if (parts.length !== 1) {
    let offset = 0;
    for (const part of parts) {
      weights.set(part, offset);
      offset += part.length;
    }
  }
  return { topology: json['modelTopology'], weightSpecs, weights };
}

/**
 * Checks that a model's manifest is the layout (names and shapes, in order)
 * and its weights fit it.
 * @throws ParameterServerError `DTRAIN_PS_CHECKPOINT` naming `file`.
 */
export function assertModelMatchesLayout(model: TfjsModel, layout: readonly WeightEntry[], file: string): void {
  const mismatch = (what: string): never => {
    throw new ParameterServerError('DTRAIN_PS_CHECKPOINT', `${file}: ${what}`, { file });
  };
  if (model.weightSpecs.length !== layout.length) {
    mismatch(`lists ${model.weightSpecs.length} weights, the layout has ${layout.length}`);
  }
  layout.forEach((entry, i) => {
    const spec = model.weightSpecs[i] as TfjsWeightSpec;
    if (spec.name !== entry.name || spec.shape.join() !== entry.shape.join()) {
      mismatch(`weight ${i} is ${spec.name} [${spec.shape.join(', ')}], the layout has ${entry.name} [${entry.shape.join(', ')}]`);
    }
  });
  try {
    validateLayoutFor(layout, model.weights.length, 'weights');
  } catch (error) {
    mismatch((error as Error).message);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
