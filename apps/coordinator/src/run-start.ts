import { ParameterShard, readLatestCheckpoint } from '@dtrain/parameter-server';
import type { JobConfig } from './config/index.js';
import type { Logger } from './logger.js';
import type { ModelHost } from './model-host.js';
import type { RunPosition } from './training-run.js';

/** Where a job starts: its (embedded, whole-layout) parameter-server shard and run position, fresh or from a checkpoint. */
export interface RunStart {
  readonly ps: ParameterShard;
  readonly position: RunPosition;
}

/**
 * Restores weights, optimizer state, epoch, step and data cursor from the
 * newest checkpoint in `checkpointDir` when `resume` is set and there is one;
 * otherwise starts at epoch 0 with the model's initial weights. A checkpoint
 * of a different model is refused (ModelHost.assertSameLayout).
 */
export async function startRun(host: ModelHost, config: JobConfig, checkpointDir: string, resume: boolean, log: Logger): Promise<RunStart> {
  const saved = resume ? await readLatestCheckpoint(checkpointDir) : undefined;
  if (saved === undefined) {
    return {
      ps: new ParameterShard({
        layout: host.layout.entries,
        range: { start: 0, end: host.layout.totalSize },
        chunkBytes: config.cluster.chunkBytes,
        weights: host.initialWeights(),
        optimizer: config.training.optimizer,
      }),
      position: { epoch: 0, step: 0, samples: 0, history: [], cursor: undefined },
    };
  }
  host.assertSameLayout(saved.layout, checkpointDir);
  const training = saved.training as unknown as RunPosition;
  log.warn(`resuming from checkpoint ${checkpointDir}: epoch ${training.epoch}, step ${training.step}, version ${saved.version}`);
  return {
    ps: new ParameterShard({
      layout: saved.layout,
      range: { start: 0, end: saved.weights.length },
      chunkBytes: config.cluster.chunkBytes,
      weights: saved.weights,
      optimizer: config.training.optimizer,
      version: saved.version,
      optimizerState: saved.optimizer.state,
    }),
    position: {
      epoch: training.epoch,
      step: training.step,
      samples: training.samples,
      history: training.history,
      cursor: training.cursor ?? undefined,
    },
  };
}
