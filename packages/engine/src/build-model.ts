/**
 * Models from a job's model source: a layer spec or a tfjs Layers topology.
 *
 * Layer names are `<type>_<index>` unless the spec names them, never tfjs's
 * process-global counters, so every process that builds the same spec gets
 * the same weight names (`dense_0/kernel`) and the flat layouts agree.
 */

import * as tfl from '@tensorflow/tfjs-layers';
import { EngineError, EngineErrorCode, errorText } from './engine-error.js';
import type { ActivationName, InitializerName, LayerSpec, ModelSource, RegularizerSpec } from './model-spec.js';
import { isRecord } from './spec-fields.js';
import { validateModelSpec } from './validate-model-spec.js';

type Initializer = ReturnType<typeof tfl.initializers.zeros>;
type Layer = Parameters<tfl.Sequential['add']>[0];

export interface BuildModelOptions {
  /**
   * Seeds every random initialiser (a different derived seed per layer and
   * weight), so the same spec and seed give identical weights in any process.
   * A non-negative integer; default: unseeded. Only applies to layer specs: a
   * topology carries its initialisers' own seeds.
   */
  readonly seed?: number;
}

/** A distinct, reproducible 32-bit seed per (layer, weight slot). */
function deriveSeed(seed: number, layerIndex: number, slot: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (layerIndex + 0x632be5ab), 0xc2b2ae35) >>> 0;
  h = Math.imul(h ^ (h >>> 15) ^ (slot + 0x2545f491), 0x27d4eb2f) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

function initializer(name: InitializerName, seed: number | undefined): Initializer {
  const seeded = seed === undefined ? {} : { seed };
  switch (name) {
    case 'zeros':
      return tfl.initializers.zeros();
    case 'ones':
      return tfl.initializers.ones();
    case 'glorotUniform':
      return tfl.initializers.glorotUniform(seeded);
    case 'glorotNormal':
      return tfl.initializers.glorotNormal(seeded);
    case 'heNormal':
      return tfl.initializers.heNormal(seeded);
    case 'heUniform':
      return tfl.initializers.heUniform(seeded);
    case 'leCunNormal':
      return tfl.initializers.leCunNormal(seeded);
    case 'leCunUniform':
      return tfl.initializers.leCunUniform(seeded);
  }
}

function regularizer(spec: RegularizerSpec | undefined): { kernelRegularizer?: ReturnType<typeof tfl.regularizers.l1l2> } {
  if (spec === undefined) return {};
  return { kernelRegularizer: tfl.regularizers.l1l2({ l1: spec.l1 ?? 0, l2: spec.l2 ?? 0 }) };
}

function pairOrSize(value: number | readonly [number, number]): number | [number, number] {
  return typeof value === 'number' ? value : [value[0], value[1]];
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Partial<Record<K, V>>);
}

