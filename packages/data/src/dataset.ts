/**
 * An in-memory dataset: features and labels as flat float32 arrays, sample-major.
 * Sample i's features are features[i*featureSize, (i+1)*featureSize).
 */
export interface Dataset {
  readonly numSamples: number;
  /** Shape of one sample's features, e.g. [28, 28, 1] or [784]. */
  readonly featureShape: readonly number[];
  /** Shape of one sample's label: [numClasses] for one-hot, [1] for an index or a value. */
  readonly labelShape: readonly number[];
  /** How labels are encoded. */
  readonly labelEncoding: LabelEncoding;
  /** Number of classes for 'index' and 'onehot' labels; undefined for 'value'. */
  readonly numClasses: number | undefined;
  readonly features: Float32Array;
  readonly labels: Float32Array;
  /** Where it came from, for error messages and status pages. */
  readonly source: string;
}

/** 'index': class id as a float; 'onehot': one-hot vector; 'value': regression target(s). */
export type LabelEncoding = 'index' | 'onehot' | 'value';

/** How features are normalised; statistics come from the training split only. */
export type Normalisation =
  | { readonly kind: 'none' }
  /** x / scale (e.g. 255 for bytes) so values land in [0, 1]. Default scale: the max observed. */
  | { readonly kind: 'scale'; readonly scale?: number }
  /** (x - mean) / std per feature. */
  | { readonly kind: 'standardize' };

/** Statistics a normalisation fitted on training data, re-applied to validation/test/inference. */
export type NormalisationStats =
  | { readonly kind: 'none' }
  | { readonly kind: 'scale'; readonly scale: number }
  | { readonly kind: 'standardize'; readonly mean: Float32Array; readonly std: Float32Array };

/** One batch of an epoch plan. */
export interface Batch {
  /** Unique within an epoch; stable across re-queues. */
  readonly batchId: number;
  readonly epoch: number;
  readonly sampleIds: Uint32Array;
}
