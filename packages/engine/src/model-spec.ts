/**
 * The declarative model spec a job config names under `model.layers`.
 * Each entry becomes one tfjs layer; the first entry carries `inputShape`.
 */

export type ActivationName = 'relu' | 'sigmoid' | 'tanh' | 'softmax' | 'linear' | 'elu' | 'selu' | 'softplus';

/** Xavier = glorot*, He = he*. */
export type InitializerName =
  | 'glorotUniform'
  | 'glorotNormal'
  | 'heNormal'
  | 'heUniform'
  | 'leCunNormal'
  | 'leCunUniform'
  | 'zeros'
  | 'ones';

export interface RegularizerSpec {
  /** L1 factor; default 0. */
  readonly l1?: number;
  /** L2 factor; default 0. */
  readonly l2?: number;
}

interface LayerCommon {
  /** Only on the first layer: the shape of one sample, without the batch axis. */
  readonly inputShape?: readonly number[];
  /** Optional explicit layer name; default `<type>_<index>`. */
  readonly name?: string;
}

export interface DenseSpec extends LayerCommon {
  readonly type: 'dense';
  readonly units: number;
  readonly activation?: ActivationName;
  readonly useBias?: boolean;
  readonly kernelInitializer?: InitializerName;
  readonly biasInitializer?: InitializerName;
  readonly kernelRegularizer?: RegularizerSpec;
}

export interface Conv2dSpec extends LayerCommon {
  readonly type: 'conv2d';
  readonly filters: number;
  readonly kernelSize: number | readonly [number, number];
  readonly strides?: number | readonly [number, number];
  readonly padding?: 'valid' | 'same';
  readonly activation?: ActivationName;
  readonly useBias?: boolean;
  readonly kernelInitializer?: InitializerName;
  readonly biasInitializer?: InitializerName;
  readonly kernelRegularizer?: RegularizerSpec;
}

export interface DepthwiseConv2dSpec extends LayerCommon {
  readonly type: 'depthwiseConv2d';
  readonly kernelSize: number | readonly [number, number];
  readonly depthMultiplier?: number;
  readonly strides?: number | readonly [number, number];
  readonly padding?: 'valid' | 'same';
  readonly activation?: ActivationName;
  readonly useBias?: boolean;
  readonly depthwiseInitializer?: InitializerName;
}

export interface MaxPooling2dSpec extends LayerCommon {
  readonly type: 'maxPooling2d';
  readonly poolSize?: number | readonly [number, number];
  readonly strides?: number | readonly [number, number];
  readonly padding?: 'valid' | 'same';
}

export interface FlattenSpec extends LayerCommon {
  readonly type: 'flatten';
}

export interface ReshapeSpec extends LayerCommon {
  readonly type: 'reshape';
  readonly targetShape: readonly number[];
}

export interface DropoutSpec extends LayerCommon {
  readonly type: 'dropout';
  /** Fraction of units dropped while training, in [0, 1). */
  readonly rate: number;
}

export interface BatchNormalizationSpec extends LayerCommon {
  readonly type: 'batchNormalization';
  /** Moving-average momentum; default 0.99. */
  readonly momentum?: number;
  /** Default 1e-3. */
  readonly epsilon?: number;
}

export interface ActivationSpec extends LayerCommon {
  readonly type: 'activation';
  readonly activation: ActivationName;
}

export interface EmbeddingSpec extends LayerCommon {
  readonly type: 'embedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly embeddingsInitializer?: InitializerName;
}

export type LayerSpec =
  | DenseSpec
  | Conv2dSpec
  | DepthwiseConv2dSpec
  | MaxPooling2dSpec
  | FlattenSpec
  | ReshapeSpec
  | DropoutSpec
  | BatchNormalizationSpec
  | ActivationSpec
  | EmbeddingSpec;

export type LayerType = LayerSpec['type'];

/** Names of the losses the engine computes. */
export type LossName =
  | 'categoricalCrossentropy'
  | 'sparseCategoricalCrossentropy'
  | 'binaryCrossentropy'
  | 'meanSquaredError';

/** A model: either layers to build, or a tfjs Layers topology JSON object. */
export type ModelSource =
  | { readonly kind: 'layers'; readonly layers: readonly LayerSpec[] }
  | { readonly kind: 'topology'; readonly topology: unknown };
