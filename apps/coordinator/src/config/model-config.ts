/**
 * The `model:` section: layers to build, or a tfjs Layers topology file.
 * Only the shape of the section is checked here; whether the layers make a
 * model (units, activations, shapes) is the engine's job when it builds one.
 */
import { readFileSync } from 'node:fs';
import type { LayerSpec } from '@dtrain/engine';
import { invalidField } from './config-error.js';
import { requireFile } from './config-paths.js';
import { describeJsonError } from './config-text.js';
import { arrayOf, describeValue, expectedGot, fieldPath, get, has, isPlainObject, joinPath, objectWithKeys } from './validators.js';

export type ModelConfig =
  /** Built by the engine from a declarative spec, one entry per tfjs layer. */
  | { kind: 'layers'; layers: LayerSpec[] }
  /**
   * A tfjs Layers topology (`{ class_name, config }`), unwrapped from a
   * `model.json` when the file was one; `path` is the absolute file it came from.
   */
  | { kind: 'topology'; topology: unknown; path: string };

const MODEL_KEYS = ['layers', 'topology'] as const;

export function parseModelConfig(raw: unknown, configDir: string): ModelConfig {
  const fields = objectWithKeys(raw, 'model', MODEL_KEYS);
  const hasLayers = has(fields, 'layers');
  const hasTopology = has(fields, 'topology');
  if (hasLayers && hasTopology) throw invalidField('model', 'expected exactly one of "layers" or "topology", got both');
  if (hasLayers) return { kind: 'layers', layers: checkLayers(get(fields, 'layers'), fieldPath(fields, 'layers')) };
  if (hasTopology) {
    const path = requireFile(fields, 'topology', configDir);
    return { kind: 'topology', topology: readTopology(path, fieldPath(fields, 'topology')), path };
  }
  throw invalidField('model', 'expected "layers" (a list of layers) or "topology" (a path to a tfjs model.json)');
}

function checkLayers(value: unknown, field: string): LayerSpec[] {
  return arrayOf(value, field, { of: 'layers', nonEmpty: true }, (layer, at) => {
    if (!isPlainObject(layer)) throw expectedGot(at, 'an object with a string "type"', layer);
    const type = layer['type'];
    if (type === undefined || type === null) throw invalidField(at, 'expected an object with a string "type"');
    if (typeof type !== 'string' || type === '') throw expectedGot(joinPath(at, 'type'), 'a non-empty string', type);
    return layer as unknown as LayerSpec;
  });
}

/**
 * Reads a topology file. Accepts the three shapes tfjs itself accepts in
 * `loadLayersModel`: a bare topology, a `model.json` with `modelTopology`,
 * and a Keras-converted one whose `modelTopology` wraps a `model_config`.
 */
function readTopology(path: string, field: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw invalidField(field, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const { line, col, reason } = describeJsonError(text, error);
    throw invalidField(field, `${path}:${line}:${col}: invalid JSON: ${reason}`);
  }
  let topology = parsed;
  if (isPlainObject(topology) && Object.hasOwn(topology, 'modelTopology')) topology = topology['modelTopology'];
  if (isPlainObject(topology) && Object.hasOwn(topology, 'model_config')) topology = topology['model_config'];
  if (!isPlainObject(topology) || typeof topology['class_name'] !== 'string') {
    throw invalidField(
      field,
      `${path} is not a tfjs model topology: expected an object with "class_name" or "modelTopology", got ${describeValue(parsed)}`,
    );
  }
  return topology;
}
