import { ConfigError } from './config-error.js';

/** Runs `run` and returns the ConfigError it throws; fails the test on anything else. */
export function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}
