import { readLatestCheckpoint, type Checkpoint, type OptimizerState } from '@dtrain/parameter-server';
import { assertSameJob, checkRunPosition } from './checkpoint-checks.js';
import { ConfigError, type JobConfig } from './config/index.js';
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
 * otherwise epoch 0 with `initialWeights` when given (length-checked against
 * the layout), else the model's own initial weights. A checkpoint of a
 * different model is refused (ModelHost.assertSameLayout). The state covers
 * the whole layout whatever shard count wrote it, so it restores any other.
 */
export async function startRun(
  host: ModelHost,
  config: JobConfig,
  numTrainSamples: number,
  checkpointDir: string,
  resume: boolean,
  log: Logger,
  initialWeights?: Float32Array,
): Promise<RunStart> {
  const found = resume ? await readValidCheckpoint(checkpointDir, log) : undefined;
  if (found === undefined) {
    if (initialWeights !== undefined && initialWeights.length !== host.layout.totalSize) {
      throw new ConfigError(
        'DTRAIN_CONFIG_INVALID',
        `initialWeights: expected ${host.layout.totalSize} float32 values (the model's weight layout), got ${initialWeights.length}`,
        { field: 'initialWeights' },
      );
    }
    return {
      // A copy: the embedded shard updates its weights in place, and the caller's array stays theirs.
      state: { weights: initialWeights === undefined ? host.initialWeights() : Float32Array.from(initialWeights), optimizerState: undefined, version: 0 },
      position: { epoch: 0, step: 0, samples: 0, history: [], cursor: undefined },
      resumed: false,
    };
  }
  const { checkpoint: saved, position } = found;
  assertSameJob(checkpointDir, saved, config, host, numTrainSamples);
  log.warn(`resuming from checkpoint ${checkpointDir}: epoch ${position.epoch}, step ${position.step}, version ${saved.version}`);
  return {
    state: { weights: saved.weights, optimizerState: saved.optimizer.state, version: saved.version },
    position,
    resumed: true,
  };
}

/**
 * The newest checkpoint in `dir` that passes every check (files, digests,
 * optimizer state, run position); each one passed over is said in one line.
 * @throws ParameterServerError DTRAIN_PS_CHECKPOINT when checkpoints exist and none passes.
 */
export async function readValidCheckpoint(dir: string, log: Logger): Promise<{ checkpoint: Checkpoint; position: RunPosition } | undefined> {
  let position: RunPosition | undefined;
  const checkpoint = await readLatestCheckpoint(dir, {
    onRejected: (where, error) => log.warn(`checkpoint ${where} is not usable, trying an older one: ${error.message}`),
    validate: (where, cp) => {
      position = checkRunPosition(where, cp);
    },
  });
  if (checkpoint === undefined || position === undefined) return undefined;
  return { checkpoint, position };
}
