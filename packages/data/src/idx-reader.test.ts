import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeIdx, parseIdx } from './idx-format.js';
import type { IdxTypeCode } from './idx-format.js';
import { idxReader } from './idx-reader.js';
import { createRng } from './rng.js';
import { expectDataError, freshSeed, useTempDir } from './test-support.testkit.js';

const temp = useTempDir();
const MNIST = fileURLToPath(new URL('../../../examples/data/mnist/', import.meta.url));

describe('parseIdx', () => {
  it('decodes every IDX element type, big-endian, for any values', () => {
    const rng = createRng(freshSeed());
    const cases: [IdxTypeCode, () => number][] = [
      [0x08, () => rng.nextInt(256)],
      [0x09, () => rng.nextInt(256) - 128],
      [0x0b, () => rng.nextInt(65536) - 32768],
      [0x0c, () => rng.nextUint32() - 2 ** 31],
      [0x0d, () => Math.fround(rng.normal() * 1e6)],
      [0x0e, () => rng.normal() * 1e-3],
    ];
    for (const [type, draw] of cases) {
      const dims = [1 + rng.nextInt(4), 1 + rng.nextInt(4), 1 + rng.nextInt(4)];
      const values = Array.from({ length: dims[0]! * dims[1]! * dims[2]! }, draw);
      const parsed = parseIdx(encodeIdx(type, dims, values), 'x.idx');
      expect(parsed.typeCode).toBe(type);
      expect(parsed.dims).toEqual(dims);
      expect(Array.from(parsed.data)).toEqual(values.map(Math.fround));
    }
  });

  it('reads big-endian bytes as the spec lays them out', () => {
    // magic 00 00 0b 01, one dimension of 2, shorts 0x0102 and 0xfffe.
    const bytes = Uint8Array.from([0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe]);
    expect(Array.from(parseIdx(bytes, 'x').data)).toEqual([258, -2]);
  });

  it('rejects a wrong magic number, naming file and byte', async () => {
    await expectDataError(
      () => parseIdx(Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0]), 'a.zip'),
      'DTRAIN_DATA_MAGIC',
      'a.zip: byte 0: expected an IDX magic number (00 00, type 08/09/0b/0c/0d/0e, dimension count ≥ 1), found 50 4b 03 04',
    );
    await expectDataError(
      () => parseIdx(Uint8Array.from([0, 0, 0x07, 1, 0, 0, 0, 0]), 'b.idx'),
      'DTRAIN_DATA_MAGIC',
      /^b\.idx: byte 2: unknown IDX element type 0x07; expected an IDX magic number/,
    );
    await expectDataError(() => parseIdx(Uint8Array.from([0, 0, 0x08, 0]), 'c.idx'), 'DTRAIN_DATA_MAGIC', /^c\.idx: byte 3: IDX dimension count is 0/);
  });

  it('rejects a header cut short', async () => {
    const full = encodeIdx(0x08, [2, 3, 3], new Array(18).fill(1));
    const error = await expectDataError(
      () => parseIdx(full.subarray(0, 10), 'short.idx'),
      'DTRAIN_DATA_TRUNCATED',
      'short.idx: byte 10: file ends inside the IDX header; expected 16 header bytes for 3 dimensions, found 10',
    );
    expect(error.file).toBe('short.idx');
    expect(error.position).toEqual({ byteOffset: 10 });
    await expectDataError(() => parseIdx(full.subarray(0, 2), 'tiny.idx'), 'DTRAIN_DATA_TRUNCATED', 'tiny.idx: byte 2: file ends inside the IDX magic number; expected 4 bytes, found 2');
  });

  it('rejects a body cut short and bytes after the body', async () => {
    const full = encodeIdx(0x0b, [2, 3], [1, 2, 3, 4, 5, 6]);
    await expectDataError(
      () => parseIdx(full.subarray(0, full.length - 1), 'body.idx'),
      'DTRAIN_DATA_TRUNCATED',
      'body.idx: byte 23: file ends inside the data; expected 24 bytes for 2×3 short, found 23',
    );
    const longer = new Uint8Array(full.length + 3);
    longer.set(full);
    await expectDataError(
      () => parseIdx(longer, 'long.idx'),
      'DTRAIN_DATA_TRAILING',
      'long.idx: byte 24: 3 bytes after the data; expected the file to end at byte 24 for 2×3 short',
    );
  });
});

