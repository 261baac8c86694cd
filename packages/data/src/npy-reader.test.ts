import { describe, expect, it } from 'vitest';
import { parseNpy } from './npy-format.js';
import type { NpyDtype } from './npy-format.js';
import { encodeNpy } from './npy-format.testkit.js';
import { npyReader } from './npy-reader.js';
import { createRng } from './rng.js';
import { expectDataError, freshSeed, useTempDir } from './test-support.testkit.js';

const temp = useTempDir();

describe('parseNpy', () => {
  it('decodes every supported dtype in every format version, for any values', () => {
    const rng = createRng(freshSeed());
    const draws: [NpyDtype, () => number][] = [
      ['u1', () => rng.nextInt(256)],
      ['i1', () => rng.nextInt(256) - 128],
      ['i2', () => rng.nextInt(65536) - 32768],
      ['i4', () => rng.nextUint32() - 2 ** 31],
      ['i8', () => (rng.nextInt(2) === 0 ? -1 : 1) * rng.nextInt(2 ** 30) * 2 ** 20],
      ['f4', () => Math.fround(rng.normal() * 1e6)],
      ['f8', () => rng.normal() * 1e-3],
    ];
    for (const version of [1, 2, 3] as const) {
      for (const [dtype, draw] of draws) {
        const shape = [1 + rng.nextInt(5), 1 + rng.nextInt(4)];
        const values = Array.from({ length: shape[0]! * shape[1]! }, draw);
        const parsed = parseNpy(encodeNpy(dtype, shape, values, { version }), 'x.npy');
        expect(parsed.dtype).toBe(dtype);
        expect(parsed.shape).toEqual(shape);
        expect(Array.from(parsed.data)).toEqual(values.map(Math.fround));
      }
    }
  });

  it('reads little-endian bytes as the spec lays them out', () => {
    // A hand-made version 1.0 file: int16 values 0x0102 and -2, data at byte 128 (a multiple of 64).
    const dict = "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }";
    const header = dict.padEnd(128 - 10 - 1, ' ') + '\n';
    const bytes = Uint8Array.from([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length, 0, ...Buffer.from(header), 0x02, 0x01, 0xfe, 0xff]);
    const parsed = parseNpy(bytes, 'x.npy');
    expect(parsed.dataOffset).toBe(128);
    expect(Array.from(parsed.data)).toEqual([258, -2]);
  });

  it('rejects what it cannot read, naming file and byte', async () => {
    await expectDataError(() => parseNpy(Uint8Array.from([0x50, 0x4b, 3, 4]), 'a.npy'), 'DTRAIN_DATA_MAGIC', /^a\.npy: byte 0: expected the \.npy magic number/);
    await expectDataError(
      () => parseNpy(encodeNpy('f4', [2, 2], [1, 2, 3, 4], { fortranOrder: true }), 'f.npy'),
      'DTRAIN_DATA_NPY',
      'f.npy: byte 10: array is in Fortran (column-major) order; expected C order (save it with numpy.ascontiguousarray first)',
    );
    await expectDataError(() => parseNpy(encodeNpy('f4', [2], [1, 2], { order: '>' }), 'b.npy'), 'DTRAIN_DATA_NPY', /^b\.npy: byte 10: dtype "\>f4" is not supported; expected little-endian/);
    await expectDataError(() => parseNpy(encodeNpy('i8', [1], [2 ** 53 + 2]), 'big.npy'), 'DTRAIN_DATA_NPY', /^big\.npy: byte 128: int64 element 0 is beyond ±2\^53/);
    await expectDataError(() => parseNpy(encodeNpy('f4', [], [1]), 's.npy'), 'DTRAIN_DATA_NPY', 's.npy: byte 10: array is 0-dimensional; expected samples along the first axis');
  });

  it('rejects a truncated file and one with bytes after the data', async () => {
    const whole = encodeNpy('f4', [3, 2], [1, 2, 3, 4, 5, 6]);
    await expectDataError(
      () => parseNpy(whole.subarray(0, whole.length - 3), 't.npy'),
      'DTRAIN_DATA_TRUNCATED',
      `t.npy: byte ${whole.length - 3}: file ends early: shape (3, 2) of float32 needs 24 bytes of data, found 21; the file is truncated`,
    );
    await expectDataError(() => parseNpy(whole.subarray(0, 40), 'h.npy'), 'DTRAIN_DATA_TRUNCATED', /^h\.npy: byte 40: file ends inside the \.npy header/);
    await expectDataError(() => parseNpy(Uint8Array.from([...whole, 0]), 'x.npy'), 'DTRAIN_DATA_TRAILING', `x.npy: byte ${whole.length}: 1 bytes after the array's 24 bytes of data; expected the file to end there`);
  });
});

