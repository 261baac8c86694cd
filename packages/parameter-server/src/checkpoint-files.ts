import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { WeightEntry } from '@dtrain/protocol';
import { createOptimizer } from './create-optimizer.js';
import { describe, readSavedFile, readSavedJson, writeFileDurably } from './durable-files.js';
import { float32FromLittleEndian, float32ToLittleEndian } from './float32-bytes.js';
import type { OptimizerConfig, OptimizerName } from './optimizer-config.js';
import type { OptimizerState } from './optimizer.js';
import { ParameterServerError } from './parameter-server-error.js';
import { MODEL_JSON_FILE, WEIGHTS_BIN_FILE, assertModelMatchesLayout, readTfjsModel, writeTfjsModel } from './tfjs-model-files.js';
import { validateLayout } from './weight-layout.js';

/** Where training stands; the data plan's cursor is opaque here. Extra JSON fields are kept. */
export interface TrainingState {
  readonly epoch: number;
  /** Steps committed so far; also names the checkpoint directory. */
  readonly step: number;
  readonly seed: number;
  /** The data plan's JSON-able snapshot. */
  readonly cursor: unknown;
  readonly [extra: string]: unknown;
}

/** Everything a restarted coordinator needs to continue a job exactly. */
export interface Checkpoint {
  /** tfjs Layers topology JSON. */
  readonly topology: unknown;
  readonly layout: readonly WeightEntry[];
  readonly weights: Float32Array;
  /** Version of `weights`. */
  readonly version: number;
  readonly optimizer: { readonly config: OptimizerConfig; readonly state: OptimizerState };
  readonly training: TrainingState;
}

export const OPTIMIZER_JSON_FILE = 'optimizer.json';
export const OPTIMIZER_BIN_FILE = 'optimizer.bin';
export const TRAINING_JSON_FILE = 'training.json';

/** Every file of a complete checkpoint directory. */
export const CHECKPOINT_FILES = [MODEL_JSON_FILE, WEIGHTS_BIN_FILE, OPTIMIZER_JSON_FILE, OPTIMIZER_BIN_FILE, TRAINING_JSON_FILE] as const;

const OPTIMIZER_FORMAT = 'dtrain-optimizer-state';
const TRAINING_FORMAT = 'dtrain-training-state';
const FORMAT_VERSION = 1;

/**
 * Checks a checkpoint before anything is written, so a bad one fails with a
 * clear message instead of leaving a directory that can't be read back.
 * @throws ParameterServerError `DTRAIN_PS_LAYOUT`, `DTRAIN_PS_CONFIG` or `DTRAIN_PS_OPTIMIZER_STATE`.
 */
export function validateCheckpoint(cp: Checkpoint): void {
  const size = validateLayout(cp.layout);
  if (cp.weights.length !== size) {
    throw new ParameterServerError('DTRAIN_PS_LAYOUT', `weights has ${cp.weights.length} elements but the layout describes ${size}`);
  }
  if (!Number.isSafeInteger(cp.version) || cp.version < 0) {
    throw new ParameterServerError('DTRAIN_PS_CONFIG', `checkpoint version must be an integer ≥ 0, got ${cp.version}`);
  }
  const { epoch, step, seed } = cp.training;
  for (const [field, value] of Object.entries({ epoch, step })) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ParameterServerError('DTRAIN_PS_CONFIG', `training.${field} must be an integer ≥ 0, got ${String(value)}`);
    }
  }
  if (!Number.isFinite(seed)) {
    throw new ParameterServerError('DTRAIN_PS_CONFIG', `training.seed must be a finite number, got ${String(seed)}`);
  }
  // Restoring into a fresh optimizer checks slot names, sizes and scalars.
  createOptimizer(cp.optimizer.config, cp.layout).setState(cp.optimizer.state);
}

/** Writes the five files of a checkpoint into an existing (temporary) directory, fsynced. */
export async function writeCheckpointFiles(dir: string, cp: Checkpoint): Promise<void> {
  await writeTfjsModel(dir, { topology: cp.topology, layout: cp.layout, weights: cp.weights });
  const { state } = cp.optimizer;
  const arrays: { name: string; offset: number; length: number }[] = [];
  let offset = 0;
  for (const [name, values] of Object.entries(state.arrays)) {
    arrays.push({ name, offset, length: values.length });
    offset += values.length;
  }
  const bin = new Float32Array(offset);
  for (const { name, offset: at } of arrays) bin.set(state.arrays[name] as Float32Array, at);
  await writeFileDurably(join(dir, OPTIMIZER_BIN_FILE), float32ToLittleEndian(bin));
  const optimizerJson = {
    format: OPTIMIZER_FORMAT,
    formatVersion: FORMAT_VERSION,
    config: cp.optimizer.config,
    state: { name: state.name, iterations: state.iterations, learningRate: state.learningRate, scalars: state.scalars },
    // Offsets and lengths in float32 elements into optimizer.bin.
    arrays,
    // The layout of weights.bin and of every optimizer array; model.json has names and shapes but not `trainable`.
    layout: cp.layout,
  };
  await writeFileDurably(join(dir, OPTIMIZER_JSON_FILE), JSON.stringify(optimizerJson));
  // Written last, so the digests describe files already on disk: a bit flipped later is found on resume.
  const digests = { [WEIGHTS_BIN_FILE]: sha256(float32ToLittleEndian(cp.weights)), [OPTIMIZER_BIN_FILE]: sha256(float32ToLittleEndian(bin)) };
  const trainingJson = { format: TRAINING_FORMAT, formatVersion: FORMAT_VERSION, version: cp.version, training: cp.training, digests };
  await writeFileDurably(join(dir, TRAINING_JSON_FILE), JSON.stringify(trainingJson));
}

