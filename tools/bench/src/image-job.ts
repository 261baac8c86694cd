/**
 * The job of the data benchmark: a small MLP (flatten, 3072→64 ReLU, 64→10
 * softmax) on the synthetic 32×32×3 uint8 .npy shards of npy-shards.ts,
 * scaled by 255, one epoch at most (the benchmark bounds it in time too).
 */
import { CLASSES, IMAGE_SHAPE } from './npy-shards.js';

/** How the workers get their samples: dataset.access. */
export type DataAccess = 'ship' | 'shared';

export interface ImageJobOptions {
  readonly name: string;
  /** The features .npy files: a glob or a list (read in list order). */
  readonly features: string | readonly string[];
  /** The labels .npy files, paired with `features` in order. */
  readonly labels: string | readonly string[];
  /**
   * dataset.access; undefined leaves the key (and cacheBytes) out, for
   * builds of dtrain from before it existed (their parser refuses it).
   */
  readonly access: DataAccess | undefined;
  /** dataset.cacheBytes with shared access: each worker's sample cache, bytes. */
  readonly cacheBytes: number;
  /** Samples per batch per worker. */
  readonly batchSize: number;
  /** Units of the hidden layer. */
  readonly hidden: number;
  readonly workers: number;
}

/** The job config (as the YAML object). */
export function imageJob(o: ImageJobOptions): Record<string, unknown> & { readonly name: string } {
  return {
    name: o.name,
    model: {
      layers: [
        { type: 'flatten', inputShape: [...IMAGE_SHAPE] },
        { type: 'dense', units: o.hidden, activation: 'relu', kernelInitializer: 'heNormal' },
        { type: 'dense', units: CLASSES, activation: 'softmax' },
      ],
    },
    dataset: {
      format: 'npy',
      features: o.features,
      labels: o.labels,
      featureShape: [...IMAGE_SHAPE],
      normalise: { kind: 'scale', scale: 255 },
      validationSplit: 0.01,
      ...(o.access === undefined ? {} : { access: o.access, cacheBytes: o.cacheBytes }),
    },
    training: { epochs: 1, batchSize: o.batchSize, optimizer: { name: 'adam', learningRate: 0.001 }, loss: 'sparseCategoricalCrossentropy', seed: 7 },
    cluster: { minWorkers: o.workers, maxWorkers: o.workers },
    // Only the stop's own checkpoint: the point is reading data, not writing weights.
    checkpoint: { everySteps: 0 },
  };
}