describe('npy reader', () => {
  it('reads features and labels, featureShape from the remaining axes or reshaped', async () => {
    const features = await temp.write('x.npy', encodeNpy('u1', [3, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]));
    const labels = await temp.write('y.npy', encodeNpy('i8', [3, 1], [2, 0, 1]), true);
    const ds = await npyReader.read({ features, labels });
    expect(ds.featureShape).toEqual([2, 2]);
    expect(Array.from(ds.features)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);
    expect(Array.from(ds.labels)).toEqual([2, 0, 1]);
    expect(ds.numClasses).toBe(3);
    const flat = await npyReader.read({ features, labels, featureShape: [4], labelEncoding: 'onehot', numClasses: 4 });
    expect(flat.featureShape).toEqual([4]);
    expect(Array.from(flat.labels)).toEqual([0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0]);
    const regression = await npyReader.read({ features, labels: await temp.write('v.npy', encodeNpy('f8', [3], [0.5, -1.25, 3])), labelEncoding: 'value' });
    expect(Array.from(regression.labels)).toEqual([0.5, -1.25, 3]);
    expect(regression.numClasses).toBeUndefined();
  });

  it('reads shards by glob in sorted order and by list in list order', async () => {
    for (const i of [2, 0, 1]) {
      await temp.write(`shard-x-${i}.npy`, encodeNpy('f4', [2, 3], Array.from({ length: 6 }, (_, k) => i * 10 + k)));
      await temp.write(`shard-y-${i}.npy`, encodeNpy('u1', [2], [i, i]));
    }
    const ds = await npyReader.read({ features: temp.path('shard-x-*.npy'), labels: temp.path('shard-y-*.npy') });
    expect(ds.numSamples).toBe(6);
    expect(Array.from(ds.labels)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(ds.features[6]).toBe(10);
    const listed = await npyReader.read({ features: [temp.path('shard-x-2.npy'), temp.path('shard-x-0.npy')], labels: [temp.path('shard-y-2.npy'), temp.path('shard-y-0.npy')] });
    expect(Array.from(listed.labels)).toEqual([2, 2, 0, 0]);
    expect(listed.source).toBe(`${temp.path('shard-x-2.npy')} (+1 more shards)`);
  });

  it('rejects shards whose shapes disagree, naming the shard', async () => {
    const other = await temp.write('odd-x.npy', encodeNpy('f4', [1, 4], [1, 2, 3, 4]));
    const otherLabels = await temp.write('odd-y.npy', encodeNpy('u1', [1], [0]));
    await expectDataError(
      () => npyReader.read({ features: [temp.path('shard-x-0.npy'), other], labels: [temp.path('shard-y-0.npy'), otherLabels] }),
      'DTRAIN_DATA_SHAPE',
      `${other}: samples have shape [4] but ${temp.path('shard-x-0.npy')} has [3]; every shard must share one sample shape`,
    );
  });

  it('rejects a glob that matches nothing and unequal numbers of files', async () => {
    const pattern = temp.path('nothing-*.npy');
    await expectDataError(() => npyReader.read({ features: pattern, labels: pattern }), 'DTRAIN_DATA_NOT_FOUND', `${pattern}: no files match this pattern`);
    await expectDataError(
      () => npyReader.read({ features: temp.path('shard-x-*.npy'), labels: temp.path('shard-y-0.npy') }),
      'DTRAIN_DATA_SHAPE',
      /^.*shard-y-0\.npy: names 1 labels files but features .*shard-x-\*\.npy names 3; expected one labels file per features file$/,
    );
  });

  it('rejects a truncated shard, a label count mismatch and a bad class label, naming the file', async () => {
    const whole = encodeNpy('f4', [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const cut = await temp.write('cut.npy', whole.subarray(0, whole.length - 4));
    const labels = await temp.write('l4.npy', encodeNpy('u1', [4], [0, 1, 0, 1]));
    await expectDataError(() => npyReader.read({ features: cut, labels }), 'DTRAIN_DATA_TRUNCATED', new RegExp(`^${cut}: byte \\d+: file ends early`));
    const features = await temp.write('x4.npy', whole);
    const three = await temp.write('l3.npy', encodeNpy('u1', [3], [0, 1, 0]));
    await expectDataError(() => npyReader.read({ features, labels: three }), 'DTRAIN_DATA_SHAPE', `${three}: holds 3 labels but ${features} holds 4 samples; expected one label per sample`);
    const negative = await temp.write('neg.npy', encodeNpy('i4', [4], [0, 1, -1, 1]));
    await expectDataError(() => npyReader.read({ features, labels: negative }), 'DTRAIN_DATA_LABEL_RANGE', `${negative}: byte 136: class label -1 is negative (sample 2, int32); expected a class id`);
    await expectDataError(() => npyReader.read({ features, labels, featureShape: [3] }), 'DTRAIN_DATA_SHAPE', `${features}: samples have shape [2] (2 values) but featureShape [3] holds 3`);
  });

  it('rejects bad options with DTRAIN_DATA_OPTIONS naming the field', async () => {
    await expectDataError(() => npyReader.read({ features: 'x.npy', labels: [] }), 'DTRAIN_DATA_OPTIONS', 'npy reader: labels: expected a path, a glob or a non-empty list of paths, got []');
    await expectDataError(() => npyReader.read({ features: 'x.npy', labels: 'y.npy', labelEncoding: 'value', numClasses: 3 }), 'DTRAIN_DATA_OPTIONS', /numClasses applies to 'index'\/'onehot' labels/);
  });
});
