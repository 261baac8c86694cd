import { describe, expect, test } from 'vitest';
import { parseCheckpointConfig } from './checkpoint-config.js';
import { configError } from './config-error.testkit.js';

describe('checkpoint', () => {
  test.each([
    { raw: undefined, expected: { everySteps: 0, keep: 3 } },
    { raw: {}, expected: { everySteps: 0, keep: 3 } },
    // A directory need not exist yet: the parameter server creates it.
    { raw: { dir: 'runs/ckpt', everySteps: 100, keep: 1 }, expected: { dir: '/jobs/mnist/runs/ckpt', everySteps: 100, keep: 1 } },
    { raw: { dir: '/var/ckpt/' }, expected: { dir: '/var/ckpt', everySteps: 0, keep: 3 } },
    { raw: { dir: '../shared' }, expected: { dir: '/jobs/shared', everySteps: 0, keep: 3 } },
  ])('$raw → $expected', ({ raw, expected }) => {
    expect(parseCheckpointConfig(raw, '/jobs/mnist')).toStrictEqual(expected);
  });

  test.each([
    { raw: 'ckpt', field: 'checkpoint', message: 'checkpoint: expected an object, got "ckpt"' },
    { raw: { dir: 3 }, field: 'checkpoint.dir', message: 'checkpoint.dir: expected a non-empty string, got 3' },
    { raw: { dir: '' }, field: 'checkpoint.dir', message: 'checkpoint.dir: expected a non-empty string, got ""' },
    { raw: { everySteps: -1 }, field: 'checkpoint.everySteps', message: 'checkpoint.everySteps: expected a non-negative integer, got -1' },
    { raw: { everySteps: 0.5 }, field: 'checkpoint.everySteps', message: 'checkpoint.everySteps: expected a non-negative integer, got 0.5' },
    { raw: { keep: 0 }, field: 'checkpoint.keep', message: 'checkpoint.keep: expected a positive integer, got 0' },
    { raw: { every: 10 }, field: 'checkpoint.every', message: 'checkpoint.every: unknown key (expected one of: dir, everySteps, keep)' },
    { raw: { everyStep: 10 }, field: 'checkpoint.everyStep', message: 'checkpoint.everyStep: unknown key (did you mean "everySteps"?)' },
    { raw: { directory: 'x' }, field: 'checkpoint.directory', message: 'checkpoint.directory: unknown key (expected one of: dir, everySteps, keep)' },
  ])('$message', ({ raw, field, message }) => {
    expect(configError(() => parseCheckpointConfig(raw, '/jobs/mnist'))).toMatchObject({ code: 'DTRAIN_CONFIG_INVALID', field, message });
  });
});
