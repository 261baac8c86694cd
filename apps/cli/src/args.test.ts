import { describe, expect, it } from 'vitest';
import { choiceFlag, intFlag, parseFlags, required } from './args.js';
import { UsageError } from './usage-error.js';

describe('flag parsing', () => {
  it('parses known flags and rejects unknown ones with a UsageError naming them', () => {
    expect(parseFlags('train', ['--config', 'a.yaml', '--quiet'], { config: { type: 'string' }, quiet: { type: 'boolean' } })).toEqual({ config: 'a.yaml', quiet: true });
    expect(() => parseFlags('train', ['--nope'], { config: { type: 'string' } })).toThrow(UsageError);
    expect(() => parseFlags('train', ['--nope'], { config: { type: 'string' } })).toThrow("dtrain train: Unknown option '--nope'");
    expect(() => parseFlags('train', ['stray'], {})).toThrow(/dtrain train: Unexpected argument 'stray'/);
  });

  it('checks integers, choices and required flags', () => {
    expect(intFlag('train', 'workers', undefined, 2, 1, 8)).toBe(2);
    expect(intFlag('train', 'workers', '3', 2, 1, 8)).toBe(3);
    expect(() => intFlag('train', 'workers', '1.5', 2, 1, 8)).toThrow('dtrain train: --workers must be an integer in [1, 8], got "1.5"');
    expect(choiceFlag('train', 'backend', 'cpu', ['wasm', 'cpu'], 'wasm')).toBe('cpu');
    expect(() => choiceFlag('train', 'backend', 'gpu', ['wasm', 'cpu'], 'wasm')).toThrow('dtrain train: --backend must be one of wasm, cpu, got "gpu"');
    expect(() => required('evaluate', 'model', undefined)).toThrow('dtrain evaluate: --model is required');
  });
});
