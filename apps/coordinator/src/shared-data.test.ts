import { randomInt } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createRng, encodeIdx, openIndexed, splitIds, type IndexedDataset } from '@dtrain/data';
import type { SharedDataDescriptor } from '@dtrain/protocol';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { ConfigError, parseJobConfig, type JobConfig } from './config/index.js';
import { SharedTraining, loadSharedJobData, resolveAccess } from './shared-data.js';

const dir = mkdtempSync(join(tmpdir(), 'dtrain-shared-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh seed for a property that must hold for any input, printed if the test fails. */
function freshSeed(): number {
  const seed = randomInt(0, 2 ** 47);
  onTestFailed(() => console.error(`seed = ${seed} (replay by fixing this seed)`));
  return seed;
}

/**
 * Writes raw (uncompressed) IDX ubyte shards `<name>/images-<s>.idx` and
 * `<name>/labels-<s>.idx`: shard s holds the given samples, each a row of
 * `featureShape` bytes, and their labels. Returns the two lists of paths.
 */
function writeShards(
  name: string,
  shards: readonly { readonly rows: readonly (readonly number[])[]; readonly labels: readonly number[] }[],
  featureShape: readonly number[],
): { images: string[]; labels: string[] } {
  mkdirSync(join(dir, name), { recursive: true });
  const images: string[] = [];
  const labels: string[] = [];
  shards.forEach((shard, s) => {
    const image = join(dir, name, `images-${s}.idx`);
    const label = join(dir, name, `labels-${s}.idx`);
    writeFileSync(image, encodeIdx(0x08, [shard.rows.length, ...featureShape], shard.rows.flat()));
    writeFileSync(label, encodeIdx(0x08, [shard.labels.length], shard.labels));
    images.push(image);
    labels.push(label);
  });
  return { images, labels };
}

/** A job config around `dataset` (keys as in a config file), parsed as the coordinator parses one. */
function jobConfig(dataset: Record<string, unknown>, training: Record<string, unknown> = {}): JobConfig {
  return parseJobConfig(
    {
      name: 'shared-data',
      model: { layers: [{ type: 'dense', units: 5, activation: 'softmax', inputShape: [4] }] },
      dataset,
      training: { epochs: 1, batchSize: 2, optimizer: { name: 'sgd', learningRate: 0.1 }, loss: 'sparseCategoricalCrossentropy', seed: 7, ...training },
    },
    dir,
    'job.yaml',
  );
}

function configError(error: unknown, field: string, message: string): void {
  expect(error).toBeInstanceOf(ConfigError);
  const e = error as ConfigError;
  expect([e.code, e.field, e.message]).toStrictEqual(['DTRAIN_CONFIG_INVALID', field, message]);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('SharedTraining.shardOf and touches', () => {
  /** The shard of source id `id` by a linear scan of the sizes. */
  const bruteShard = (sizes: readonly number[], id: number): number => {
    let end = 0;
    for (const [s, n] of sizes.entries()) {
      end += n;
      if (id < end) return s;
    }
    throw new Error(`source id ${id} is past the ${end} samples`);
  };

  it('agree with a linear scan over the shards, for any shard sizes (empty shards too) and training split', async () => {
    const seed = freshSeed();
    const rng = createRng(seed);
    for (let trial = 0; trial < 25; trial++) {
      const numShards = 1 + rng.nextInt(6);
      const sizes = Array.from({ length: numShards }, () => rng.nextInt(7));
      // At least one sample somewhere.
      sizes[rng.nextInt(numShards)] = 1 + rng.nextInt(6);
      const files = writeShards(
        `random-${trial}`,
        sizes.map((n) => ({ rows: Array.from({ length: n }, () => [rng.nextInt(256)]), labels: Array.from({ length: n }, () => rng.nextInt(2)) })),
        [1],
      );
      const index = await openIndexed('idx', { ...files, numClasses: 2 });
      const total = sizes.reduce((a, b) => a + b, 0);
      const { train } = splitIds(total, rng.nextInt(5) / 10, rng.nextInt(1000));
      const shared = new SharedTraining({} as SharedDataDescriptor, index, train, [index]);
      try {
        expect(shared.files, `trial ${trial}`).toEqual(files.images);
        const shardOf = Array.from(train, (sourceId) => bruteShard(sizes, sourceId));
        train.forEach((_, t) => expect(shared.shardOf(t), `trial ${trial}: sizes [${sizes.join(', ')}], training id ${t}`).toBe(shardOf[t]));
        for (let k = 0; k < 10; k++) {
          const ids = Uint32Array.from({ length: rng.nextInt(4) }, () => rng.nextInt(train.length));
          const shards = new Set(Array.from({ length: rng.nextInt(numShards + 1) }, () => rng.nextInt(numShards)));
          const expected = Array.from(ids).some((t) => shards.has(shardOf[t] as number));
          expect(shared.touches(ids, shards), `trial ${trial}: ids [${ids.join(', ')}], shards [${[...shards].join(', ')}]`).toBe(expected);
        }
        expect(shared.touches(Uint32Array.from(train.keys()), new Set())).toBe(false);
        expect(shared.touches(new Uint32Array(0), new Set(sizes.keys()))).toBe(false);
      } finally {
        await shared.close();
      }
    }
  });
});

describe('resolveAccess', () => {
  const small = writeShards('small', [{ rows: [[1, 2, 3, 4], [5, 6, 7, 8]], labels: [0, 1] }, { rows: [[9, 10, 11, 12]], labels: [2] }], [4]);

  it('access: ship ships without opening the data', async () => {
    expect(await resolveAccess(jobConfig({ format: 'idx', ...small, access: 'ship' }))).toStrictEqual({ access: 'ship', why: 'dataset.access is ship' });
  });

  it('access: shared shares, with the index of the training source', async () => {
    const decided = await resolveAccess(jobConfig({ format: 'idx', ...small, access: 'shared' }));
    try {
      expect([decided.access, decided.why]).toStrictEqual(['shared', 'dataset.access is shared']);
      expect(decided.index?.shards).toStrictEqual([
        { file: small.images[0], numSamples: 2 },
        { file: small.images[1], numSamples: 1 },
      ]);
      expect(decided.index?.featureShape).toStrictEqual([4]);
    } finally {
      await decided.index?.close();
    }
  });

  it('access: auto ships a small set, saying its size in MB', async () => {
    expect(await resolveAccess(jobConfig({ format: 'idx', ...small }))).toStrictEqual({ access: 'ship', why: 'auto: 0 MB as float32, at most 512 MB' });
  });

  it('access: auto shares a set above 512 MB as float32, with its index', async () => {
    // Two samples of 2^26 + 2^19 bytes: 516 MB as float32. The images file is sparse; only its header is read.
    const featureSize = 2 ** 26 + 2 ** 19;
    mkdirSync(join(dir, 'large'));
    const images = join(dir, 'large', 'images.idx');
    const header = encodeIdx(0x08, [2, featureSize], []);
    const fd = openSync(images, 'w');
    writeSync(fd, header);
    writeSync(fd, new Uint8Array(1), 0, 1, header.length + 2 * featureSize - 1);
    closeSync(fd);
    const labels = join(dir, 'large', 'labels.idx');
    writeFileSync(labels, encodeIdx(0x08, [2], [0, 1]));
    const decided = await resolveAccess(jobConfig({ format: 'idx', images, labels }));
    try {
      expect([decided.access, decided.why]).toStrictEqual(['shared', 'auto: 516 MB as float32, more than 512 MB']);
      expect(decided.index?.numSamples).toBe(2);
    } finally {
      await decided.index?.close();
    }
  });

  it('access: auto ships gzip-compressed idx, which cannot be read by sample', async () => {
    mkdirSync(join(dir, 'gzip'));
    const images = join(dir, 'gzip', 'images.idx.gz');
    const labels = join(dir, 'gzip', 'labels.idx.gz');
    writeFileSync(images, gzipSync(encodeIdx(0x08, [2, 4], [1, 2, 3, 4, 5, 6, 7, 8])));
    writeFileSync(labels, gzipSync(encodeIdx(0x08, [2], [0, 1])));
    const decided = await resolveAccess(jobConfig({ format: 'idx', images, labels }));
    expect(decided).toStrictEqual({
      access: 'ship',
      why: `auto: ${images}: is gzip-compressed and cannot be read by byte range; store shards uncompressed for random access (gunzip it)`,
    });
  });

  it('access: shared with gzip-compressed idx is a config error naming dataset.access and the file', async () => {
    const images = join(dir, 'gzip', 'images.idx.gz');
    const labels = join(dir, 'gzip', 'labels.idx.gz');
    const error = await rejection(resolveAccess(jobConfig({ format: 'idx', images, labels, access: 'shared' })));
    configError(
      error,
      'dataset.access',
      `dataset.access: shared, but ${images}: is gzip-compressed and cannot be read by byte range; store shards uncompressed for random access (gunzip it); use access: ship`,
    );
  });

  it('access: auto ships a synthetic source; access: shared refuses it, naming dataset.access', async () => {
    const synthetic = { format: 'synthetic', numSamples: 100, featureShape: [4], numClasses: 5 };
    const why = 'format synthetic cannot be read by sample (shared access takes csv, idx, images, jsonl, npy)';
    expect(await resolveAccess(jobConfig(synthetic))).toStrictEqual({ access: 'ship', why: `auto: ${why}` });
    configError(await rejection(resolveAccess(jobConfig({ ...synthetic, access: 'shared' }))), 'dataset.access', `dataset.access: shared, but ${why}; use access: ship`);
  });
});

describe('loadSharedJobData', () => {
  // 13 samples of [2, 2] bytes in shards of 6, 4 and 3, labels 0..4. Split 0.3: round(3.9) = 4 held out.
  const SIZES = [6, 4, 3];
  const N = 13;
  const SPLIT = 0.3;
  const SEED = 7;
  const { train: trainIds, validation: validationIds } = splitIds(N, SPLIT, SEED);
  // The largest byte of a training sample is 128, a power of two (so x / 128 is exact in float32); a validation sample holds 255.
  const rows = Array.from({ length: N }, (_, i) => [(i * 7) % 100, (i * 13) % 100, (i * 3) % 100, 50 + i]);
  (rows[trainIds[2] as number] as number[])[1] = 128;
  (rows[validationIds[1] as number] as number[])[3] = 255;
  const labelOf = (i: number): number => (i * 3) % 5;
  let start = 0;
  const shards = SIZES.map((n) => {
    const ids = Array.from({ length: n }, (_, k) => start + k);
    start += n;
    return { rows: ids.map((i) => rows[i] as number[]), labels: ids.map(labelOf) };
  });
  const files = writeShards('split', shards, [2, 2]);
  const globs = { images: join(dir, 'split', 'images-*.idx'), labels: join(dir, 'split', 'labels-*.idx') };

  async function load(dataset: Record<string, unknown> = {}, training: Record<string, unknown> = {}) {
    const config = jobConfig({ format: 'idx', ...globs, validationSplit: SPLIT, normalise: { kind: 'scale' }, access: 'shared', cacheBytes: 12345, ...dataset }, training);
    const decided = await resolveAccess(config);
    return loadSharedJobData(config, decided.index as IndexedDataset);
  }

  it('fixture: the split holds out four samples, and 255 is in one of them', () => {
    expect([trainIds.length, validationIds.length]).toStrictEqual([9, 4]);
    expect(Math.max(...Array.from(trainIds, (i) => Math.max(...(rows[i] as number[]))))).toBe(128);
  });

  it('trains on numSamples - round(split x numSamples) samples, scaled by the largest training byte', async () => {
    const data = await load();
    try {
      expect(data.train).toStrictEqual({ numSamples: 9, featureShape: [2, 2], labelShape: [1], labelEncoding: 'index', numClasses: 5, source: `${files.images[0] as string} (+2 more shards)` });
      expect(data.stats).toStrictEqual({ kind: 'scale', scale: 128 });
      expect(data.test).toBeUndefined();
      expect(data.shared.files).toStrictEqual(files.images);
    } finally {
      await data.shared.close();
    }
  });

  it('tells workers the source with its globs expanded and numClasses fixed, the shards, the split and the statistics', async () => {
    const data = await load();
    try {
      expect(data.shared.descriptor).toStrictEqual({
        source: { format: 'idx', images: files.images, labels: files.labels, labelEncoding: 'index', numClasses: 5 },
        shards: [
          { file: files.images[0], numSamples: 6 },
          { file: files.images[1], numSamples: 4 },
          { file: files.images[2], numSamples: 3 },
        ],
        validationSplit: SPLIT,
        splitSeed: SEED,
        normalisation: { kind: 'scale', scale: 128 },
        cacheBytes: 12345,
      });
    } finally {
      await data.shared.close();
    }
  });

  it('maps training ids to the shards of the split\'s source ids', async () => {
    const data = await load();
    try {
      trainIds.forEach((sourceId, t) => expect(data.shared.shardOf(t)).toBe(sourceId < 6 ? 0 : sourceId < 10 ? 1 : 2));
    } finally {
      await data.shared.close();
    }
  });

  it('evaluates exactly the validation samples of splitIds, normalised', async () => {
    const data = await load();
    try {
      expect(data.validation.numSamples).toBe(4);
      const features: number[] = [];
      const labels: number[] = [];
      for await (const block of data.validation.blocks()) {
        expect([block.numSamples, block.featureShape, block.labelShape, block.numClasses]).toStrictEqual([4, [2, 2], [1], 5]);
        features.push(...block.features);
        labels.push(...block.labels);
      }
      expect(features).toStrictEqual(Array.from(validationIds).flatMap((i) => (rows[i] as number[]).map((b) => b / 128)));
      expect(labels).toStrictEqual(Array.from(validationIds, labelOf));
    } finally {
      await data.shared.close();
    }
  });

  it('takes a given scale as is, and dataset.featureShape as the shape workers and evaluation use', async () => {
    const data = await load({ normalise: { kind: 'scale', scale: 256 }, featureShape: [4] });
    try {
      expect(data.stats).toStrictEqual({ kind: 'scale', scale: 256 });
      expect(data.train.featureShape).toStrictEqual([4]);
      expect(data.shared.descriptor.featureShape).toStrictEqual([4]);
      expect(data.shared.descriptor.normalisation).toStrictEqual({ kind: 'scale', scale: 256 });
      const blocks = [];
      for await (const block of data.validation.blocks()) blocks.push(block);
      expect(blocks.map((b) => b.featureShape)).toStrictEqual([[4]]);
      expect(Array.from((blocks[0] as { features: Float32Array }).features)).toStrictEqual(Array.from(validationIds).flatMap((i) => (rows[i] as number[]).map((b) => b / 256)));
    } finally {
      await data.shared.close();
    }
  });

  it('reads a test source by sample, every sample of it', async () => {
    const test = writeShards('test', [{ rows: [[1, 2, 3, 4], [0, 0, 0, 64]], labels: [4, 0] }], [2, 2]);
    const data = await load({ test: { format: 'idx', images: test.images[0], labels: test.labels[0] } });
    try {
      const blocks = [];
      for await (const block of data.test?.blocks() ?? []) blocks.push(block);
      expect(blocks.length).toBe(1);
      expect(Array.from((blocks[0] as { features: Float32Array }).features)).toStrictEqual([1, 2, 3, 4, 0, 0, 0, 64].map((b) => b / 128));
      expect(Array.from((blocks[0] as { labels: Float32Array }).labels)).toStrictEqual([4, 0]);
    } finally {
      await data.shared.close();
    }
  });

  it('refuses a featureShape of another size, a batch larger than the training set, and a test source not read by sample', async () => {
    configError(
      await rejection(load({ featureShape: [5] })),
      'dataset.featureShape',
      `dataset.featureShape: [5] holds 5 values but each sample of ${files.images[0] as string} (+2 more shards) has 4 ([2, 2])`,
    );
    configError(
      await rejection(load({}, { batchSize: 10 })),
      'training.batchSize',
      `training.batchSize: 10 is more than the 9 training samples of ${files.images[0] as string} (+2 more shards)`,
    );
    configError(
      await rejection(load({ test: { format: 'synthetic', numSamples: 10, featureShape: [4], numClasses: 5 } })),
      'dataset.test',
      'dataset.test: format synthetic cannot be read by sample (shared access takes csv, idx, images, jsonl, npy); with shared access the test source is read by sample too',
    );
  });
});
