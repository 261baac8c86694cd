/**
 * Up-front validation of a `model.layers` spec from a job config, so a typo
 * is one line naming the layer and field rather than a tfjs stack trace from
 * the middle of model construction.
 */

import type { LayerSpec, LayerType } from './model-spec.js';
import {
  isRecord,
  numberIn,
  oneOf,
  optionalBoolean,
  optionalPositiveInt,
  positiveInt,
  positiveIntList,
  rejectUnknown,
  sizeOrPair,
  specError,
  type Fields,
} from './spec-fields.js';

export const ACTIVATIONS = ['relu', 'sigmoid', 'tanh', 'softmax', 'linear', 'elu', 'selu', 'softplus'] as const;
export const INITIALIZERS = [
  'glorotUniform',
  'glorotNormal',
  'heNormal',
  'heUniform',
  'leCunNormal',
  'leCunUniform',
  'zeros',
  'ones',
] as const;
const PADDINGS = ['valid', 'same'] as const;

type Check = (fields: Fields, path: string) => void;

const activation = (required: boolean): Check => (f, p) => oneOf(f, 'activation', p, ACTIVATIONS, required);
const initializer = (key: string): Check => (f, p) => oneOf(f, key, p, INITIALIZERS, false);
const padding: Check = (f, p) => oneOf(f, 'padding', p, PADDINGS, false);
const useBias: Check = (f, p) => optionalBoolean(f, 'useBias', p);
const strides: Check = (f, p) => sizeOrPair(f, 'strides', p, false);

const regularizer: Check = (fields, path) => {
  const value = fields['kernelRegularizer'];
  if (value === undefined) return;
  const at = `${path}.kernelRegularizer`;
  if (!isRecord(value)) throw specError(at, 'an object like { l1: 0, l2: 0.0001 }', value);
  rejectUnknown(value, at, new Set(['l1', 'l2']));
  numberIn(value, 'l1', at, { min: 0, max: Infinity }, false);
  numberIn(value, 'l2', at, { min: 0, max: Infinity }, false);
};

/** Per layer type: its own fields (beyond type, name, inputShape) and their checks. */
const LAYER_FIELDS: Readonly<Record<LayerType, Readonly<Record<string, Check>>>> = {
  dense: {
    units: (f, p) => positiveInt(f, 'units', p),
    activation: activation(false),
    useBias,
    kernelInitializer: initializer('kernelInitializer'),
    biasInitializer: initializer('biasInitializer'),
    kernelRegularizer: regularizer,
  },
  conv2d: {
    filters: (f, p) => positiveInt(f, 'filters', p),
    kernelSize: (f, p) => sizeOrPair(f, 'kernelSize', p, true),
    strides,
    padding,
    activation: activation(false),
    useBias,
    kernelInitializer: initializer('kernelInitializer'),
    biasInitializer: initializer('biasInitializer'),
    kernelRegularizer: regularizer,
  },
  depthwiseConv2d: {
    kernelSize: (f, p) => sizeOrPair(f, 'kernelSize', p, true),
    depthMultiplier: (f, p) => optionalPositiveInt(f, 'depthMultiplier', p),
    strides,
    padding,
    activation: activation(false),
    useBias,
    depthwiseInitializer: initializer('depthwiseInitializer'),
  },
  maxPooling2d: {
    poolSize: (f, p) => sizeOrPair(f, 'poolSize', p, false),
    strides,
    padding,
  },
  flatten: {},
  reshape: { targetShape: (f, p) => positiveIntList(f, 'targetShape', p) },
  dropout: { rate: (f, p) => numberIn(f, 'rate', p, { min: 0, max: 1 }, true) },
  batchNormalization: {
    momentum: (f, p) => numberIn(f, 'momentum', p, { min: 0, max: 1 }, false),
    epsilon: (f, p) => numberIn(f, 'epsilon', p, { min: 0, max: Infinity, minExclusive: true }, false),
  },
  activation: { activation: activation(true) },
  embedding: {
    inputDim: (f, p) => positiveInt(f, 'inputDim', p),
    outputDim: (f, p) => positiveInt(f, 'outputDim', p),
    embeddingsInitializer: initializer('embeddingsInitializer'),
  },
};

const COMMON_FIELDS = ['type', 'name', 'inputShape'];

function validateLayer(value: unknown, index: number, names: Map<string, number>): void {
  const path = `model.layers[${index}]`;
  if (!isRecord(value)) throw specError(path, 'an object with a type', value);
  const type = value['type'];
  const checks = typeof type === 'string' ? (LAYER_FIELDS as Record<string, Readonly<Record<string, Check>>>)[type] : undefined;
  if (checks === undefined) throw specError(`${path}.type`, `one of ${Object.keys(LAYER_FIELDS).join(', ')}`, type);
  rejectUnknown(value, path, new Set([...COMMON_FIELDS, ...Object.keys(checks)]));

  if (index === 0) {
    if (value['inputShape'] === undefined) throw specError(`${path}.inputShape`, 'the shape of one sample on the first layer, e.g. [784]', undefined);
    positiveIntList(value, 'inputShape', path);
  } else if (value['inputShape'] !== undefined) {
    throw specError(`${path}.inputShape`, 'no inputShape after the first layer', value['inputShape']);
  }

  const name = value['name'];
  if (name !== undefined) {
    if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_.-]*$/.test(name)) {
      throw specError(`${path}.name`, 'a name of letters, digits, _ . - starting with a letter', name);
    }
    if (names.has(name)) throw specError(`${path}.name`, 'a name no other layer has', name);
    names.set(name, index);
  }
  for (const check of Object.values(checks)) check(value, path);
}

/**
 * Checks a layer list from untyped input and returns it typed. Throws
 * `DTRAIN_ENGINE_MODEL_SPEC` naming the first bad field, e.g.
 * `model.layers[2].units: expected a positive integer, got 0`.
 */
export function validateModelSpec(layers: unknown): readonly LayerSpec[] {
  if (!Array.isArray(layers) || layers.length === 0) throw specError('model.layers', 'a non-empty array of layers', layers);
  const names = new Map<string, number>();
  layers.forEach((layer: unknown, index) => validateLayer(layer, index, names));
  // An explicit name may equal another layer's default `<type>_<index>`.
  layers.forEach((layer: LayerSpec, index) => {
    const clash = layer.name === undefined ? names.get(`${layer.type}_${index}`) : undefined;
    if (clash !== undefined) {
      throw specError(`model.layers[${clash}].name`, `a name other than the default name of model.layers[${index}]`, `${layer.type}_${index}`);
    }
  });
  return layers as LayerSpec[];
}
