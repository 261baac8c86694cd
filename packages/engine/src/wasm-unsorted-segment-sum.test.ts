/**
 * The engine's wasm `UnsortedSegmentSum` against the cpu backend's kernel (or
 * a loop where cpu has none) on fresh random inputs, to float tolerance
 * (rtol 1e-4).
 */

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { expectClose } from './testing/numeric.js';
import { expectWasmMatchesCpu, on, random } from './testing/backends.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('UnsortedSegmentSum on wasm', () => {
  function segmentCase(name: string, xShape: number[], idCount: number, numSegments: number, idRange: [number, number]): void {
    it(name, async () => {
      const xValues = random(xShape);
      const ids = Int32Array.from({ length: idCount }, () => idRange[0] + Math.floor(Math.random() * (idRange[1] - idRange[0])));
      await expectWasmMatchesCpu(() =>
        tf.tidy(() => tf.unsortedSegmentSum(tf.tensor(xValues, xShape), tf.tensor1d(ids, 'int32'), numSegments)),
      );
    });
  }
  segmentCase('rows into segments, with duplicates and empty segments', [40, 6], 40, 9, [0, 9]);
  segmentCase('scalar rows', [25], 25, 4, [0, 4]);
  segmentCase('ids outside [0, numSegments) are dropped, as in TensorFlow', [30, 3], 30, 5, [-2, 8]);

  it('takes rank-2 segment ids (which the cpu kernel does not) like a loop over rows', async () => {
    const values = random([3, 5, 4]);
    const ids = Int32Array.from({ length: 15 }, () => Math.floor(Math.random() * 7));
    const expected = new Float32Array(7 * 4);
    ids.forEach((id, row) => {
      for (let k = 0; k < 4; k++) expected[id * 4 + k] = (expected[id * 4 + k] as number) + (values[row * 4 + k] as number);
    });
    const wasm = await on('wasm', () =>
      tf.tidy(() => {
        const rank2Ids = tf.tensor2d(ids, [3, 5], 'int32') as unknown as tf.Tensor1D;
        return tf.unsortedSegmentSum(tf.tensor3d(values, [3, 5, 4]), rank2Ids, 7);
      }),
    );
    expect(wasm.shape).toEqual([7, 4]);
    expectClose(wasm.values, expected);
  });

  it('is the gradient an embedding lookup needs', async () => {
    const table = random([10, 4]);
    const ids = Int32Array.from([1, 3, 3, 9, 0, 1]);
    const weights = random([6, 4]);
    await expectWasmMatchesCpu(() =>
      tf.tidy(() => {
        const embeddings = tf.tensor(table, [10, 4]);
        const gradient = tf.grad((e: tf.Tensor) => tf.sum(tf.mul(tf.gather(e, tf.tensor(ids, [6], 'int32')), tf.tensor(weights, [6, 4]))));
        return gradient(embeddings);
      }),
    );
  });
});
