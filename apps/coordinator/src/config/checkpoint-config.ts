/**
 * The `checkpoint:` section: where and how often the parameter server's
 * weights and optimizer state are written. Every key is optional.
 */
import { optionalPath } from './config-paths.js';
import { NON_NEGATIVE_INT, POSITIVE_INT, optionalInt, optionalObjectWithKeys } from './validators.js';

export interface CheckpointConfig {
  /**
   * Absolute directory (a relative one in the config resolves against the
   * config's folder); need not exist yet. Default undefined: the CLI picks
   * `<out>/checkpoints`.
   */
  dir?: string;
  /** Write a checkpoint every N committed steps; 0 = only at epoch end and shutdown; default 0. */
  everySteps: number;
  /** Checkpoints kept on disk, oldest deleted first; integer >= 1, default 3. */
  keep: number;
}

export const CHECKPOINT_DEFAULTS = { everySteps: 0, keep: 3 } as const;

const CHECKPOINT_KEYS = ['dir', 'everySteps', 'keep'] as const;

export function parseCheckpointConfig(raw: unknown, configDir: string): CheckpointConfig {
  const fields = optionalObjectWithKeys(raw, 'checkpoint', CHECKPOINT_KEYS);
  const dir = optionalPath(fields, 'dir', configDir);
  const everySteps = optionalInt(fields, 'everySteps', NON_NEGATIVE_INT, CHECKPOINT_DEFAULTS.everySteps);
  const keep = optionalInt(fields, 'keep', POSITIVE_INT, CHECKPOINT_DEFAULTS.keep);
  return { ...(dir === undefined ? {} : { dir }), everySteps, keep };
}
