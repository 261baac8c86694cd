import { describe, expect, it } from 'vitest';
import { csvReader } from './csv-reader.js';
import { expectDataError, useTempDir } from './test-support.testkit.js';

const temp = useTempDir();

const IRIS = [
  'sepal_length,sepal_width,petal_length,species',
  '5.1,3.5,1.4,0',
  '"4.9","3.0",1.4,0',
  '7.0,3.2,4.7,1',
  '6.3,3.3,6.0,2',
  '',
].join('\r\n');

describe('csv reader', () => {
  it('reads features in column order and labels from the named column', async () => {
    const path = await temp.write('iris.csv', IRIS);
    const ds = await csvReader.read({ path, labelColumn: 'species' });
    expect(ds.numSamples).toBe(4);
    expect(ds.featureShape).toEqual([3]);
    expect(Array.from(ds.features.subarray(3, 6))).toEqual([4.9, 3.0, 1.4].map(Math.fround));
    expect(Array.from(ds.labels)).toEqual([0, 0, 1, 2]);
    expect(ds.numClasses).toBe(3);
    expect(ds.labelEncoding).toBe('index');
  });

  it('selects feature columns by name or index, in the order given', async () => {
    const path = await temp.write('iris2.csv', IRIS);
    const ds = await csvReader.read({ path, labelColumn: 3, featureColumns: ['petal_length', 0] });
    expect(ds.featureShape).toEqual([2]);
    expect(Array.from(ds.features.subarray(0, 4))).toEqual([1.4, 5.1, 1.4, 4.9].map(Math.fround));
  });

  it('maps class names to ids', async () => {
    const path = await temp.write('names.csv', 'x,kind\n1,cat\n2, dog \n3,cat\n');
    const ds = await csvReader.read({ path, labelColumn: 'kind', classNames: ['dog', 'cat'], labelEncoding: 'onehot' });
    expect(ds.numClasses).toBe(2);
    expect(Array.from(ds.labels)).toEqual([0, 1, 1, 0, 0, 1]);
    await expectDataError(
      () => csvReader.read({ path, labelColumn: 'kind', classNames: ['dog'] }),
      'DTRAIN_DATA_CSV_CELL',
      `${path}: line 2, column 2 ("kind"): expected one of the classNames ["dog"], found "cat"`,
    );
  });

  it('names file, line and column of a non-numeric cell', async () => {
    const path = await temp.write('bad-cell.csv', 'a,b,label\n1,2,0\n3,oops,1\n');
    const error = await expectDataError(
      () => csvReader.read({ path, labelColumn: 'label' }),
      'DTRAIN_DATA_CSV_CELL',
      `${path}: line 3, column 2 ("b"): expected a number, found "oops"`,
    );
    expect(error.file).toBe(path);
    expect(error.position).toEqual({ line: 3, column: 2, columnName: 'b' });
  });

  it('names the column by number only when there is no header', async () => {
    const path = await temp.write('no-header.csv', '1,2,0\n\n3,,1\n');
    await expectDataError(
      () => csvReader.read({ path, labelColumn: 2, header: false }),
      'DTRAIN_DATA_CSV_CELL',
      `${path}: line 3, column 2: expected a number, found ""`,
    );
  });

  it('rejects labels out of range: negative, fractional, ≥ numClasses', async () => {
    const negative = await temp.write('neg.csv', 'x,y\n1,0\n2,-1\n');
    await expectDataError(
      () => csvReader.read({ path: negative, labelColumn: 'y' }),
      'DTRAIN_DATA_LABEL_RANGE',
      `${negative}: line 3, column 2 ("y"): class label -1 is negative; expected a class id`,
    );
    const fractional = await temp.write('frac.csv', 'x,y\n1,0.5\n');
    await expectDataError(
      () => csvReader.read({ path: fractional, labelColumn: 'y', labelEncoding: 'onehot' }),
      'DTRAIN_DATA_LABEL_RANGE',
      `${fractional}: line 2, column 2 ("y"): class label 0.5 is not an integer; expected a class id`,
    );
    const tooBig = await temp.write('big.csv', 'x,y\n1,0\n2,1\n3,3\n');
    await expectDataError(
      () => csvReader.read({ path: tooBig, labelColumn: 'y', numClasses: 3 }),
      'DTRAIN_DATA_LABEL_RANGE',
      `${tooBig}: line 4, column 2 ("y"): class label 3 is out of range for numClasses 3 (expected 0..2); expected a class id`,
    );
  });

  it("accepts any finite target with labelEncoding 'value'", async () => {
    const path = await temp.write('reg.csv', 'x,y\n1,-0.25\n2,1e3\n');
    const ds = await csvReader.read({ path, labelColumn: 'y', labelEncoding: 'value' });
    expect(Array.from(ds.labels)).toEqual([-0.25, 1000]);
    expect(ds.numClasses).toBeUndefined();
  });

  it('rejects a row with the wrong number of cells', async () => {
    const path = await temp.write('ragged.csv', 'a,b,c\n1,2,3\n4,5\n');
    await expectDataError(
      () => csvReader.read({ path, labelColumn: 'c' }),
      'DTRAIN_DATA_SHAPE',
      `${path}: line 3: expected 3 cells as in the header, found 2`,
    );
  });

  it('rejects column options that do not fit the file', async () => {
    const path = await temp.write('cols.csv', 'a,b\n1,0\n');
    await expectDataError(() => csvReader.read({ path, labelColumn: 'z' }), 'DTRAIN_DATA_OPTIONS', `${path}: labelColumn: no column "z"; the header has ["a","b"]`);
    await expectDataError(() => csvReader.read({ path, labelColumn: 5 }), 'DTRAIN_DATA_OPTIONS', /labelColumn: column index 5 is past the last column \(the file has 2, indices 0\.\.1\)$/);
    await expectDataError(() => csvReader.read({ path, labelColumn: 'b', header: false }), 'DTRAIN_DATA_OPTIONS', /column "b" is named but header is false/);
    await expectDataError(() => csvReader.read({ path, labelColumn: 'b', featureColumns: ['a', 'b'] }), 'DTRAIN_DATA_OPTIONS', /featureColumns includes the label column 2/);
    await expectDataError(() => csvReader.read({ path, labelColumn: 'b', labelEncoding: 'value', numClasses: 2 }), 'DTRAIN_DATA_OPTIONS', /numClasses and classNames apply to 'index'\/'onehot' labels/);
  });

  it('reads a header-only file as empty when numClasses is given', async () => {
    const path = await temp.write('empty.csv', 'a,b\n');
    const ds = await csvReader.read({ path, labelColumn: 'b', numClasses: 2 });
    expect(ds.numSamples).toBe(0);
    expect(ds.featureShape).toEqual([1]);
    await expectDataError(() => csvReader.read({ path, labelColumn: 'b' }), 'DTRAIN_DATA_OPTIONS', `${path}: no samples to infer numClasses from; set numClasses`);
  });

  it('reads sharded files as one dataset, each with its own header', async () => {
    await temp.write('part-b.csv', 'y,x\n1,3\n');
    await temp.write('part-a.csv', 'x,y\n1,0\n2,0\n', true);
    const ds = await csvReader.read({ path: temp.path('part-*.csv'), labelColumn: 'y' });
    expect(Array.from(ds.features)).toEqual([1, 2, 3]);
    expect(Array.from(ds.labels)).toEqual([0, 0, 1]);
    expect(ds.source).toBe(`${temp.path('part-a.csv')} (+1 more shards)`);
    const listed = await csvReader.read({ path: [temp.path('part-b.csv'), temp.path('part-a.csv')], labelColumn: 'y' });
    expect(Array.from(listed.features)).toEqual([3, 1, 2]);
  });

  it('rejects a shard with a different number of feature columns, naming it', async () => {
    const wide = await temp.write('wide.csv', 'x,z,y\n1,2,0\n');
    await expectDataError(
      () => csvReader.read({ path: [temp.path('part-a.csv'), wide], labelColumn: 'y' }),
      'DTRAIN_DATA_SHAPE',
      `${wide}: line 1: has 2 feature columns but ${temp.path('part-a.csv')} has 1; every shard must share one sample shape`,
    );
    const none = temp.path('nothing-*.csv');
    await expectDataError(() => csvReader.read({ path: none, labelColumn: 'y' }), 'DTRAIN_DATA_NOT_FOUND', `${none}: no files match this pattern`);
  });
});
