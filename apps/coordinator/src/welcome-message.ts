import type { SharedDataDescriptor, ShardDescriptor, WeightEntry, WelcomeMessage } from '@dtrain/protocol';
import type { JobConfig } from './config/index.js';
import type { DatasetInfo } from './job-data.js';

/**
 * Everything a generic worker needs to start, in one message: the job's
 * training settings, the model topology and weight layout, the version of
 * the weights that follow (as chunk frames), the shards that own the
 * layout, and how the training data will be shipped (or where the worker reads it).
 */
export function buildWelcome(w: {
  workerId: number;
  config: JobConfig;
  topology: unknown;
  layout: readonly WeightEntry[];
  version: number;
  shards: readonly ShardDescriptor[];
  train: DatasetInfo;
  chunkSize: number;
  /** Shared access: where the worker reads its samples. Absent: they arrive as data chunks. */
  shared?: SharedDataDescriptor | undefined;
}): WelcomeMessage {
  const { config, train } = w;
  return {
    type: 'welcome',
    workerId: w.workerId,
    job: {
      name: config.name,
      loss: config.training.loss,
      batchSize: config.training.batchSize,
      seed: config.training.seed,
      heartbeatIntervalMs: config.cluster.heartbeatIntervalMs,
      chunkBytes: config.cluster.chunkBytes,
      // Absent for float32, so a worker of a version before the field reads the same job.
      ...(config.cluster.wire === 'float32' ? {} : { wire: config.cluster.wire }),
      ...(config.training.localSteps > 1
        ? { local: { steps: config.training.localSteps, optimizer: { ...config.training.optimizer }, innerState: config.training.innerState } }
        : {}),
    },
    modelTopology: w.topology,
    layout: w.layout,
    version: w.version,
    shards: w.shards,
    data: {
      numSamples: train.numSamples,
      featureShape: train.featureShape,
      labelShape: train.labelShape,
      chunkSize: w.chunkSize,
      ...(w.shared === undefined ? {} : { shared: w.shared }),
    },
  };
}
