import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { npyReader, parseNpyHeader } from '@dtrain/data';
import { CLASSES, IMAGE_BYTES, IMAGE_SHAPE, npyHeader, writeImageShards } from './npy-shards.js';

const work = mkdtempSync(join(tmpdir(), 'dtrain-npy-shards-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npyHeader', () => {
  it('is what numpy writes: magic, version 1.0, a space-padded dict ending in a newline, data on a 64-byte boundary', () => {
    const header = npyHeader('|u1', [7, 32, 32, 3]);
    expect(header.length % 64).toBe(0);
    expect(Array.from(header.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const length = new DataView(header.buffer).getUint16(8, true);
    expect(10 + length).toBe(header.length);
    const text = new TextDecoder('latin1').decode(header.subarray(10));
    expect(text).toMatch(/^\{'descr': '\|u1', 'fortran_order': False, 'shape': \(7, 32, 32, 3\), \} *\n$/);
  });
  it('writes a one-axis shape as a one-element tuple', () => {
    expect(new TextDecoder('latin1').decode(npyHeader('|u1', [5]))).toContain("'shape': (5,)");
  });
  it("parses with the data package's reader for any sample count", () => {
    for (const n of [1, 9, 1000, 123_456_789]) {
      const header = npyHeader('|u1', [n, ...IMAGE_SHAPE]);
      expect(parseNpyHeader(header, 'x.npy', header.length + n * IMAGE_BYTES)).toEqual({ dtype: 'u1', shape: [n, 32, 32, 3], dataOffset: header.length, elementBytes: 1 });
    }
  });
});

describe('writeImageShards', () => {
  const dir = join(work, 'set');
  const shards = writeImageShards({ dir, images: 2_003, shards: 4, seed: 5 });

  it('spreads the images over the shards and sizes every file to its header', () => {
    expect(shards.map((s) => s.images)).toEqual([501, 501, 501, 500]);
    expect(shards.map((s) => s.features)).toEqual([0, 1, 2, 3].map((i) => join(dir, `train-000${i}-x.npy`)));
    for (const s of shards) {
      const x = readFileSync(s.features);
      const y = readFileSync(s.labels);
      expect(parseNpyHeader(x, s.features, x.length)).toMatchObject({ dtype: 'u1', shape: [s.images, 32, 32, 3] });
      expect(parseNpyHeader(y, s.labels, y.length)).toMatchObject({ dtype: 'u1', shape: [s.images] });
      expect(statSync(s.features).size + statSync(s.labels).size).toBe(s.bytes);
    }
  });

  it('reads back through the npy reader as one dataset of 10 classes whose brightness follows the class', async () => {
    const data = await npyReader.read({ features: join(dir, 'train-*-x.npy'), labels: join(dir, 'train-*-y.npy') });
    expect(data.numSamples).toBe(2_003);
    expect(data.featureShape).toEqual([32, 32, 3]);
    expect(data.numClasses).toBe(CLASSES);
    const sum = new Float64Array(CLASSES);
    const count = new Float64Array(CLASSES);
    for (let i = 0; i < data.numSamples; i += 1) {
      const c = data.labels[i] as number;
      let s = 0;
      for (let j = 0; j < IMAGE_BYTES; j += 1) s += data.features[i * IMAGE_BYTES + j] as number;
      sum[c] = (sum[c] as number) + s / IMAGE_BYTES;
      count[c] = (count[c] as number) + 1;
    }
    const means = Array.from(sum, (s, c) => s / (count[c] as number));
    // Every class occurs, and each is brighter than the one before: the signal a model learns.
    expect(Array.from(count).every((n) => n > 100)).toBe(true);
    for (let c = 1; c < CLASSES; c += 1) expect(means[c] as number).toBeGreaterThan((means[c - 1] as number) + 5);
  });

  it('gives different images for different seeds and the same for the same seed', () => {
    const again = writeImageShards({ dir: join(work, 'again'), images: 2_003, shards: 4, seed: 5 });
    const other = writeImageShards({ dir: join(work, 'other'), images: 2_003, shards: 4, seed: 6 });
    const first = shards[0] as { features: string };
    expect(readFileSync((again[0] as { features: string }).features).equals(readFileSync(first.features))).toBe(true);
    expect(readFileSync((other[0] as { features: string }).features).equals(readFileSync(first.features))).toBe(false);
  });

  it('refuses fewer images than shards', () => {
    expect(() => writeImageShards({ dir: join(work, 'none'), images: 3, shards: 4 })).toThrow('at least one image per shard');
  });
});
