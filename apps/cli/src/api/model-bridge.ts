/**
 * A compiled tfjs LayersModel seen as a dtrain job: its topology, optimizer,
 * loss and metrics mapped onto the coordinator's config, its weights onto
 * the engine's flat layout and back. Everything here runs before a worker
 * starts, so every refusal is a FitError naming what does not map.
 */
import type { MetricName, TrainingConfig } from '@dtrain/coordinator';
import { modelFromTopology, tf, weightLayout, type LossName, type WeightLayout, type tfl } from '@dtrain/engine';
import { FitError, FitErrorCode } from './fit-error.js';

type OptimizerConfig = TrainingConfig['optimizer'];

/** Per-sample shapes of the model's one input and one output (no batch axis). */
export interface ModelShapes {
  readonly input: readonly number[];
  readonly output: readonly number[];
  readonly inputSize: number;
  readonly outputSize: number;
}

/** What a job needs to know of the user's model. */
export interface ModelBridge {
  /** `model.toJSON(null, false)`: the tfjs Layers topology workers rebuild. */
  readonly topology: unknown;
  readonly optimizer: OptimizerConfig;
  readonly loss: LossName;
  readonly metrics: MetricName[];
  readonly shapes: ModelShapes;
}

/** The losses dtrain computes, under the names tfjs' `compile` accepts for them. */
const LOSS_ALIASES: Readonly<Record<string, LossName>> = {
  sparseCategoricalCrossentropy: 'sparseCategoricalCrossentropy',
  sparse_categorical_crossentropy: 'sparseCategoricalCrossentropy',
  categoricalCrossentropy: 'categoricalCrossentropy',
  categorical_crossentropy: 'categoricalCrossentropy',
  binaryCrossentropy: 'binaryCrossentropy',
  binary_crossentropy: 'binaryCrossentropy',
  meanSquaredError: 'meanSquaredError',
  mean_squared_error: 'meanSquaredError',
  mse: 'meanSquaredError',
  MSE: 'meanSquaredError',
};

/** The tfjs optimizer classes (`getClassName()`) that map, and onto what. */
const MAPPED_OPTIMIZERS = 'SGD (sgd), Momentum (momentum, Nesterov too), Adam (adam), RMSProp (rmsprop)';

/**
 * Class names tfjs-layers (and tfjs-core) registered for deserialisation by
 * the time dtrain was loaded: what a fresh worker process can rebuild. A
 * class registered later by the user's code (a custom layer) is missing here.
 */
const BUILT_IN_CLASSES: ReadonlySet<string> = new Set(Object.keys(tf.serialization.SerializationMap.getMap().classNameMap));

/**
 * Checks a compiled model and maps it onto a job.
 * @throws FitError NOT_COMPILED, OPTIMIZER, LOSS, MODEL or CUSTOM_LAYER.
 */
export function describeModel(model: tfl.LayersModel): ModelBridge {
  const compiled = (model as { optimizer?: unknown }).optimizer;
  if (compiled === undefined || compiled === null) {
    throw new FitError(FitErrorCode.NOT_COMPILED, 'fit: the model is not compiled; call model.compile({ optimizer, loss, metrics }) first');
  }
  const shapes = modelShapes(model);
  const loss = mapLoss(model.loss);
  const optimizer = mapOptimizer(model.optimizer);
  const topology = model.toJSON(null, false);
  checkLayerClasses(topology, BUILT_IN_CLASSES);
  return { topology, optimizer, loss, metrics: mapMetrics(model.metricsNames, loss), shapes };
}

