import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { EngineError } from './engine-error.js';
import { initBackend } from './init-backend.js';
import { backendsToTest } from './testing/backends.js';
import { randomArray } from './testing/numeric.js';
import { GENERIC_MEMORY, overwriteInPlace, readTensorInto, tensorFromValues, tensorMemory, type TensorMemory } from './tensor-memory.js';

const backends = await backendsToTest('the tensor-memory contract');

// The direct access of each backend and the generic one must behave alike on
// every backend: the generic path is what tfjs-node ('tensorflow') uses.
const accesses: { label: string; memory: () => TensorMemory }[] = [
  { label: 'its own access', memory: tensorMemory },
  { label: 'the generic access', memory: () => GENERIC_MEMORY },
];

describe.each(backends)('tensor memory on $name', ({ name, available }) => {
  describe.skipIf(!available).each(accesses)('through $label', ({ memory }) => {
    it('reads a tensor into a target at an offset and leaves the rest of the target alone', async () => {
      await initBackend(name);
      const values = randomArray(12);
      const tensor = tf.tensor(values, [3, 4]);
      const target = new Float32Array(20).fill(9);
      readTensorInto(tensor, target, 5, memory());
      expect(target.subarray(5, 17)).toEqual(values);
      expect([...target.subarray(0, 5), ...target.subarray(17)]).toEqual(Array(8).fill(9));
      tensor.dispose();
    });

    it('makes tensors that keep no reference to the array they came from', async () => {
      await initBackend(name);
      const like = tf.tensor(randomArray(6), [2, 3]);
      const old = like.dataSync().slice();
      const values = randomArray(6);
      const expected = values.slice();
      const full = tensorFromValues(like, values, 0, memory());
      const part = tensorFromValues(like, values.subarray(1, 3), 2, memory());
      values.fill(5);
      expect(full.shape).toEqual([2, 3]);
      expect(full.dataSync()).toEqual(expected);
      expect(part.dataSync()).toEqual(Float32Array.from([old[0], old[1], expected[1], expected[2], old[4], old[5]] as number[]));
      tf.dispose([like, full, part]);
    });

    it('writes in place only into memory no other tensor sees, and a product then uses the new values', async () => {
      await initBackend(name);
      const access = memory();
      const variable = tf.variable(tf.tensor(randomArray(6), [3, 2]));
      // cpu writes in place only into memory the engine made: give it some.
      const first = tensorFromValues(variable, randomArray(6), 0, access);
      variable.assign(first);
      first.dispose();
      const x = tf.tensor(randomArray(3), [1, 3]);
      tf.matMul(x, variable).dispose(); // wasm caches an XNNPACK operator packed from the variable

      const values = randomArray(6);
      const wrote = overwriteInPlace(variable, values.subarray(2), 2, access);
      expect(wrote).toBe(access.kind !== 'generic');
      if (wrote) {
        const product = tf.matMul(x, variable);
        const reference = tf.matMul(x, tf.tensor(variable.dataSync().slice(), [3, 2]));
        expect(variable.dataSync().subarray(2)).toEqual(values.subarray(2));
        expect(product.dataSync()).toEqual(reference.dataSync());
        tf.dispose([product, reference]);
      }

      // A reshape shares the variable's data (refCount 2): it must keep its values.
      const view = tf.reshape(variable, [6]);
      const seen = view.dataSync().slice();
      expect(overwriteInPlace(variable, randomArray(6), 0, access)).toBe(false);
      expect(view.dataSync()).toEqual(seen);
      tf.dispose([view, x, variable]);
    });

    it('rejects ranges that do not fit with DTRAIN_ENGINE_SHAPE', async () => {
      await initBackend(name);
      const tensor = tf.zeros([2, 2]);
      const attempt = (run: () => unknown): unknown => {
        try {
          run();
        } catch (error) {
          return error;
        }
        return undefined;
      };
      const error = attempt(() => readTensorInto(tensor, new Float32Array(5), 2, memory()));
      expect(error).toBeInstanceOf(EngineError);
      expect(error).toMatchObject({ code: 'DTRAIN_ENGINE_SHAPE', message: 'readTensorInto: 4 values at offset 2 do not fit in 5' });
      expect(attempt(() => overwriteInPlace(tensor, new Float32Array(3), 2, memory()))).toMatchObject({
        code: 'DTRAIN_ENGINE_SHAPE',
        message: 'overwriteInPlace: 3 values at offset 2 do not fit in 4',
      });
      tensor.dispose();
    });
  });
});

describe.each(backends)('tensorMemory on $name', ({ name, available }) => {
  it.skipIf(!available)('picks direct access on wasm and cpu, the generic one elsewhere', async () => {
    await initBackend(name);
    expect(tensorMemory().kind).toBe(name === 'tensorflow' ? 'generic' : name);
  });
});

describe('tensorMemory on cpu', () => {
  it('writes in place only into memory the engine allocated, never into an array the caller handed to tfjs', async () => {
    await initBackend('cpu');
    const mine = randomArray(4);
    const copy = mine.slice();
    const initial = tf.tensor(mine);
    const variable = tf.variable(initial);
    initial.dispose(); // the variable now holds the only reference to `mine`
    expect(overwriteInPlace(variable, randomArray(4))).toBe(false);
    expect(mine).toEqual(copy);
    variable.dispose();
  });
});