function makeLayer(spec: LayerSpec, index: number, seed: number | undefined): Layer {
  const init = (name: InitializerName | undefined, fallback: InitializerName, slot: number): Initializer =>
    initializer(name ?? fallback, seed === undefined ? undefined : deriveSeed(seed, index, slot));
  const common = {
    name: spec.name ?? `${spec.type}_${index}`,
    ...(spec.inputShape === undefined ? {} : { inputShape: [...spec.inputShape] }),
  };
  const activation = (name: ActivationName | undefined): { activation?: ActivationName } => optional('activation', name);
  switch (spec.type) {
    case 'dense':
      return tfl.layers.dense({
        ...common,
        units: spec.units,
        ...activation(spec.activation),
        ...optional('useBias', spec.useBias),
        kernelInitializer: init(spec.kernelInitializer, 'glorotUniform', 0),
        biasInitializer: init(spec.biasInitializer, 'zeros', 1),
        ...regularizer(spec.kernelRegularizer),
      });
    case 'conv2d':
      return tfl.layers.conv2d({
        ...common,
        filters: spec.filters,
        kernelSize: pairOrSize(spec.kernelSize),
        ...optional('strides', spec.strides === undefined ? undefined : pairOrSize(spec.strides)),
        ...optional('padding', spec.padding),
        ...activation(spec.activation),
        ...optional('useBias', spec.useBias),
        kernelInitializer: init(spec.kernelInitializer, 'glorotUniform', 0),
        biasInitializer: init(spec.biasInitializer, 'zeros', 1),
        ...regularizer(spec.kernelRegularizer),
      });
    case 'depthwiseConv2d':
      return tfl.layers.depthwiseConv2d({
        ...common,
        kernelSize: pairOrSize(spec.kernelSize),
        ...optional('depthMultiplier', spec.depthMultiplier),
        ...optional('strides', spec.strides === undefined ? undefined : pairOrSize(spec.strides)),
        ...optional('padding', spec.padding),
        ...activation(spec.activation),
        ...optional('useBias', spec.useBias),
        depthwiseInitializer: init(spec.depthwiseInitializer, 'glorotUniform', 0),
        biasInitializer: init(undefined, 'zeros', 1),
      });
    case 'maxPooling2d':
      return tfl.layers.maxPooling2d({
        ...common,
        ...optional('poolSize', spec.poolSize === undefined ? undefined : pairOrSize(spec.poolSize)),
        ...optional('strides', spec.strides === undefined ? undefined : pairOrSize(spec.strides)),
        ...optional('padding', spec.padding),
      });
    case 'flatten':
      return tfl.layers.flatten(common);
    case 'reshape':
      return tfl.layers.reshape({ ...common, targetShape: [...spec.targetShape] });
    case 'dropout':
      // Unseeded on purpose: a seeded tfjs dropout draws the same mask every step.
      return tfl.layers.dropout({ ...common, rate: spec.rate });
    case 'batchNormalization':
      return tfl.layers.batchNormalization({
        ...common,
        ...optional('momentum', spec.momentum),
        ...optional('epsilon', spec.epsilon),
      });
    case 'activation':
      return tfl.layers.activation({ ...common, activation: spec.activation });
    case 'embedding':
      return tfl.layers.embedding({
        ...common,
        inputDim: spec.inputDim,
        outputDim: spec.outputDim,
        embeddingsInitializer:
          spec.embeddingsInitializer === undefined
            ? tfl.initializers.randomUniform({
                minval: -0.05,
                maxval: 0.05,
                ...optional('seed', seed === undefined ? undefined : deriveSeed(seed, index, 0)),
              })
            : init(spec.embeddingsInitializer, 'glorotUniform', 0),
      });
  }
}

/**
 * A sequential model from a layer list (validated first). Synchronous, unlike
 * `buildModel`, because no topology parsing is involved.
 */
export function buildModelFromLayers(layers: unknown, options: BuildModelOptions = {}): tfl.LayersModel {
  const { seed } = options;
  if (seed !== undefined && (!Number.isInteger(seed) || seed < 0)) {
    throw new EngineError(EngineErrorCode.MODEL_SPEC, `seed: expected a non-negative integer, got ${String(seed)}`);
  }
  const specs = validateModelSpec(layers);
  const model = tfl.sequential({ name: 'model' });
  specs.forEach((spec, index) => {
    try {
      model.add(makeLayer(spec, index, seed));
    } catch (error) {
      throw new EngineError(EngineErrorCode.MODEL_SPEC, `model.layers[${index}] (${spec.type}): ${errorText(error)}`, {
        cause: error,
      });
    }
  });
  return model;
}

/**
 * A model from a tfjs Layers topology: the object `modelTopology` returns, or
 * a whole model.json object (only its `modelTopology` is used; weights are
 * the caller's business). Throws `DTRAIN_ENGINE_MODEL_SPEC` if tfjs rejects it.
 */
export async function modelFromTopology(topology: unknown): Promise<tfl.LayersModel> {
  if (!isRecord(topology)) {
    throw new EngineError(EngineErrorCode.MODEL_SPEC, 'model.topology: expected a tfjs Layers topology object');
  }
  const modelTopology = isRecord(topology['modelTopology']) ? topology['modelTopology'] : topology;
  try {
    return await tfl.models.modelFromJSON({ modelTopology } as Parameters<typeof tfl.models.modelFromJSON>[0]);
  } catch (error) {
    throw new EngineError(EngineErrorCode.MODEL_SPEC, `model.topology: ${errorText(error)}`, { cause: error });
  }
}

/** The model's topology as a JSON-able object (tfjs Layers format, no weights). */
export function modelTopology(model: tfl.LayersModel): unknown {
  return model.toJSON(null, false);
}

/** A model from either kind of source; see `buildModelFromLayers` and `modelFromTopology`. */
export async function buildModel(source: ModelSource, options: BuildModelOptions = {}): Promise<tfl.LayersModel> {
  if (source.kind === 'layers') return buildModelFromLayers(source.layers, options);
  if (source.kind === 'topology') return modelFromTopology(source.topology);
  throw new EngineError(
    EngineErrorCode.MODEL_SPEC,
    `model.kind: expected 'layers' or 'topology', got ${JSON.stringify((source as { kind?: unknown }).kind)}`,
  );
}
