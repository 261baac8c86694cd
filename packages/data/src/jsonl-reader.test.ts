import { describe, expect, it } from 'vitest';
import { jsonlReader } from './jsonl-reader.js';
import { expectDataError, useTempDir } from './test-support.testkit.js';

const temp = useTempDir();

const lines = (...records: unknown[]): string => records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';

describe('jsonl reader', () => {
  it('reads an array feature field and class-id labels, skipping blank lines', async () => {
    const path = await temp.write('a.jsonl', lines({ x: [1, 2.5], y: 1 }, '', { y: 0, x: [-3, 4], note: 'extra fields are ignored' }, '  ', { x: [5, 6], y: 2 }));
    const ds = await jsonlReader.read({ path, featureField: 'x', labelField: 'y' });
    expect(ds.numSamples).toBe(3);
    expect(ds.featureShape).toEqual([2]);
    expect(Array.from(ds.features)).toEqual([1, 2.5, -3, 4, 5, 6]);
    expect(Array.from(ds.labels)).toEqual([1, 0, 2]);
    expect(ds.numClasses).toBe(3);
    expect(ds.source).toBe(path);
  });

  it('reads named numeric fields in the order given, class names and CRLF line ends', async () => {
    const text = lines({ w: 1, h: 2, kind: 'cat' }, { h: 4, w: 3, kind: ' dog ' }).replaceAll('\n', '\r\n');
    const path = await temp.write('b.jsonl', text, true);
    const ds = await jsonlReader.read({ path, featureFields: ['h', 'w'], labelField: 'kind', classNames: ['dog', 'cat', 'bird'], labelEncoding: 'onehot' });
    expect(Array.from(ds.features)).toEqual([2, 1, 4, 3]);
    expect(ds.numClasses).toBe(3);
    expect(Array.from(ds.labels)).toEqual([0, 1, 0, 1, 0, 0]);
  });

  it('reads regression targets', async () => {
    const path = await temp.write('r.jsonl', lines({ x: [1], t: -0.25 }, { x: [2], t: 7 }));
    const ds = await jsonlReader.read({ path, featureField: 'x', labelField: 't', labelEncoding: 'value' });
    expect(Array.from(ds.labels)).toEqual([-0.25, 7]);
    expect(ds.numClasses).toBeUndefined();
  });

  it('reads shards by glob in sorted order, and by list in list order', async () => {
    await temp.write('part-1.jsonl', lines({ x: [10], y: 1 }));
    await temp.write('part-0.jsonl', lines({ x: [0], y: 0 }, { x: [1], y: 0 }));
    const ds = await jsonlReader.read({ path: temp.path('part-*.jsonl'), featureField: 'x', labelField: 'y' });
    expect(Array.from(ds.features)).toEqual([0, 1, 10]);
    const listed = await jsonlReader.read({ path: [temp.path('part-1.jsonl'), temp.path('part-0.jsonl')], featureField: 'x', labelField: 'y' });
    expect(Array.from(listed.features)).toEqual([10, 0, 1]);
  });

  it('names file and line of a record without the label, invalid JSON or a wrong-length feature array', async () => {
    const path = await temp.write('bad.jsonl', lines({ x: [1, 2], y: 0 }, { x: [1, 2] }));
    await expectDataError(() => jsonlReader.read({ path, featureField: 'x', labelField: 'y' }), 'DTRAIN_DATA_FIELD', `${path}: line 2: no label field "y"`);
    const broken = await temp.write('broken.jsonl', lines({ x: [1], y: 0 }, '{"x": [1], "y": 0'));
    await expectDataError(() => jsonlReader.read({ path: broken, featureField: 'x', labelField: 'y' }), 'DTRAIN_DATA_JSON', new RegExp(`^${broken}: line 2: not valid JSON \\(`));
    const array = await temp.write('array.jsonl', lines([1, 2, 3]));
    await expectDataError(() => jsonlReader.read({ path: array, featureField: 'x', labelField: 'y' }), 'DTRAIN_DATA_JSON', `${array}: line 1: expected a JSON object per line, found an array`);
    const short = await temp.write('short.jsonl', lines({ x: [1, 2], y: 0 }, '', { x: [1], y: 1 }));
    await expectDataError(
      () => jsonlReader.read({ path: short, featureField: 'x', labelField: 'y' }),
      'DTRAIN_DATA_SHAPE',
      `${short}: line 3: "x" has 1 values but ${short}: line 1 has 2; every record must have the same number of features`,
    );
  });

  it('names the field of a value of the wrong type, and an out-of-range class', async () => {
    const path = await temp.write('types.jsonl', lines({ x: [1, 'two'], y: 0 }));
    await expectDataError(() => jsonlReader.read({ path, featureField: 'x', labelField: 'y' }), 'DTRAIN_DATA_FIELD', `${path}: line 1: "x"[1]: expected a finite number, found "two"`);
    const scalar = await temp.write('scalar.jsonl', lines({ a: 1, y: 0 }, { a: null, y: 0 }));
    await expectDataError(() => jsonlReader.read({ path: scalar, featureFields: ['a'], labelField: 'y' }), 'DTRAIN_DATA_FIELD', `${scalar}: line 2: "a": expected a finite number, found null`);
    const proto = await temp.write('proto.jsonl', lines({ x: [1] }));
    await expectDataError(() => jsonlReader.read({ path: proto, featureField: 'x', labelField: 'constructor' }), 'DTRAIN_DATA_FIELD', `${proto}: line 1: no label field "constructor"`);
    const classes = await temp.write('classes.jsonl', lines({ x: [1], y: 0 }, { x: [1], y: 3 }));
    await expectDataError(
      () => jsonlReader.read({ path: classes, featureField: 'x', labelField: 'y', numClasses: 3 }),
      'DTRAIN_DATA_LABEL_RANGE',
      `${classes}: line 2: "y": class label 3 is out of range for numClasses 3 (expected 0..2); expected a class id`,
    );
    const words = await temp.write('words.jsonl', lines({ x: [1], y: 'fish' }));
    await expectDataError(
      () => jsonlReader.read({ path: words, featureField: 'x', labelField: 'y', classNames: ['cat'] }),
      'DTRAIN_DATA_FIELD',
      `${words}: line 1: "y": expected one of the classNames ["cat"], found "fish"`,
    );
  });

  it('rejects bad options with DTRAIN_DATA_OPTIONS', async () => {
    const read = (options: object) => () => jsonlReader.read(options as never);
    await expectDataError(read({ path: 'a.jsonl', labelField: 'y' }), 'DTRAIN_DATA_OPTIONS', 'jsonl reader: give exactly one of featureField (an array field) and featureFields (a list of numeric fields)');
    await expectDataError(read({ path: 'a.jsonl', featureField: 'x', featureFields: ['a'], labelField: 'y' }), 'DTRAIN_DATA_OPTIONS', /give exactly one of featureField/);
    await expectDataError(read({ path: 'a.jsonl', featureFields: ['a', 'y'], labelField: 'y' }), 'DTRAIN_DATA_OPTIONS', 'jsonl reader: featureFields: includes the label field "y"');
    await expectDataError(read({ path: 'a.jsonl', featureField: 'x' }), 'DTRAIN_DATA_OPTIONS', 'jsonl reader: labelField: expected a non-empty string, got nothing');
    await expectDataError(read({ path: 'a.jsonl', featureField: 'x', labelField: 'y', classNames: ['a', 'a'] }), 'DTRAIN_DATA_OPTIONS', 'jsonl reader: classNames: expected distinct names, got ["a","a"]');
  });
});
