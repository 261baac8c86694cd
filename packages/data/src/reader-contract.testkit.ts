import { beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { DataError } from './data-error.js';
import type { Dataset, LabelEncoding } from './dataset.js';
import type { DatasetReader } from './reader-registry.js';

/** What a reader must produce for one input, and inputs it must reject. */
export interface ReaderFixture<Options> {
  readonly reader: DatasetReader<Options>;
  /** Valid options. */
  readonly options: Options;
  readonly expected: {
    readonly numSamples: number;
    readonly featureShape: readonly number[];
    readonly labelEncoding: LabelEncoding;
    readonly numClasses: number | undefined;
    /** Raw label per sample (class id or target value) when the fixture knows them. */
    readonly rawLabels?: ArrayLike<number>;
    /** Features when the fixture knows them. */
    readonly features?: ArrayLike<number>;
  };
  /** Options naming a file that does not exist; leave out for readers that read no files. */
  readonly missingFile?: Options;
  /** The file `missingFile` names, expected in the error. */
  readonly missingPath?: string;
  /** Options the reader must reject with DTRAIN_DATA_OPTIONS. */
  readonly invalidOptions: unknown;
  /** Printed when a test fails, e.g. the random seed that built the fixture. */
  readonly describe?: string;
}

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * The behaviour every dataset reader owes its callers. Run it once per reader
 * and input variant: `describeReaderContract('idx (gzip, onehot)', async () => fixture)`.
 * `makeFixture` runs once, before the tests (it may write files).
 */
export function describeReaderContract<Options>(name: string, makeFixture: () => Promise<ReaderFixture<Options>>): void {
  describe(`reader contract: ${name}`, () => {
    let fixture: ReaderFixture<Options>;
    let ds: Dataset;
    beforeAll(async () => {
      fixture = await makeFixture();
      ds = await fixture.reader.read(fixture.options);
    });
    const note = (): void => {
      onTestFailed(() => {
        if (fixture.describe !== undefined) console.error(`fixture: ${fixture.describe}`);
      });
    };

    it('reports the expected sample count and shapes', () => {
      note();
      const { expected } = fixture;
      expect(ds.numSamples).toBe(expected.numSamples);
      expect([...ds.featureShape]).toEqual([...expected.featureShape]);
      expect(ds.labelEncoding).toBe(expected.labelEncoding);
      expect(ds.numClasses).toBe(expected.numClasses);
      const labelShape = expected.labelEncoding === 'onehot' ? [expected.numClasses] : [1];
      expect([...ds.labelShape]).toEqual(labelShape);
      expect(ds.features).toBeInstanceOf(Float32Array);
      expect(ds.labels).toBeInstanceOf(Float32Array);
      expect(ds.features.length).toBe(ds.numSamples * product(ds.featureShape));
      expect(ds.labels.length).toBe(ds.numSamples * product(ds.labelShape));
      expect(typeof ds.source).toBe('string');
      expect(ds.source.length).toBeGreaterThan(0);
    });

    it('produces finite features, equal to the input where known', () => {
      note();
      expect(ds.features.every(Number.isFinite)).toBe(true);
      const known = fixture.expected.features;
      if (known !== undefined) expect(Array.from(ds.features)).toEqual(Array.from(known, Math.fround));
    });

    it('encodes labels as its labelEncoding says', () => {
      note();
      const raw = fixture.expected.rawLabels;
      const numClasses = ds.numClasses;
      for (let i = 0; i < ds.numSamples; i++) {
        let value: number;
        if (ds.labelEncoding === 'onehot') {
          const row = Array.from(ds.labels.subarray(i * (numClasses as number), (i + 1) * (numClasses as number)));
          expect(row.filter((v) => v === 1)).toHaveLength(1);
          expect(row.filter((v) => v === 0)).toHaveLength((numClasses as number) - 1);
          value = row.indexOf(1);
        } else {
          value = ds.labels[i] as number;
          expect(Number.isFinite(value)).toBe(true);
        }
        if (ds.labelEncoding !== 'value') {
          expect(Number.isInteger(value)).toBe(true);
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThan(numClasses as number);
        }
        if (raw !== undefined) expect(value, `label of sample ${i}`).toBe(Math.fround(raw[i] as number));
      }
      if (ds.labelEncoding === 'value') expect(numClasses).toBeUndefined();
    });

    it('is deterministic: reading twice gives equal datasets', async () => {
      note();
      const again = await fixture.reader.read(fixture.options);
      expect(again).not.toBe(ds);
      expect(again.numSamples).toBe(ds.numSamples);
      expect(Buffer.from(again.features.buffer, again.features.byteOffset, again.features.byteLength).equals(
        Buffer.from(ds.features.buffer, ds.features.byteOffset, ds.features.byteLength),
      )).toBe(true);
      expect(Array.from(again.labels)).toEqual(Array.from(ds.labels));
      expect(again.featureShape).toEqual(ds.featureShape);
    });

    it('rejects a missing file with DTRAIN_DATA_NOT_FOUND naming it, or reads no files', async () => {
      note();
      if (fixture.missingFile === undefined) {
        // A reader that reads no files must not need any: reading works without a file system path.
        expect(JSON.stringify(fixture.options)).not.toMatch(/"(path|images|labels)"/);
        return;
      }
      const error = await fixture.reader.read(fixture.missingFile).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DataError);
      expect((error as DataError).code).toBe('DTRAIN_DATA_NOT_FOUND');
      expect((error as DataError).file).toBe(fixture.missingPath);
      expect((error as DataError).message).toBe(`${fixture.missingPath}: file not found`);
    });

    it('rejects invalid options through the promise with DTRAIN_DATA_OPTIONS', async () => {
      note();
      let promise: Promise<Dataset> | undefined;
      expect(() => {
        promise = fixture.reader.read(fixture.invalidOptions as Options);
      }, 'read() must not throw synchronously').not.toThrow();
      const error = await (promise as Promise<Dataset>).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DataError);
      expect((error as DataError).code).toBe('DTRAIN_DATA_OPTIONS');
      expect((error as DataError).message).not.toContain('\n');
    });
  });
}
