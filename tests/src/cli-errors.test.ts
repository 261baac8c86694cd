import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dtrain, syntheticJob, tempDir, writeJob } from './harness.js';

/** A user's mistake is one line naming what was wrong, exit code 2, no stack trace. */
describe('dtrain CLI: bad flags and configs', () => {
  const tmp = tempDir('cli-errors');
  afterAll(() => tmp.cleanup());

  const run = async (args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> => {
    const p = dtrain(args);
    const { code } = await p.exited;
    return { code, stderr: p.stderr, stdout: p.stdout };
  };
  const oneLine = (stderr: string): string => {
    const lines = stderr.trim().split('\n');
    expect(lines, stderr).toHaveLength(1);
    expect(stderr).not.toMatch(/\n\s+at /);
    return lines[0]!;
  };

  it.each([
    ['unknown key', { training: { epochs: 1, batchSize: 8, optimizer: { name: 'sgd', learningRate: 0.1 }, loss: 'meanSquaredError', epocs: 3 } }, /training\.epocs: unknown key/],
    ['wrong type', { training: { epochs: 'three', batchSize: 8, optimizer: { name: 'sgd', learningRate: 0.1 }, loss: 'meanSquaredError' } }, /training\.epochs: expected .*integer/],
    ['fewer samples than one batch', { dataset: { numSamples: 40 }, training: { epochs: 1, batchSize: 64, optimizer: { name: 'sgd', learningRate: 0.1 }, loss: 'sparseCategoricalCrossentropy' } }, /training\.batchSize: 64 is more than the 36 training samples/],
    ['localSteps 0', { training: { localSteps: 0 } }, /^dtrain: training\.localSteps: expected a positive integer, got 0$/],
    ['outer optimizer without a learning rate', { training: { localSteps: 4, outerOptimizer: { name: 'sgd' } } }, /^dtrain: training\.outerOptimizer\.learningRate: required$/],
    // Checked once the dataset is loaded: 2000 samples less the 10% validation split is 1800, 4 batches of 450.
    [
      'more local steps than an epoch has batches',
      { training: { batchSize: 450, localSteps: 5 } },
      /^dtrain: training\.localSteps: 5 batches per round, but an epoch has only 4 \(1800 training samples in batches of 450\); use at most 4$/,
    ],
  ])('%s → exit 2 naming the field', async (_name, override, message) => {
    const job = syntheticJob('bad', override);
    const { code, stderr } = await run(['train', '--config', writeJob(tmp.dir, job, `${_name.replace(/ /g, '-')}.yaml`), '--port', '0']);
    expect(code).toBe(2);
    expect(oneLine(stderr)).toMatch(message);
  });

  it('a missing data file names the field and the path', async () => {
    const path = join(tmp.dir, 'missing-file.yaml');
    writeFileSync(
      path,
      'name: missing\nmodel: { layers: [{ type: dense, units: 2, inputShape: [4] }] }\n' +
        'dataset: { format: csv, path: nowhere.csv, labelColumn: y }\n' +
        'training: { epochs: 1, batchSize: 4, optimizer: { name: sgd, learningRate: 0.1 }, loss: meanSquaredError }\n',
    );
    const { code, stderr } = await run(['train', '--config', path, '--port', '0']);
    expect(code).toBe(2);
    expect(oneLine(stderr)).toContain(`dataset.path: file not found: ${join(tmp.dir, 'nowhere.csv')}`);
  });

  it('a bad layer in the model spec names the layer', async () => {
    const job = syntheticJob('bad-layer', { model: { layers: [{ type: 'dense', units: 0, inputShape: [16] }] } });
    const { code, stderr } = await run(['train', '--config', writeJob(tmp.dir, job, 'bad-layer.yaml'), '--port', '0']);
    expect(code).toBe(2);
    expect(oneLine(stderr)).toMatch(/model\.layers\[0\]\.units/);
  });

  it.each([
    [['train'], /--config is required/],
    [['train', '--config', 'x.yaml', '--workers', '0'], /--workers must be an integer in \[1, 256\], got "0"/],
    [['train', '--config', 'x.yaml', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['train', '--config', join('/nonexistent', 'job.yaml')], /job\.yaml/],
    [['worker', '--coordinator', 'http://x'], /--coordinator must be a ws:\/\/ or wss:\/\/ URL/],
    [['nonsense'], /unknown command "nonsense"/],
  ])('%j → exit 2', async (args, message) => {
    const { code, stderr } = await run(args);
    expect(code).toBe(2);
    expect(oneLine(stderr)).toMatch(message);
  });
});
