import { describe, expect, it, test } from 'vitest';
import { DEFAULT_OUTER_OPTIMIZER, checkLocalStepsFit, parseTrainingConfig, serverOptimizer } from './training-config.js';
import { configError } from './config-error.testkit.js';

const BASE = { epochs: 2, batchSize: 32, optimizer: { name: 'sgd', learningRate: 0.1 }, loss: 'sparseCategoricalCrossentropy' };

/** BASE with `change` applied; a key set to undefined is removed. */
function training(change: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify({ ...BASE, ...change })) as Record<string, unknown>;
}

describe('training', () => {
  it('fills defaults', () => {
    expect(parseTrainingConfig(BASE)).toStrictEqual({
      epochs: 2,
      batchSize: 32,
      optimizer: { name: 'sgd', learningRate: 0.1 },
      loss: 'sparseCategoricalCrossentropy',
      metrics: ['accuracy'],
      seed: 42,
      shuffle: true,
      scaleLearningRate: 'none',
      nonFinite: { maxConsecutiveSteps: 10, action: 'fail' },
      localSteps: 1,
      outerOptimizer: { name: 'momentum', learningRate: 0.7, momentum: 0.9, useNesterov: true },
      innerState: 'keep',
    });
  });

  it('reads training.nonFinite, and names a bad field', () => {
    expect(parseTrainingConfig({ ...BASE, nonFinite: { maxConsecutiveSteps: 3, action: 'skip' } }).nonFinite).toStrictEqual({ maxConsecutiveSteps: 3, action: 'skip' });
    expect(parseTrainingConfig({ ...BASE, nonFinite: { action: 'skip' } }).nonFinite).toStrictEqual({ maxConsecutiveSteps: 10, action: 'skip' });
    expect(() => parseTrainingConfig({ ...BASE, nonFinite: { maxConsecutiveSteps: 0 } })).toThrow('training.nonFinite.maxConsecutiveSteps');
    expect(() => parseTrainingConfig({ ...BASE, nonFinite: { action: 'ignore' } })).toThrow('training.nonFinite.action');
    expect(() => parseTrainingConfig({ ...BASE, nonFinite: { steps: 3 } })).toThrow('training.nonFinite.steps: unknown key');
  });

  test.each([
    { loss: 'categoricalCrossentropy', metrics: ['accuracy'] },
    { loss: 'binaryCrossentropy', metrics: ['accuracy'] },
    { loss: 'meanSquaredError', metrics: [] },
  ])('metrics default to $metrics for $loss', ({ loss, metrics }) => {
    expect(parseTrainingConfig(training({ loss })).metrics).toStrictEqual(metrics);
  });

  it('keeps given values', () => {
    const config = parseTrainingConfig(training({ metrics: [], seed: -3, shuffle: false, scaleLearningRate: 'linear' }));
    expect([config.metrics, config.seed, config.shuffle, config.scaleLearningRate]).toStrictEqual([[], -3, false, 'linear']);
  });

  test.each([
    { raw: null, field: 'training', message: 'training: required' },
    { raw: [BASE], field: 'training', message: 'training: expected an object, got an array of 1' },
    { raw: training({ epochs: undefined }), field: 'training.epochs', message: 'training.epochs: required' },
    { raw: training({ epochs: 0 }), field: 'training.epochs', message: 'training.epochs: expected a positive integer, got 0' },
    { raw: training({ epochs: 2.5 }), field: 'training.epochs', message: 'training.epochs: expected a positive integer, got 2.5' },
    { raw: training({ batchSize: undefined }), field: 'training.batchSize', message: 'training.batchSize: required' },
    { raw: training({ batchSize: -3 }), field: 'training.batchSize', message: 'training.batchSize: expected a positive integer, got -3' },
    { raw: training({ batchSize: '64' }), field: 'training.batchSize', message: 'training.batchSize: expected a positive integer, got "64"' },
    { raw: training({ shuffle: 'yes' }), field: 'training.shuffle', message: 'training.shuffle: expected true or false, got "yes"' },
    { raw: training({ epoks: 3 }), field: 'training.epoks', message: 'training.epoks: unknown key (did you mean "epochs"?)' },
    { raw: training({ batchsize: 64 }), field: 'training.batchsize', message: 'training.batchsize: unknown key (did you mean "batchSize"?)' },
    { raw: training({ optimiser: { name: 'adam' } }), field: 'training.optimiser', message: 'training.optimiser: unknown key (did you mean "optimizer"?)' },
    {
      raw: training({ lr: 0.1 }),
      field: 'training.lr',
      message: 'training.lr: unknown key (expected one of: epochs, batchSize, optimizer, loss, metrics, seed, shuffle, scaleLearningRate, nonFinite, localSteps, outerOptimizer, innerState)',
    },
    { raw: training({ loss: undefined }), field: 'training.loss', message: 'training.loss: required' },
    {
      raw: training({ loss: 'meanSquaredErorr' }),
      field: 'training.loss',
      message:
        'training.loss: expected one of "sparseCategoricalCrossentropy", "categoricalCrossentropy", "binaryCrossentropy", "meanSquaredError", got "meanSquaredErorr" (did you mean "meanSquaredError"?)',
    },
    {
      raw: training({ loss: 'mse' }),
      field: 'training.loss',
      message:
        'training.loss: expected one of "sparseCategoricalCrossentropy", "categoricalCrossentropy", "binaryCrossentropy", "meanSquaredError", got "mse"',
    },
    { raw: training({ metrics: 'accuracy' }), field: 'training.metrics', message: 'training.metrics: expected an array of metric names (accuracy), got "accuracy"' },
    { raw: training({ metrics: ['accuracy', 'f1'] }), field: 'training.metrics[1]', message: 'training.metrics[1]: expected "accuracy", got "f1"' },
    { raw: training({ metrics: ['accuracy', 'accuracy'] }), field: 'training.metrics[1]', message: 'training.metrics[1]: duplicate of "accuracy"' },
    {
      raw: training({ loss: 'meanSquaredError', metrics: ['accuracy'] }),
      field: 'training.metrics[0]',
      message: 'training.metrics[0]: "accuracy" needs a classification loss, not meanSquaredError',
    },
    { raw: training({ seed: 4.2 }), field: 'training.seed', message: 'training.seed: expected an integer, got 4.2' },
    { raw: training({ seed: 2 ** 60 }), field: 'training.seed', message: 'training.seed: expected an integer, got 1152921504606847000' },
    {
      raw: training({ scaleLearningRate: 'sqrt' }),
      field: 'training.scaleLearningRate',
      message: 'training.scaleLearningRate: expected one of "none", "linear", got "sqrt"',
    },
  ])('$message', ({ raw, field, message }) => {
    expect(configError(() => parseTrainingConfig(raw))).toMatchObject({ code: 'DTRAIN_CONFIG_INVALID', field, message });
  });
});

