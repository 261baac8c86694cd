import { readLatestCheckpoint, type OptimizerState } from '@dtrain/parameter-server';
import type { Logger } from './logger.js';
import type { ModelHost } from './model-host.js';
import type { RunPosition } from './training-run.js';

/** The whole layout's state a job starts (or rolls back) from. */
export interface StartState {
  readonly weights: Float32Array;
  /** Undefined for a fresh job: the optimizer starts from zero. */
  readonly optimizerState: OptimizerState | undefined;
  readonly version: number;
}

/** Where a job starts: the state to set the shards up with, and the run position. */
export interface RunStart {
  readonly state: StartState;
  readonly position: RunPosition;
  /** True when it came from a checkpoint. */
  readonly resumed: boolean;
}

/**
 * Weights, optimizer state, epoch, step and data cursor from the newest
 * checkpoint in `checkpointDir` when `resume` is set and there is one;
 * otherwise epoch 0 with the model's initial weights. A checkpoint of a
 * different model is refused (ModelHost.assertSameLayout). The state covers
 * the whole layout whatever shard count wrote it, so it restores any other.
 */
export async function startRun(host: ModelHost, checkpointDir: string, resume: boolean, log: Logger): Promise<RunStart> {
  const saved = resume ? await readLatestCheckpoint(checkpointDir) : undefined;
  if (saved === undefined) {
    return {
      state: { weights: host.initialWeights(), optimizerState: undefined, version: 0 },
      position: { epoch: 0, step: 0, samples: 0, history: [], cursor: undefined },
      resumed: false,
    };
  }
  host.assertSameLayout(saved.layout, checkpointDir);
  const training = saved.training as unknown as RunPosition;
  log.warn(`resuming from checkpoint ${checkpointDir}: epoch ${training.epoch}, step ${training.step}, version ${saved.version}`);
  return {
    state: { weights: saved.weights, optimizerState: saved.optimizer.state, version: saved.version },
    position: {
      epoch: training.epoch,
      step: training.step,
      samples: training.samples,
      history: training.history,
      cursor: training.cursor ?? undefined,
    },
    resumed: true,
  };
}
