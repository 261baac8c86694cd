import { describe, expect, it } from 'vitest';
import { DataError } from './data-error.js';
import type { Dataset } from './dataset.js';
import { ReaderRegistry, createReaderRegistry } from './reader-registry.js';
import type { DatasetReader } from './reader-registry.js';
import { expectDataError } from './test-support.testkit.js';

describe('ReaderRegistry', () => {
  it('holds the built-in readers under their format names', () => {
    const registry = createReaderRegistry();
    expect(registry.formats()).toEqual(['csv', 'idx', 'images', 'jsonl', 'npy', 'synthetic']);
    for (const format of registry.formats()) expect(registry.get(format).format).toBe(format);
  });

  it('reads through a format name', async () => {
    const ds = await createReaderRegistry().read('synthetic', { numSamples: 3, featureShape: [2], seed: 1 });
    expect(ds.numSamples).toBe(3);
  });

  it('is not global: registries are independent and take custom readers', async () => {
    const empty = new ReaderRegistry();
    const constant: DatasetReader<{ n: number }> = {
      format: 'constant',
      read: ({ n }): Promise<Dataset> =>
        Promise.resolve({
          numSamples: n,
          featureShape: [1],
          labelShape: [1],
          labelEncoding: 'value',
          numClasses: undefined,
          features: new Float32Array(n),
          labels: new Float32Array(n),
          source: 'constant',
        }),
    };
    empty.register(constant);
    expect((await empty.read('constant', { n: 2 })).numSamples).toBe(2);
    expect(createReaderRegistry().has('constant')).toBe(false);
    await expectDataError(() => empty.register(constant), 'DTRAIN_DATA_FORMAT', "a reader for format 'constant' is already registered");
  });

  it('names the known formats when asked for an unknown one', async () => {
    const error = await expectDataError(() => createReaderRegistry().get('parquet'), 'DTRAIN_DATA_FORMAT', "unknown dataset format 'parquet'; expected one of 'csv', 'idx', 'images', 'jsonl', 'npy', 'synthetic'");
    expect(error).toBeInstanceOf(DataError);
    expect(error.name).toBe('DataError');
  });
});
