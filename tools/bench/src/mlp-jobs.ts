/**
 * Job configs for the data-plane benchmark: dense MLPs on synthetic data,
 * sized by their layer widths, bounded to a handful of steps.
 */

/** Layer widths from input to output, e.g. [2048, 8192, 8192, 1024, 10]. */
export type MlpWidths = readonly number[];

/** Trainable parameters of a dense MLP: a kernel and a bias per layer. */
export function mlpParams(widths: MlpWidths): number {
  let n = 0;
  for (let i = 1; i < widths.length; i += 1) n += (widths[i - 1] ?? 0) * (widths[i] ?? 0) + (widths[i] ?? 0);
  return n;
}

export interface MlpJobOptions {
  readonly name: string;
  readonly widths: MlpWidths;
  /** Steps per epoch; the dataset holds exactly steps × workers × batchSize samples. */
  readonly steps: number;
  readonly workers: number;
  readonly batchSize: number;
  readonly epochs?: number;
  readonly optimizer: { readonly name: 'sgd' | 'adam'; readonly learningRate: number };
}

/**
 * A job config (as the YAML object) for a ReLU MLP with a softmax head on a
 * synthetic classification set: no validation split (no per-epoch
 * evaluation), checkpoints only at epoch ends, `minWorkers` = workers so
 * every step waits for all of them.
 */
export function mlpJob(o: MlpJobOptions): Record<string, unknown> & { readonly name: string } {
  const [input, ...rest] = o.widths;
  if (input === undefined || rest.length === 0) throw new Error(`mlpJob: need at least an input and an output width, got [${o.widths.join(', ')}]`);
  const classes = rest[rest.length - 1] ?? 0;
  return {
    name: o.name,
    model: {
      layers: rest.map((units, i) => ({
        type: 'dense',
        units,
        activation: i === rest.length - 1 ? 'softmax' : 'relu',
        ...(i === 0 ? { inputShape: [input] } : {}),
      })),
    },
    dataset: { format: 'synthetic', numSamples: o.steps * o.workers * o.batchSize, featureShape: [input], numClasses: classes, validationSplit: 0 },
    training: { epochs: o.epochs ?? 1, batchSize: o.batchSize, optimizer: o.optimizer, loss: 'sparseCategoricalCrossentropy', seed: 7 },
    cluster: { minWorkers: o.workers, maxWorkers: o.workers },
    checkpoint: { everySteps: 0 },
  };
}