/** The model's per-sample input and output shapes; one input and one output, every dimension known. */
export function modelShapes(model: tfl.LayersModel): ModelShapes {
  const [input] = model.inputs;
  const [output] = model.outputs;
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || input === undefined || output === undefined) {
    throw new FitError(FitErrorCode.MODEL, `fit: dtrain trains models with one input and one output; this one has ${model.inputs.length} inputs and ${model.outputs.length} outputs`);
  }
  const known = (shape: readonly (number | null)[], what: string): number[] => {
    const dims = shape.slice(1);
    if (dims.some((d) => d === null || d <= 0)) throw new FitError(FitErrorCode.MODEL, `fit: the model's ${what} shape [${shape.join(', ')}] has unknown dimensions`);
    return dims as number[];
  };
  const inputShape = known(input.shape, 'input');
  const outputShape = known(output.shape, 'output');
  const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
  return { input: inputShape, output: outputShape, inputSize: size(inputShape), outputSize: size(outputShape) };
}

/**
 * tfjs' `model.loss` as a dtrain loss: a name (or a one-entry list of one)
 * that dtrain computes.
 * @throws FitError LOSS for a function, several losses or another name.
 */
export function mapLoss(loss: unknown): LossName {
  const supported = `dtrain computes ${[...new Set(Object.values(LOSS_ALIASES))].join(', ')} (or their snake_case names, and 'mse')`;
  const one = Array.isArray(loss) && loss.length === 1 ? (loss[0] as unknown) : loss;
  if (typeof one === 'function') throw new FitError(FitErrorCode.LOSS, `fit: the model's loss is a function; workers cannot run it. ${supported}`);
  if (typeof one !== 'string') throw new FitError(FitErrorCode.LOSS, `fit: the model's loss must be one loss name, got ${JSON.stringify(loss)}. ${supported}`);
  const name = Object.hasOwn(LOSS_ALIASES, one) ? LOSS_ALIASES[one] : undefined;
  if (name === undefined) throw new FitError(FitErrorCode.LOSS, `fit: loss '${one}' is not supported. ${supported}`);
  return name;
}

/** The part of a tfjs optimizer the mapping reads. */
export interface TfjsOptimizerLike {
  getClassName(): string;
  getConfig(): Record<string, unknown>;
}

/**
 * A tfjs optimizer as dtrain's OptimizerConfig, hyper-parameters included:
 * SGD → sgd, Momentum → momentum (Nesterov too), Adam → adam, RMSProp → rmsprop.
 * @throws FitError OPTIMIZER naming the class and listing those that map.
 */
export function mapOptimizer(optimizer: TfjsOptimizerLike): OptimizerConfig {
  const className = optimizer.getClassName();
  const config = optimizer.getConfig();
  const num = (key: string): number | undefined => {
    const v = config[key];
    return typeof v === 'number' ? v : undefined;
  };
  const learningRate = num('learningRate');
  if (learningRate === undefined || !(learningRate > 0) || !Number.isFinite(learningRate)) {
    throw new FitError(FitErrorCode.OPTIMIZER, `fit: optimizer ${className}: learningRate must be a positive number, got ${String(config['learningRate'])}`);
  }
  const present = <K extends string>(values: Record<K, number | boolean | undefined>): Partial<Record<K, number | boolean>> =>
    Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<Record<K, number | boolean>>;
  switch (className) {
    case 'SGD':
      return { name: 'sgd', learningRate };
    case 'Momentum':
      return { name: 'momentum', learningRate, ...(present({ momentum: num('momentum'), useNesterov: config['useNesterov'] === true ? true : undefined }) as object) };
    case 'Adam':
      return { name: 'adam', learningRate, ...(present({ beta1: num('beta1'), beta2: num('beta2'), epsilon: num('epsilon') }) as object) };
    case 'RMSProp':
      return {
        name: 'rmsprop',
        learningRate,
        ...(present({ decay: num('decay'), momentum: num('momentum'), epsilon: num('epsilon'), centered: config['centered'] === true ? true : undefined }) as object),
      };
    default:
      throw new FitError(
        FitErrorCode.OPTIMIZER,
        `fit: optimizer ${className} has no dtrain counterpart; the ones that map: ${MAPPED_OPTIMIZERS}`,
      );
  }
}

