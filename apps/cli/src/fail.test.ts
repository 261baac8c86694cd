import { describe, expect, it } from 'vitest';
import { describeFailure } from './fail.js';
import { UsageError, UsageErrorCode } from './usage-error.js';

class Coded extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

describe('describeFailure', () => {
  it.each([
    [new UsageError(UsageErrorCode.USAGE, 'dtrain train: --config is required'), 2, 'dtrain: dtrain train: --config is required'],
    [new Coded('DTRAIN_CONFIG_INVALID', 'training.epochs: required'), 2, 'dtrain: training.epochs: required'],
    [new Coded('DTRAIN_DATA_MAGIC', 'x.gz: byte 0: expected an IDX magic number'), 2, 'dtrain: x.gz: byte 0: expected an IDX magic number'],
    [new Coded('DTRAIN_ENGINE_MODEL_SPEC', 'model.layers[0].units: expected a positive integer, got 0'), 2, 'dtrain: model.layers[0].units: expected a positive integer, got 0'],
    [new Coded('DTRAIN_JOB_NO_WORKERS', 'fewer than cluster.minWorkers=2 workers'), 1, 'dtrain: fewer than cluster.minWorkers=2 workers'],
    [new Error('boom\n    at somewhere'), 1, 'dtrain: boom'],
    ['a string', 1, 'dtrain: a string'],
  ])('%s → exit %i, one line', (error, exitCode, line) => {
    expect(describeFailure(error)).toEqual({ line, exitCode });
  });
});
