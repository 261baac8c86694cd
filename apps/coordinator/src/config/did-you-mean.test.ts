import { describe, expect, it, test } from 'vitest';
import { didYouMean, editDistance, suggest } from './did-you-mean.js';

describe('editDistance', () => {
  test.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['optimizer', 'optimizer', 0],
    ['optimiser', 'optimizer', 1],
    ['optimzier', 'optimizer', 1], // a transposition is one edit
    ['epoch', 'epochs', 1],
    ['kitten', 'sitting', 3],
    ['ab', 'ba', 1],
    ['abc', 'ca', 3],
  ])('%s → %s is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });

  it('never exceeds the longer length and is 0 only for equal strings, on random inputs', () => {
    const alphabet = 'abc';
    const word = () => Array.from({ length: Math.floor(Math.random() * 7) }, () => alphabet[Math.floor(Math.random() * 3)]).join('');
    for (let i = 0; i < 500; i++) {
      const [a, b] = [word(), word()];
      const d = editDistance(a, b);
      expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length));
      expect(d).toBeGreaterThanOrEqual(Math.abs(a.length - b.length));
      expect(d === 0).toBe(a === b);
    }
  });
});

describe('suggest', () => {
  const keys = ['epochs', 'batchSize', 'optimizer', 'loss', 'metrics', 'seed', 'scaleLearningRate'];
  test.each([
    ['optimiser', 'optimizer'],
    ['epoks', 'epochs'], // two edits
    ['btchSze', 'batchSize'],
    ['epxoxs', undefined], // three edits
    ['batchsize', 'batchSize'], // case is ignored
    ['batch_size', 'batchSize'],
    ['epoch', 'epochs'],
    ['metric', 'metrics'],
    ['los', 'loss'],
    ['seeds', 'seed'],
    ['scaleLearning', 'scaleLearningRate'], // a shared start of 6+ letters
    ['lr', undefined],
    ['x', undefined],
    ['learningRate', undefined],
    ['batches', undefined],
  ])('%s → %s', (input, expected) => {
    expect(suggest(input, keys)).toBe(expected);
  });

  it('prefers the closest candidate, then the earlier one', () => {
    expect(suggest('beta', ['beta1', 'beta2'])).toBe('beta1');
    expect(suggest('beta2x', ['beta1', 'beta2'])).toBe('beta2');
  });

  it('does not pair two short words that merely share a length', () => {
    expect(suggest('ab', ['xy', 'cd'])).toBeUndefined();
  });

  it('formats the hint', () => {
    expect(didYouMean('optimiser', keys)).toBe(' (did you mean "optimizer"?)');
    expect(didYouMean('zzz', keys)).toBe('');
  });
});
