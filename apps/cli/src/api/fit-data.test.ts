import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@dtrain/engine';
import { collectBatches } from './fit-data-collect.js';
import { memoryJobData, splitLast, toDataset } from './fit-data.js';
import { FitError, FitErrorCode } from './fit-error.js';
import type { ModelShapes } from './model-bridge.js';

const shapes: ModelShapes = { input: [2], output: [3], inputSize: 2, outputSize: 3 };
const names = { x: 'x', y: 'y', source: 'test' };

beforeAll(async () => {
  await initBackend('cpu');
});

async function fitError(run: () => unknown): Promise<FitError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(FitError);
    return error as FitError;
  }
  throw new RangeError('expected a FitError');
}

describe('toDataset', () => {
  it('takes tensors and typed arrays alike, labels laid out per loss', () => {
    const fromTensors = toDataset(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]), tf.tensor1d([0, 2, 1]), shapes, 'sparseCategoricalCrossentropy', names);
    const fromArrays = toDataset(new Float32Array([1, 2, 3, 4, 5, 6]), new Int32Array([0, 2, 1]), shapes, 'sparseCategoricalCrossentropy', names);
    for (const ds of [fromTensors, fromArrays]) {
      expect(ds).toMatchObject({ numSamples: 3, featureShape: [2], labelShape: [1], labelEncoding: 'index', numClasses: 3 });
      expect([...ds.features]).toEqual([1, 2, 3, 4, 5, 6]);
      expect([...ds.labels]).toEqual([0, 2, 1]);
    }
    const onehot = toDataset(tf.tensor2d([1, 2], [1, 2]), tf.tensor2d([0, 1, 0], [1, 3]), shapes, 'categoricalCrossentropy', names);
    expect(onehot).toMatchObject({ labelShape: [3], labelEncoding: 'onehot', numClasses: 3 });
    const values = toDataset([1, 2], [0.5, 1, 2], shapes, 'meanSquaredError', names);
    expect(values).toMatchObject({ labelShape: [3], labelEncoding: 'value', numClasses: undefined });
  });

  it('refuses different sample counts, shapes that do not fit and bad class indices', async () => {
    expect(await fitError(() => toDataset(new Float32Array(6), new Float32Array(2), shapes, 'sparseCategoricalCrossentropy', names))).toMatchObject({
      code: FitErrorCode.SAMPLE_COUNT,
      message: 'fit: x has 3 samples but y has 2',
    });
    expect(await fitError(() => toDataset(tf.zeros([3, 3]), tf.zeros([3]), shapes, 'sparseCategoricalCrossentropy', names))).toMatchObject({
      code: FitErrorCode.SHAPE,
      message: 'fit: x has shape [3, 3]; the model expects [n, 2] (the model input)',
    });
    expect((await fitError(() => toDataset(new Float32Array(5), new Float32Array(2), shapes, 'sparseCategoricalCrossentropy', names))).code).toBe(FitErrorCode.SHAPE);
    expect((await fitError(() => toDataset(tf.zeros([3, 2]), tf.zeros([3, 2]), shapes, 'categoricalCrossentropy', names))).code).toBe(FitErrorCode.SHAPE);
    expect(await fitError(() => toDataset(new Float32Array(4), new Float32Array([0, 3]), shapes, 'sparseCategoricalCrossentropy', names))).toMatchObject({
      code: FitErrorCode.LABELS,
      message: expect.stringMatching(/y\[1\] is 3; .*\[0, 3\)/) as string,
    });
    expect((await fitError(() => toDataset('x', [0], shapes, 'sparseCategoricalCrossentropy', names))).code).toBe(FitErrorCode.ARGUMENT);
  });
});

describe('splitLast (validationSplit)', () => {
  const ds = toDataset(Float32Array.from({ length: 20 }, (_, i) => i), Float32Array.from({ length: 10 }, (_, i) => i % 3), shapes, 'sparseCategoricalCrossentropy', names);

  it('holds out the LAST fraction of the samples, in order, as tfjs does', () => {
    const { train, validation } = splitLast(ds, 0.25);
    // floor(10 × 0.75) = 7 train samples.
    expect(train.numSamples).toBe(7);
    expect(validation.numSamples).toBe(3);
    expect([...train.features]).toEqual(Array.from({ length: 14 }, (_, i) => i));
    expect([...validation.features]).toEqual([14, 15, 16, 17, 18, 19]);
    expect([...validation.labels]).toEqual([7 % 3, 8 % 3, 9 % 3]);
    expect(validation.features.byteOffset).toBe(0);
  });

  it('refuses a fraction outside [0, 1) and one that leaves a part empty', async () => {
    expect((await fitError(() => splitLast(ds, 1))).code).toBe(FitErrorCode.ARGUMENT);
    expect((await fitError(() => splitLast(ds, -0.1))).code).toBe(FitErrorCode.ARGUMENT);
    expect((await fitError(() => splitLast(ds, 0.95))).message).toMatch(/0.95 of 10 samples leaves no training samples/);
    expect((await fitError(() => splitLast(ds, 1e-17))).message).toMatch(/leaves no validation samples/);
    expect(splitLast(ds, 0).validation.numSamples).toBe(0);
  });

  it('makes JobData with an empty validation set when there is none', () => {
    const data = memoryJobData(ds, undefined);
    expect(data.validation.numSamples).toBe(0);
    expect(data.stats).toEqual({ kind: 'none' });
  });
});

describe('collectBatches (fitDataset)', () => {
  const batch = (from: number, n: number): { xs: tf.Tensor; ys: tf.Tensor } => ({
    xs: tf.tensor2d(Float32Array.from({ length: n * 2 }, (_, i) => from * 2 + i), [n, 2]),
    ys: tf.tensor1d(Float32Array.from({ length: n }, (_, i) => (from + i) % 3)),
  });

  it('reads an async iterable once, up to maxBatches, into one dataset, disposing each batch', async () => {
    const made: tf.Tensor[] = [];
    async function* source(): AsyncGenerator<{ xs: tf.Tensor; ys: tf.Tensor }> {
      for (let i = 0; i < 5; i += 1) {
        const b = batch(i * 4, 4);
        made.push(b.xs, b.ys);
        yield b;
      }
    }
    const collected = await collectBatches(source(), shapes, 'sparseCategoricalCrossentropy', 'dataset', 3);
    expect(collected.batches).toBe(3);
    expect(collected.firstBatchSize).toBe(4);
    expect(collected.dataset.numSamples).toBe(12);
    expect([...collected.dataset.features]).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(made.slice(0, 6).every((t) => t.isDisposed)).toBe(true);
  });

  it('reads a tf.data.Dataset-like source through its iterator()', async () => {
    let i = 0;
    const ds = {
      iterator: () =>
        Promise.resolve({
          next: (): Promise<IteratorResult<{ xs: tf.Tensor; ys: tf.Tensor }>> =>
            Promise.resolve(i < 3 ? { done: false, value: batch(i++ * 2, 2) } : { done: true, value: undefined }),
        }),
    };
    const collected = await collectBatches(ds, shapes, 'sparseCategoricalCrossentropy', 'dataset');
    expect(collected.dataset.numSamples).toBe(6);
  });

  it('refuses elements without xs/ys and empty sources', async () => {
    expect((await fitError(() => collectBatches([{ x: 1 }] as never, shapes, 'sparseCategoricalCrossentropy', 'dataset'))).code).toBe(FitErrorCode.ARGUMENT);
    expect((await fitError(() => collectBatches([], shapes, 'sparseCategoricalCrossentropy', 'dataset'))).message).toMatch(/no batches/);
  });
});
