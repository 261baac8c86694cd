/**
 * Loads the MNIST 10k set shipped in examples/data/mnist as tfjs tensors:
 * the first `train` images to train on, the last `test` ones held back.
 * Pixels are scaled to [0, 1]; labels are one-hot over the 10 digits.
 */
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { readIdx } from 'dtrain';

const file = (name: string): string => fileURLToPath(new URL(`./data/mnist/${name}`, import.meta.url));

export interface MnistSplit {
  /** [n, 784] (`flat`) or [n, 28, 28, 1] (`image`), in [0, 1]. */
  readonly x: tf.Tensor;
  /** [n, 10], one-hot. */
  readonly y: tf.Tensor2D;
}

export async function loadMnist(options: { train: number; test: number; layout: 'flat' | 'image' }): Promise<{ train: MnistSplit; test: MnistSplit }> {
  const images = await readIdx(file('t10k-images-idx3-ubyte.gz'));
  const labels = await readIdx(file('t10k-labels-idx1-ubyte.gz'));
  const [count = 0, rows = 28, cols = 28] = images.shape;
  if (options.train + options.test > count) throw new RangeError(`only ${count} images: cannot take ${options.train} + ${options.test}`);
  const pixels = rows * cols;
  const shape = (n: number): number[] => (options.layout === 'flat' ? [n, pixels] : [n, rows, cols, 1]);
  const take = (start: number, n: number): MnistSplit =>
    tf.tidy(() => ({
      x: tf.tensor(images.data.subarray(start * pixels, (start + n) * pixels), shape(n)).div(255),
      y: tf.oneHot(tf.tensor1d(labels.data.subarray(start, start + n), 'int32'), 10) as tf.Tensor2D,
    }));
  return { train: take(0, options.train), test: take(count - options.test, options.test) };
}

/** The fraction of rows where the model's most likely class is the label's. */
export function accuracy(model: tf.LayersModel, split: MnistSplit): number {
  const result = model.evaluate(split.x, split.y);
  const [, acc] = Array.isArray(result) ? result : [result];
  if (acc === undefined) throw new Error('compile the model with metrics: ["accuracy"]');
  return acc.dataSync()[0] ?? Number.NaN;
}
