import { describe, expect, it } from 'vitest';
import { parseJobConfig } from '@dtrain/coordinator';
import { mlpJob, mlpParams } from './mlp-jobs.js';

describe('mlpParams', () => {
  it('counts kernels and biases', () => {
    expect(mlpParams([784, 256, 128, 10])).toBe(784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
  });
  it('puts the issue’s MLP at 92M parameters (368 MB of float32)', () => {
    const n = mlpParams([2048, 8192, 8192, 1024, 10]);
    expect(n).toBe(92_302_346);
    expect((n * 4) / 1e6).toBeCloseTo(369.2, 1);
  });
});

describe('mlpJob', () => {
  it('is a config the coordinator accepts, sized to steps × workers × batch', () => {
    const job = mlpJob({ name: 'dp-test', widths: [64, 32, 10], steps: 3, workers: 2, batchSize: 4, optimizer: { name: 'sgd', learningRate: 0.01 } });
    expect(job).toMatchObject({ dataset: { numSamples: 24, featureShape: [64], numClasses: 10, validationSplit: 0 } });
    expect(() => parseJobConfig(job, '.', 'dp-test.yaml')).not.toThrow();
  });
  it('refuses fewer than two widths', () => {
    expect(() => mlpJob({ name: 'x', widths: [5], steps: 1, workers: 1, batchSize: 1, optimizer: { name: 'sgd', learningRate: 1 } })).toThrow('at least an input and an output');
  });
});