/** `model.metricsNames` ('loss', 'acc', …) as the job's metrics: accuracy for classification losses; other metrics are not computed. */
export function mapMetrics(metricsNames: readonly string[] | undefined, loss: LossName): MetricName[] {
  const wantsAccuracy = (metricsNames ?? []).some((m) => m === 'acc' || m === 'accuracy');
  return wantsAccuracy && loss !== 'meanSquaredError' ? ['accuracy'] : [];
}

/**
 * Refuses a topology naming a class outside `known`: every `class_name` of
 * the topology (layers, nested models, initializers, regularizers, …).
 * @throws FitError CUSTOM_LAYER naming the classes.
 */
export function checkLayerClasses(topology: unknown, known: ReadonlySet<string>): void {
  const unknown = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    const className = record['class_name'];
    if (typeof className === 'string' && !known.has(className)) unknown.add(className);
    for (const child of Object.values(record)) walk(child);
  };
  walk(topology);
  if (unknown.size > 0) {
    throw new FitError(
      FitErrorCode.CUSTOM_LAYER,
      `fit: the model uses ${[...unknown].join(', ')}, which tfjs-layers does not define; custom layers (and other custom classes) are not supported across worker processes`,
    );
  }
}

/**
 * The engine's flat weight layout for a topology: the model a worker (and
 * the coordinator) builds from it, built once here and thrown away.
 * @throws FitError MODEL when tfjs cannot rebuild the topology.
 */
export async function engineLayout(topology: unknown): Promise<WeightLayout> {
  let rebuilt: tfl.LayersModel;
  try {
    rebuilt = await modelFromTopology(topology);
  } catch (error) {
    throw new FitError(FitErrorCode.MODEL, `fit: workers could not rebuild the model from its topology: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  try {
    return weightLayout(rebuilt);
  } finally {
    rebuilt.dispose();
  }
}

/** One of the user's weights, as tfjs' LayerVariable shows it. */
export interface NamedWeight {
  readonly originalName: string;
  readonly shape: readonly (number | null)[];
  read(): tf.Tensor;
}

/**
 * The user's weights as one flat array in `layout`'s order, matched by name
 * and shape (a rebuilt model orders and names its weights as the topology
 * does, which need not be `model.weights`' order).
 * @throws FitError MODEL when a layout entry has no weight of that name and shape.
 */
export function flatWeightsByName(layout: WeightLayout, weights: readonly NamedWeight[]): Float32Array {
  const byName = matchWeights(layout, weights);
  const flat = new Float32Array(layout.totalSize);
  for (const entry of layout.entries) {
    const values = (byName.get(entry.name) as NamedWeight).read().dataSync();
    flat.set(values, entry.offset);
  }
  return flat;
}

/**
 * Writes a flat array in `layout`'s order into the user's weights, matched by
 * name and shape: `fit`'s "the model holds the trained weights".
 */
export function writeWeightsByName(layout: WeightLayout, weights: readonly (NamedWeight & { write(value: tf.Tensor): void })[], flat: Float32Array): void {
  const byName = matchWeights(layout, weights);
  for (const entry of layout.entries) {
    const weight = byName.get(entry.name) as NamedWeight & { write(value: tf.Tensor): void };
    const value = tf.tensor(flat.subarray(entry.offset, entry.offset + entry.size), [...entry.shape], 'float32');
    try {
      weight.write(value);
    } finally {
      value.dispose();
    }
  }
}

function matchWeights<W extends NamedWeight>(layout: WeightLayout, weights: readonly W[]): Map<string, W> {
  const byName = new Map(weights.map((w) => [w.originalName, w]));
  for (const entry of layout.entries) {
    const weight = byName.get(entry.name);
    if (weight === undefined) throw new FitError(FitErrorCode.MODEL, `fit: the model has no weight ${entry.name} [${entry.shape.join(', ')}], which its rebuilt topology has`);
    if (weight.shape.join(',') !== entry.shape.join(',')) {
      throw new FitError(FitErrorCode.MODEL, `fit: weight ${entry.name} is [${weight.shape.join(', ')}] in the model but [${entry.shape.join(', ')}] in its rebuilt topology`);
    }
  }
  return byName;
}
