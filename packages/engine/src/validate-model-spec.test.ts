import { describe, expect, it } from 'vitest';
import { EngineError } from './engine-error.js';
import { validateModelSpec } from './validate-model-spec.js';

function specError(layers: unknown): EngineError {
  try {
    validateModelSpec(layers);
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('DTRAIN_ENGINE_MODEL_SPEC');
    return error as EngineError;
  }
  return expect.fail('expected validateModelSpec to throw');
}

const first = { type: 'dense', inputShape: [4], units: 3 };

describe('validateModelSpec', () => {
  it('accepts every layer type with all its fields', () => {
    const layers = [
      { type: 'reshape', inputShape: [64], targetShape: [8, 8, 1], name: 'to_image' },
      { type: 'conv2d', filters: 4, kernelSize: [3, 3], strides: 1, padding: 'same', activation: 'relu', useBias: true, kernelInitializer: 'heNormal', biasInitializer: 'zeros', kernelRegularizer: { l1: 0, l2: 1e-4 } },
      { type: 'depthwiseConv2d', kernelSize: 3, depthMultiplier: 2, strides: [1, 1], padding: 'valid', activation: 'elu', useBias: false, depthwiseInitializer: 'glorotNormal' },
      { type: 'batchNormalization', momentum: 0.9, epsilon: 1e-3 },
      { type: 'maxPooling2d', poolSize: 2, strides: 2, padding: 'valid' },
      { type: 'flatten' },
      { type: 'dropout', rate: 0 },
      { type: 'dense', units: 10, activation: 'softmax', useBias: true, kernelInitializer: 'leCunUniform', biasInitializer: 'ones', kernelRegularizer: { l1: 0.01 } },
      { type: 'activation', activation: 'linear' },
    ];
    expect(validateModelSpec(layers)).toBe(layers);
    expect(validateModelSpec([{ type: 'embedding', inputShape: [10], inputDim: 100, outputDim: 8, embeddingsInitializer: 'glorotUniform' }])).toHaveLength(1);
  });

  const bad: [string, unknown, string][] = [
    ['a non-array', { layers: [] }, 'model.layers: expected a non-empty array of layers, got an object'],
    ['an empty list', [], 'model.layers: expected a non-empty array of layers, got []'],
    ['a non-object layer', [first, 'dense'], 'model.layers[1]: expected an object with a type, got "dense"'],
    ['an unknown type', [first, { type: 'lstm', units: 3 }], 'model.layers[1].type: expected one of dense, conv2d, depthwiseConv2d, maxPooling2d, flatten, reshape, dropout, batchNormalization, activation, embedding, got "lstm"'],
    ['zero units', [first, { type: 'dense', units: 4 }, { type: 'dense', units: 0 }], 'model.layers[2].units: expected a positive integer, got 0'],
    ['fractional units', [{ ...first, units: 2.5 }], 'model.layers[0].units: expected a positive integer, got 2.5'],
    ['missing units', [{ type: 'dense', inputShape: [4] }], 'model.layers[0].units: expected a positive integer, got undefined'],
    ['a misspelt field', [first, { type: 'dense', unit: 3 }], 'model.layers[1].unit: unknown field (allowed: type, name, inputShape, units, activation, useBias, kernelInitializer, biasInitializer, kernelRegularizer)'],
    ['no inputShape on the first layer', [{ type: 'dense', units: 3 }], 'model.layers[0].inputShape: expected the shape of one sample on the first layer, e.g. [784], got undefined'],
    ['a bad inputShape entry', [{ ...first, inputShape: [28, 0] }], 'model.layers[0].inputShape[1]: expected a positive integer, got 0'],
    ['an inputShape after the first layer', [first, { ...first }], 'model.layers[1].inputShape: expected no inputShape after the first layer, got [4]'],
    ['an unknown activation', [{ ...first, activation: 'gelu' }], 'model.layers[0].activation: expected one of relu, sigmoid, tanh, softmax, linear, elu, selu, softplus, got "gelu"'],
    ['an unknown initializer', [{ ...first, kernelInitializer: 'xavier' }], 'model.layers[0].kernelInitializer: expected one of glorotUniform, glorotNormal, heNormal, heUniform, leCunNormal, leCunUniform, zeros, ones, got "xavier"'],
    ['a negative L2 factor', [{ ...first, kernelRegularizer: { l2: -1 } }], 'model.layers[0].kernelRegularizer.l2: expected a number in [0, ∞), got -1'],
    ['an unknown regularizer field', [{ ...first, kernelRegularizer: { l3: 1 } }], 'model.layers[0].kernelRegularizer.l3: unknown field (allowed: l1, l2)'],
    ['a kernel size triple', [{ type: 'conv2d', inputShape: [8, 8, 1], filters: 2, kernelSize: [3, 3, 3] }], 'model.layers[0].kernelSize: expected 2 positive integers, got [3,3,3]'],
    ['a string kernel size', [{ type: 'conv2d', inputShape: [8, 8, 1], filters: 2, kernelSize: '3' }], 'model.layers[0].kernelSize: expected a positive integer or a pair of them, got "3"'],
    ['an unknown padding', [{ type: 'maxPooling2d', inputShape: [8, 8, 1], padding: 'full' }], 'model.layers[0].padding: expected one of valid, same, got "full"'],
    ['a dropout rate of 1', [first, { type: 'dropout', rate: 1 }], 'model.layers[1].rate: expected a number in [0, 1), got 1'],
    ['a zero epsilon', [first, { type: 'batchNormalization', epsilon: 0 }], 'model.layers[1].epsilon: expected a number in (0, ∞), got 0'],
    ['a non-boolean useBias', [{ ...first, useBias: 'yes' }], 'model.layers[0].useBias: expected true or false, got "yes"'],
    ['a duplicate name', [{ ...first, name: 'a' }, { type: 'dense', units: 2, name: 'a' }], 'model.layers[1].name: expected a name no other layer has, got "a"'],
    ['a name with a slash', [{ ...first, name: 'a/b' }], 'model.layers[0].name: expected a name of letters, digits, _ . - starting with a letter, got "a/b"'],
    ['a name that is another layer’s default', [{ ...first, name: 'dense_1' }, { type: 'dense', units: 2 }], 'model.layers[0].name: expected a name other than the default name of model.layers[1], got "dense_1"'],
  ];
  it.each(bad)('rejects %s with one line naming layer and field', (_, layers, message) => {
    expect(specError(layers).message).toBe(message);
  });
});