describe('training.optimizer', () => {
  test.each([
    { optimizer: { name: 'sgd', learningRate: 0.5 } },
    { optimizer: { name: 'momentum', learningRate: 0.01 } },
    { optimizer: { name: 'momentum', learningRate: 0.01, momentum: 0, useNesterov: true } },
    { optimizer: { name: 'adam', learningRate: 1e-3, beta1: 0, beta2: 0.999, epsilon: 1e-8 } },
    { optimizer: { name: 'rmsprop', learningRate: 1e-3, decay: 0.9, momentum: 0.5, epsilon: 1e-7, centered: false } },
  ])('accepts $optimizer.name with only the keys given', ({ optimizer }) => {
    expect(parseTrainingConfig(training({ optimizer })).optimizer).toStrictEqual(optimizer);
  });

  const field = (key: string) => `training.optimizer.${key}`;
  test.each([
    { optimizer: undefined, field: 'training.optimizer', message: 'training.optimizer: required' },
    {
      optimizer: 'adam',
      field: 'training.optimizer',
      message: 'training.optimizer: expected an object { name, learningRate, … } with name one of sgd, momentum, adam, rmsprop, got "adam"',
    },
    { optimizer: { learningRate: 0.1 }, field: field('name'), message: 'training.optimizer.name: required' },
    { optimizer: { nmae: 'sgd', learningRate: 0.1 }, field: field('nmae'), message: 'training.optimizer.nmae: unknown key (did you mean "name"?)' },
    {
      optimizer: { name: 'adamw', learningRate: 0.1 },
      field: field('name'),
      message: 'training.optimizer.name: expected one of "sgd", "momentum", "adam", "rmsprop", got "adamw" (did you mean "adam"?)',
    },
    { optimizer: { name: 'sgd' }, field: field('learningRate'), message: 'training.optimizer.learningRate: required' },
    { optimizer: { name: 'sgd', learningRate: 0 }, field: field('learningRate'), message: 'training.optimizer.learningRate: expected a positive number, got 0' },
    {
      optimizer: { name: 'sgd', learningRate: Infinity },
      field: field('learningRate'),
      message: 'training.optimizer.learningRate: expected a positive number, got Infinity',
    },
    {
      optimizer: { name: 'sgd', learningRate: 0.1, learningrate: 0.1 },
      field: field('learningrate'),
      message: 'training.optimizer.learningrate: unknown key (did you mean "learningRate"?)',
    },
    {
      optimizer: { name: 'sgd', learningRate: 0.1, momentum: 0.9 },
      field: field('momentum'),
      message: 'training.optimizer.momentum: not a hyper-parameter of optimizer "sgd" (it takes learningRate)',
    },
    {
      optimizer: { name: 'adam', learningRate: 0.1, decay: 0.9 },
      field: field('decay'),
      message: 'training.optimizer.decay: not a hyper-parameter of optimizer "adam" (it takes learningRate, beta1, beta2, epsilon)',
    },
    {
      optimizer: { name: 'adam', learningRate: 0.1, beta3: 0.9 },
      field: field('beta3'),
      message: 'training.optimizer.beta3: unknown key (did you mean "beta1"?)',
    },
    {
      optimizer: { name: 'adam', learningRate: 0.1, amsgrad: true },
      field: field('amsgrad'),
      message: 'training.optimizer.amsgrad: unknown key (expected one of: name, learningRate, beta1, beta2, epsilon)',
    },
    { optimizer: { name: 'adam', learningRate: 0.1, beta1: 1 }, field: field('beta1'), message: 'training.optimizer.beta1: expected a number in [0, 1), got 1' },
    { optimizer: { name: 'adam', learningRate: 0.1, beta2: -0.5 }, field: field('beta2'), message: 'training.optimizer.beta2: expected a number in [0, 1), got -0.5' },
    { optimizer: { name: 'adam', learningRate: 0.1, epsilon: 0 }, field: field('epsilon'), message: 'training.optimizer.epsilon: expected a positive number, got 0' },
    { optimizer: { name: 'rmsprop', learningRate: 0.1, decay: 1 }, field: field('decay'), message: 'training.optimizer.decay: expected a number in [0, 1), got 1' },
    {
      optimizer: { name: 'rmsprop', learningRate: 0.1, momentum: -1 },
      field: field('momentum'),
      message: 'training.optimizer.momentum: expected a non-negative number, got -1',
    },
    {
      optimizer: { name: 'rmsprop', learningRate: 0.1, centered: 'yes' },
      field: field('centered'),
      message: 'training.optimizer.centered: expected true or false, got "yes"',
    },
    {
      optimizer: { name: 'momentum', learningRate: 0.1, useNesterov: 1 },
      field: field('useNesterov'),
      message: 'training.optimizer.useNesterov: expected true or false, got 1',
    },
  ])('$message', ({ optimizer, field: at, message }) => {
    // Not through JSON: Infinity must survive.
    const raw: Record<string, unknown> = { ...BASE, optimizer };
    if (optimizer === undefined) delete raw['optimizer'];
    expect(configError(() => parseTrainingConfig(raw))).toMatchObject({ code: 'DTRAIN_CONFIG_INVALID', field: at, message });
  });
});