describe('idx reader', () => {
  const images = encodeIdx(0x08, [4, 2, 2], Array.from({ length: 16 }, (_, i) => i * 10));

  it('detects gzip from the content, not the name', async () => {
    const imagesPath = await temp.write('plain-name.idx', gzipSync(images));
    const labelsPath = await temp.write('labels.idx.gz', encodeIdx(0x08, [4], [3, 0, 1, 2]));
    const ds = await idxReader.read({ images: imagesPath, labels: labelsPath });
    expect(ds.numSamples).toBe(4);
    expect(ds.featureShape).toEqual([2, 2]);
    expect(Array.from(ds.features.subarray(4, 8))).toEqual([40, 50, 60, 70]);
    expect(Array.from(ds.labels)).toEqual([3, 0, 1, 2]);
    expect(ds.numClasses).toBe(4);
  });

  it('honours numClasses for one-hot labels', async () => {
    const imagesPath = await temp.write('i1.idx', images);
    const labelsPath = await temp.write('l1.idx', encodeIdx(0x08, [4], [1, 0, 1, 0]));
    const ds = await idxReader.read({ images: imagesPath, labels: labelsPath, labelEncoding: 'onehot', numClasses: 3 });
    expect(ds.labelShape).toEqual([3]);
    expect(Array.from(ds.labels)).toEqual([0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0]);
  });

  it('rejects images and labels of different counts', async () => {
    const imagesPath = await temp.write('i2.idx', images);
    const labelsPath = await temp.write('l2.idx', encodeIdx(0x08, [3], [1, 0, 1]));
    await expectDataError(
      () => idxReader.read({ images: imagesPath, labels: labelsPath }),
      'DTRAIN_DATA_SHAPE',
      `${labelsPath}: holds 3 labels but ${imagesPath} holds 4 images; expected one label per image`,
    );
  });

  it('rejects a label outside numClasses, naming its byte offset', async () => {
    const imagesPath = await temp.write('i3.idx', images);
    const labelsPath = await temp.write('l3.idx.gz', encodeIdx(0x08, [4], [1, 0, 7, 0]), true);
    const error = await expectDataError(
      () => idxReader.read({ images: imagesPath, labels: labelsPath, numClasses: 5 }),
      'DTRAIN_DATA_LABEL_RANGE',
      `${labelsPath}: byte 10 (gunzipped): class label 7 is out of range for numClasses 5 (expected 0..4) (sample 2); expected a class id`,
    );
    expect(error.position).toEqual({ byteOffset: 10, gunzipped: true });
  });

  it('rejects negative and fractional labels', async () => {
    const imagesPath = await temp.write('i4.idx', images);
    const negative = await temp.write('l4.idx', encodeIdx(0x09, [4], [1, -1, 0, 0]));
    await expectDataError(() => idxReader.read({ images: imagesPath, labels: negative }), 'DTRAIN_DATA_LABEL_RANGE', /byte 9: class label -1 is negative \(sample 1\)/);
    const fractional = await temp.write('l5.idx', encodeIdx(0x0d, [4], [1, 0, 0, 2.5]));
    await expectDataError(() => idxReader.read({ images: imagesPath, labels: fractional }), 'DTRAIN_DATA_LABEL_RANGE', /byte 20: class label 2\.5 is not an integer \(sample 3\)/);
  });

  it('rejects a labels file with more than one label per sample', async () => {
    const imagesPath = await temp.write('i6.idx', images);
    const labelsPath = await temp.write('l6.idx', encodeIdx(0x08, [4, 2], [0, 1, 0, 1, 0, 1, 0, 1]));
    await expectDataError(
      () => idxReader.read({ images: imagesPath, labels: labelsPath }),
      'DTRAIN_DATA_SHAPE',
      `${labelsPath}: byte 4: labels have dimensions 4×2 (ubyte); expected one label per sample (N or N×1)`,
    );
  });

  it('reports a truncated gzip file', async () => {
    const packed = gzipSync(images);
    const imagesPath = await temp.write('cut.gz', packed.subarray(0, packed.length - 12));
    const labelsPath = await temp.write('l7.idx', encodeIdx(0x08, [4], [0, 1, 2, 3]));
    await expectDataError(() => idxReader.read({ images: imagesPath, labels: labelsPath }), 'DTRAIN_DATA_TRUNCATED', /cut\.gz: gzip stream ends early/);
  });

  it('reads sharded images and labels, globs paired in sorted order and lists in list order', async () => {
    for (const shard of [1, 0]) {
      const values = Array.from({ length: 2 * 3 }, (_, i) => shard * 100 + i);
      await temp.write(`train-images-${shard}.idx`, encodeIdx(0x08, [2, 3], values), shard === 1);
      await temp.write(`train-labels-${shard}.idx`, encodeIdx(0x08, [2], [shard * 2, shard * 2 + 1]));
    }
    const ds = await idxReader.read({ images: temp.path('train-images-*.idx'), labels: temp.path('train-labels-*.idx') });
    expect(ds.numSamples).toBe(4);
    expect(ds.featureShape).toEqual([3]);
    expect(Array.from(ds.labels)).toEqual([0, 1, 2, 3]);
    expect(Array.from(ds.features)).toEqual([0, 1, 2, 3, 4, 5, 100, 101, 102, 103, 104, 105]);
    expect(ds.numClasses).toBe(4);
    const listed = await idxReader.read({
      images: [temp.path('train-images-1.idx'), temp.path('train-images-0.idx')],
      labels: [temp.path('train-labels-1.idx'), temp.path('train-labels-0.idx')],
    });
    expect(Array.from(listed.labels)).toEqual([2, 3, 0, 1]);
  });

  it('rejects shards whose shapes disagree and unequal file counts, naming the file', async () => {
    const odd = await temp.write('odd-images.idx', encodeIdx(0x08, [1, 4], [1, 2, 3, 4]));
    const oddLabels = await temp.write('odd-labels.idx', encodeIdx(0x08, [1], [0]));
    await expectDataError(
      () => idxReader.read({ images: [temp.path('train-images-0.idx'), odd], labels: [temp.path('train-labels-0.idx'), oddLabels] }),
      'DTRAIN_DATA_SHAPE',
      `${odd}: samples have shape [4] but ${temp.path('train-images-0.idx')} has [3]; every shard must share one sample shape`,
    );
    await expectDataError(
      () => idxReader.read({ images: temp.path('train-images-*.idx'), labels: temp.path('train-labels-0.idx') }),
      'DTRAIN_DATA_SHAPE',
      `${temp.path('train-labels-0.idx')}: names 1 labels files but images ${temp.path('train-images-*.idx')} names 2; expected one labels file per images file`,
    );
    const none = temp.path('test-images-*.idx');
    await expectDataError(() => idxReader.read({ images: none, labels: none }), 'DTRAIN_DATA_NOT_FOUND', `${none}: no files match this pattern`);
  });

  it('reads the real MNIST test set', async () => {
    const ds = await idxReader.read({
      images: `${MNIST}t10k-images-idx3-ubyte.gz`,
      labels: `${MNIST}t10k-labels-idx1-ubyte.gz`,
    });
    expect(ds.numSamples).toBe(10000);
    expect(ds.featureShape).toEqual([28, 28]);
    expect(ds.numClasses).toBe(10);
    expect(Array.from(ds.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(Math.max(...ds.features.subarray(0, 784))).toBe(255);
    expect(Math.min(...ds.features.subarray(0, 784))).toBe(0);
  });
});