/**
 * Reads and cross-checks one checkpoint directory. Arrays come back bitwise
 * equal to what was written, JSON deep-equal.
 * @throws ParameterServerError `DTRAIN_PS_CHECKPOINT` naming the file at fault.
 */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const model = await readTfjsModel(dir);

  const optimizerPath = join(dir, OPTIMIZER_JSON_FILE);
  const opt = await readSavedJson(optimizerPath);
  const bad = (file: string, what: string): never => {
    throw new ParameterServerError('DTRAIN_PS_CHECKPOINT', `${file}: ${what}`, { file });
  };
  if (!isRecord(opt) || opt['format'] !== OPTIMIZER_FORMAT || opt['formatVersion'] !== FORMAT_VERSION) {
    return bad(optimizerPath, `not a ${OPTIMIZER_FORMAT} file of format version ${FORMAT_VERSION}`);
  }
  const layout = opt['layout'] as WeightEntry[];
  try {
    if (!Array.isArray(layout)) throw new ParameterServerError('DTRAIN_PS_LAYOUT', 'layout is missing');
    validateLayout(layout);
  } catch (error) {
    bad(optimizerPath, describe(error));
  }
  assertModelMatchesLayout(model, layout, join(dir, MODEL_JSON_FILE));

  // Returned as written (not with defaults filled in), so a round trip is deep-equal.
  const config = opt['config'] as OptimizerConfig;
  const state = opt['state'];
  const arrays = opt['arrays'];
  if (!isRecord(state) || !isRecord(state['scalars']) || !Array.isArray(arrays)) {
    return bad(optimizerPath, 'state and arrays are missing');
  }
  const binPath = join(dir, OPTIMIZER_BIN_FILE);
  const binBytes = await readSavedFile(binPath);
  const expectedElements = arrays.reduce((n: number, a: unknown) => n + (isRecord(a) ? Number(a['length']) : NaN), 0);
  if (binBytes.byteLength !== expectedElements * 4) {
    bad(binPath, `${binBytes.byteLength} bytes, expected ${expectedElements * 4} (the arrays listed in ${OPTIMIZER_JSON_FILE})`);
  }
  const bin = float32FromLittleEndian(binBytes);
  const stateArrays: Record<string, Float32Array> = {};
  for (const a of arrays as Record<string, unknown>[]) {
    const { name, offset, length } = a;
    if (typeof name !== 'string' || !Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) {
      return bad(optimizerPath, `arrays entry ${JSON.stringify(a)} needs a name, offset and length`);
    }
    stateArrays[name] = bin.slice(offset as number, (offset as number) + (length as number));
  }
  const optimizerState: OptimizerState = {
    name: state['name'] as OptimizerName,
    iterations: state['iterations'] as number,
    learningRate: state['learningRate'] as number,
    scalars: state['scalars'] as Record<string, number>,
    arrays: stateArrays,
  };
  try {
    // Checks the config, and the state's slots, sizes and scalars against it.
    createOptimizer(config, layout).setState(optimizerState);
  } catch (error) {
    bad(optimizerPath, describe(error));
  }

  const trainingPath = join(dir, TRAINING_JSON_FILE);
  const tj = await readSavedJson(trainingPath);
  if (!isRecord(tj) || tj['format'] !== TRAINING_FORMAT || tj['formatVersion'] !== FORMAT_VERSION) {
    return bad(trainingPath, `not a ${TRAINING_FORMAT} file of format version ${FORMAT_VERSION}`);
  }
  const training = tj['training'];
  const version = tj['version'];
  if (!Number.isSafeInteger(version) || (version as number) < 0) bad(trainingPath, `version must be an integer ≥ 0`);
  if (!isRecord(training) || !Number.isSafeInteger(training['step']) || !Number.isSafeInteger(training['epoch'])) {
    return bad(trainingPath, 'training needs integer epoch and step');
  }
  if (typeof training['seed'] !== 'number') bad(trainingPath, 'training.seed must be a number');
  // Checkpoints written before digests existed have none: they are read as they are.
  const digests = tj['digests'];
  if (digests !== undefined) {
    if (!isRecord(digests)) return bad(trainingPath, 'digests must be an object');
    const files: [string, Uint8Array][] = [
      [WEIGHTS_BIN_FILE, float32ToLittleEndian(model.weights)],
      [OPTIMIZER_BIN_FILE, binBytes],
    ];
    for (const [file, bytes] of files) {
      const recorded = digests[file];
      if (typeof recorded !== 'string') return bad(trainingPath, `digests.${file} is missing`);
      if (sha256(bytes) !== recorded) bad(join(dir, file), `its sha256 differs from the one ${TRAINING_JSON_FILE} recorded: the file changed after it was written`);
    }
  }

  return {
    topology: model.topology,
    layout,
    weights: model.weights,
    version: version as number,
    optimizer: { config, state: optimizerState },
    training: training as unknown as TrainingState,
  };
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