describe('training: local SGD (localSteps, outerOptimizer, innerState)', () => {
  it('defaults to synchronous steps, DiLoCo\'s outer optimizer and keeping the inner state', () => {
    const config = parseTrainingConfig(BASE);
    expect([config.localSteps, config.outerOptimizer, config.innerState]).toStrictEqual([1, DEFAULT_OUTER_OPTIMIZER, 'keep']);
    expect(DEFAULT_OUTER_OPTIMIZER).toStrictEqual({ name: 'momentum', learningRate: 0.7, momentum: 0.9, useNesterov: true });
  });

  it('keeps given values, the outer optimizer with only the keys given', () => {
    const config = parseTrainingConfig(training({ localSteps: 8, outerOptimizer: { name: 'sgd', learningRate: 1 }, innerState: 'reset' }));
    expect([config.localSteps, config.outerOptimizer, config.innerState]).toStrictEqual([8, { name: 'sgd', learningRate: 1 }, 'reset']);
    // The inner optimizer stays the job's.
    expect(config.optimizer).toStrictEqual({ name: 'sgd', learningRate: 0.1 });
  });

  it('allows linear learning-rate scaling with synchronous steps only', () => {
    expect(parseTrainingConfig(training({ localSteps: 1, scaleLearningRate: 'linear' })).scaleLearningRate).toBe('linear');
    const error = configError(() => parseTrainingConfig(training({ localSteps: 4, scaleLearningRate: 'linear' })));
    expect(error).toMatchObject({ code: 'DTRAIN_CONFIG_INVALID', field: 'training.scaleLearningRate' });
    expect(error.message).toContain('training.localSteps 4 > 1');
  });

  const outer = (key: string) => `training.outerOptimizer.${key}`;
  test.each([
    { change: { localSteps: 0 }, field: 'training.localSteps', message: 'training.localSteps: expected a positive integer, got 0' },
    { change: { localSteps: 1.5 }, field: 'training.localSteps', message: 'training.localSteps: expected a positive integer, got 1.5' },
    { change: { localSteps: '4' }, field: 'training.localSteps', message: 'training.localSteps: expected a positive integer, got "4"' },
    { change: { outerOptimizer: { name: 'sgd' } }, field: outer('learningRate'), message: 'training.outerOptimizer.learningRate: required' },
    {
      change: { outerOptimizer: { name: 'lamb', learningRate: 0.7 } },
      field: outer('name'),
      message: 'training.outerOptimizer.name: expected one of "sgd", "momentum", "adam", "rmsprop", got "lamb"',
    },
    {
      change: { outerOptimizer: { name: 'sgd', learningRate: 0.7, momentum: 0.9 } },
      field: outer('momentum'),
      message: 'training.outerOptimizer.momentum: not a hyper-parameter of optimizer "sgd" (it takes learningRate)',
    },
    {
      change: { outerOptimizer: 'nesterov' },
      field: 'training.outerOptimizer',
      message: 'training.outerOptimizer: expected an object { name, learningRate, … } with name one of sgd, momentum, adam, rmsprop, got "nesterov"',
    },
    { change: { innerState: 'sometimes' }, field: 'training.innerState', message: 'training.innerState: expected one of "keep", "reset", got "sometimes"' },
    { change: { localStep: 4 }, field: 'training.localStep', message: 'training.localStep: unknown key (did you mean "localSteps"?)' },
  ])('$message', ({ change, field, message }) => {
    expect(configError(() => parseTrainingConfig(training(change)))).toMatchObject({ code: 'DTRAIN_CONFIG_INVALID', field, message });
  });

  it('serverOptimizer: the job\'s optimizer for synchronous steps, the outer one with local SGD', () => {
    const optimizer = { name: 'adam', learningRate: 0.001 } as const;
    const outerOptimizer = { name: 'sgd', learningRate: 1 } as const;
    expect(serverOptimizer({ localSteps: 1, optimizer, outerOptimizer })).toBe(optimizer);
    expect(serverOptimizer({ localSteps: 2, optimizer, outerOptimizer })).toBe(outerOptimizer);
  });

  describe('checkLocalStepsFit', () => {
    test.each([
      { localSteps: 1, batchSize: 450, samples: 100, why: 'synchronous steps fit any epoch, even one short batch' },
      { localSteps: 4, batchSize: 450, samples: 1800, why: 'exactly an epoch of batches' },
      { localSteps: 5, batchSize: 450, samples: 1801, why: 'a short last batch counts' },
      { localSteps: 3, batchSize: 450, samples: 1800, why: 'an epoch that does not divide evenly ends with a shorter round' },
    ])('fits: $why', ({ localSteps, batchSize, samples }) => {
      expect(() => checkLocalStepsFit({ localSteps, batchSize }, samples)).not.toThrow();
    });

    it('names training.localSteps with the numbers when an epoch has fewer batches than a round', () => {
      const error = configError(() => checkLocalStepsFit({ localSteps: 5, batchSize: 450 }, 1800));
      expect(error).toMatchObject({
        code: 'DTRAIN_CONFIG_INVALID',
        field: 'training.localSteps',
        message: 'training.localSteps: 5 batches per round, but an epoch has only 4 (1800 training samples in batches of 450); use at most 4',
      });
    });
  });
});
