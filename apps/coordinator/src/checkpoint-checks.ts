import { ParameterServerError, type Checkpoint } from '@dtrain/parameter-server';
import type { JobConfig } from './config/index.js';
import { serverOptimizer } from './config/index.js';
import { ConfigError } from './config/config-error.js';
import type { ModelHost } from './model-host.js';
import type { RunPosition } from './training-run.js';

/**
 * Checks of a checkpoint against the job about to continue from it, beyond
 * the file checks the parameter server makes (formats, sizes, digests,
 * optimizer state).
 *
 * - `checkRunPosition`: the run position in training.json (samples, history,
 *   the data cursor's shape). A failure is corruption: the checkpoint is
 *   passed over for the previous one (ParameterServerError
 *   DTRAIN_PS_CHECKPOINT naming training.json).
 * - `assertSameJob`: a checkpoint of another job or model is the user's
 *   mistake (a shared folder, a renamed job): a ConfigError naming the field
 *   that differs, exit 2, nothing resumed.
 */
export function checkRunPosition(dir: string, cp: Checkpoint): RunPosition {
  const t = cp.training as Record<string, unknown>;
  const bad = (what: string): never => {
    throw new ParameterServerError('DTRAIN_PS_CHECKPOINT', `${dir}/training.json: ${what}`, { file: `${dir}/training.json` });
  };
  const samples = t['samples'];
  if (!Number.isSafeInteger(samples) || (samples as number) < 0) bad(`training.samples must be an integer ≥ 0, got ${JSON.stringify(samples)}`);
  const history = t['history'];
  if (!Array.isArray(history) || history.some((h) => typeof h !== 'object' || h === null || !Number.isSafeInteger((h as Record<string, unknown>)['epoch']))) {
    bad('training.history must be a list of epoch records');
  }
  const cursor = t['cursor'];
  if (cursor !== null && cursor !== undefined && (typeof cursor !== 'object' || Array.isArray(cursor))) bad('training.cursor must be a data-plan cursor or null');
  return { epoch: cp.training.epoch, step: cp.training.step, samples: samples as number, history: history as RunPosition['history'], cursor: (cursor ?? undefined) as RunPosition['cursor'] };
}

/** @throws ConfigError naming the first field in which the checkpoint's job differs from this one. */
export function assertSameJob(dir: string, cp: Checkpoint, config: JobConfig, host: ModelHost, numTrainSamples: number): void {
  host.assertSameLayout(cp.layout, dir);
  const differs = (field: string, there: unknown, here: unknown): never => {
    throw new ConfigError(
      'DTRAIN_CONFIG_INVALID',
      `checkpoint.dir: ${dir} holds a checkpoint of another job (${field} is ${JSON.stringify(there)} there, ${JSON.stringify(here)} here); use another folder or delete it`,
      { field: 'checkpoint.dir' },
    );
  };
  const t = cp.training as Record<string, unknown>;
  if (t['job'] !== undefined && t['job'] !== config.name) differs('name', t['job'], config.name);
  const server = serverOptimizer(config.training);
  const serverField = config.training.localSteps > 1 ? 'training.outerOptimizer.name' : 'training.optimizer.name';
  if (cp.optimizer.config.name !== server.name) differs(serverField, cp.optimizer.config.name, server.name);
  if (cp.training.seed !== config.training.seed) differs('training.seed', cp.training.seed, config.training.seed);
  const cursor = t['cursor'] as Record<string, unknown> | null | undefined;
  if (cursor !== null && cursor !== undefined) {
    if (cursor['batchSize'] !== config.training.batchSize) differs('training.batchSize', cursor['batchSize'], config.training.batchSize);
    if (cursor['numSamples'] !== numTrainSamples) differs('the number of training samples (dataset)', cursor['numSamples'], numTrainSamples);
  }
}
