import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, test } from 'vitest';
import { parseDatasetConfig } from './dataset-config.js';
import { configError } from './config-error.testkit.js';

const dir = mkdtempSync(join(tmpdir(), 'dtrain-dataset-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Only existence is checked here; the data package reads the contents later.
mkdirSync(join(dir, 'data'));
for (const file of ['images.gz', 'labels.gz', 'test-images.gz', 'test-labels.gz', 'table.csv']) writeFileSync(join(dir, 'data', file), '');
const abs = (path: string) => join(dir, path);

const CLASSIFICATION = { configDir: dir, regression: false };
const REGRESSION = { configDir: dir, regression: true };

const IDX = { format: 'idx', images: 'data/images.gz', labels: 'data/labels.gz' };
const CSV = { format: 'csv', path: 'data/table.csv', labelColumn: 'label' };
const SYNTHETIC = { format: 'synthetic', numSamples: 100, featureShape: [4] };

describe('dataset sources', () => {
  it('reads idx with its defaults, and a test source with paths resolved', () => {
    const config = parseDatasetConfig(
      { ...IDX, featureShape: [28, 28, 1], test: { format: 'idx', images: 'data/test-images.gz', labels: abs('data/test-labels.gz') } },
      CLASSIFICATION,
    );
    expect(config).toStrictEqual({
      source: { format: 'idx', images: abs('data/images.gz'), labels: abs('data/labels.gz'), labelEncoding: 'index' },
      featureShape: [28, 28, 1],
      validationSplit: 0.1,
      test: { format: 'idx', images: abs('data/test-images.gz'), labels: abs('data/test-labels.gz'), labelEncoding: 'index' },
      normalisation: { kind: 'none' },
      chunkSize: 1024,
      access: 'auto',
      cacheBytes: 1024 ** 3,
      maxBadSamples: 0,
    });
  });

  it('reads how workers get their samples', () => {
    const config = parseDatasetConfig({ ...IDX, access: 'shared', cacheBytes: 0, maxBadSamples: 5 }, CLASSIFICATION);
    expect([config.access, config.cacheBytes, config.maxBadSamples]).toStrictEqual(['shared', 0, 5]);
  });

  it('reads idx with every key given', () => {
    const config = parseDatasetConfig({ ...IDX, labelEncoding: 'onehot', numClasses: 10, validationSplit: 0, chunkSize: 256 }, CLASSIFICATION);
    expect(config.source).toStrictEqual({
      format: 'idx',
      images: abs('data/images.gz'),
      labels: abs('data/labels.gz'),
      labelEncoding: 'onehot',
      numClasses: 10,
    });
    expect([config.validationSplit, config.chunkSize]).toStrictEqual([0, 256]);
  });

  test.each([
    { context: CLASSIFICATION, encoding: 'index' },
    { context: REGRESSION, encoding: 'value' },
  ])('csv labels default to "$encoding" when regression is $context.regression', ({ context, encoding }) => {
    expect(parseDatasetConfig(CSV, context).source).toStrictEqual({
      format: 'csv',
      path: abs('data/table.csv'),
      labelColumn: 'label',
      header: true,
      labelEncoding: encoding,
    });
  });

  it('reads csv with every key given', () => {
    const raw = { ...CSV, labelColumn: 0, header: false, labelEncoding: 'onehot', numClasses: 3, featureColumns: [1, 2, 4] };
    expect(parseDatasetConfig(raw, CLASSIFICATION).source).toStrictEqual({
      format: 'csv',
      path: abs('data/table.csv'),
      labelColumn: 0,
      header: false,
      labelEncoding: 'onehot',
      numClasses: 3,
      featureColumns: [1, 2, 4],
    });
  });

  it('reads csv class names', () => {
    expect(parseDatasetConfig({ ...CSV, classNames: ['setosa', 'versicolor'] }, CLASSIFICATION).source).toMatchObject({
      labelEncoding: 'index',
      classNames: ['setosa', 'versicolor'],
    });
  });

  it('reads synthetic: featureShape is the generated shape, not a reshape', () => {
    const config = parseDatasetConfig({ ...SYNTHETIC, numClasses: 3, seed: -7, noise: 0.5 }, CLASSIFICATION);
    expect(config.source).toStrictEqual({
      format: 'synthetic',
      numSamples: 100,
      featureShape: [4],
      numClasses: 3,
      labelEncoding: 'index',
      seed: -7,
      noise: 0.5,
      firstSample: 0,
    });
    expect(config).not.toHaveProperty('featureShape');
  });

  it('reads synthetic regression with its defaults', () => {
    expect(parseDatasetConfig(SYNTHETIC, REGRESSION).source).toStrictEqual({
      format: 'synthetic',
      numSamples: 100,
      featureShape: [4],
      seed: 42,
      noise: 0.1,
      firstSample: 0,
    });
  });

  test.each([
    // Same seed: the test samples follow the training ones in the seed's stream.
    { train: { firstSample: 5 }, test: {}, firstSample: 105 },
    { train: { seed: 7 }, test: { seed: 7 }, firstSample: 100 },
    // Another seed is another task and stream: nothing to skip.
    { train: {}, test: { seed: 7 }, firstSample: 0 },
    // Given explicitly: kept.
    { train: {}, test: { firstSample: 3 }, firstSample: 3 },
  ])('a synthetic test source after training $train with $test starts at sample $firstSample', ({ train, test, firstSample }) => {
    const config = parseDatasetConfig({ ...SYNTHETIC, ...train, test: { ...SYNTHETIC, numSamples: 20, ...test } }, REGRESSION);
    expect(config.test).toMatchObject({ format: 'synthetic', numSamples: 20, firstSample });
  });
});

describe('dataset.normalise', () => {
  test.each([
    { raw: { normalise: 'none' }, expected: { kind: 'none' } },
    { raw: { normalise: 'scale' }, expected: { kind: 'scale' } },
    { raw: { normalise: { kind: 'scale', scale: 255 } }, expected: { kind: 'scale', scale: 255 } },
    { raw: { normalise: { kind: 'scale' } }, expected: { kind: 'scale' } },
    { raw: { normalise: 'standardize' }, expected: { kind: 'standardize' } },
    { raw: { normalise: 'standardise' }, expected: { kind: 'standardize' } },
    { raw: { normalize: { kind: 'standardise' } }, expected: { kind: 'standardize' } },
    { raw: { normalize: 'scale' }, expected: { kind: 'scale' } },
    { raw: { normalise: null }, expected: { kind: 'none' } },
  ])('$raw → $expected', ({ raw, expected }) => {
    expect(parseDatasetConfig({ ...SYNTHETIC, ...raw }, CLASSIFICATION).normalisation).toStrictEqual(expected);
  });
});

describe('dataset errors', () => {
  test.each([
    // the section and its format
    { raw: 'mnist', field: 'dataset', message: 'dataset: expected an object, got "mnist"' },
    { raw: { images: 'data/images.gz' }, field: 'dataset.format', message: 'dataset.format: required (one of "idx", "csv", "jsonl", "npy", "images", "synthetic")' },
    { raw: { fromat: 'idx' }, field: 'dataset.fromat', message: 'dataset.fromat: unknown key (did you mean "format"?)' },
    { raw: { ...CSV, format: 'cvs' }, field: 'dataset.format', message: 'dataset.format: expected one of "idx", "csv", "jsonl", "npy", "images", "synthetic", got "cvs" (did you mean "csv"?)' },
    { raw: { ...IDX, format: 3 }, field: 'dataset.format', message: 'dataset.format: expected one of "idx", "csv", "jsonl", "npy", "images", "synthetic", got 3' },
    // idx
    { raw: { ...IDX, images: undefined }, field: 'dataset.images', message: 'dataset.images: required' },
    { raw: { ...IDX, images: 'data/missing.gz' }, field: 'dataset.images', message: `dataset.images: file not found: ${abs('data/missing.gz')}` },
    { raw: { ...IDX, labels: 'data' }, field: 'dataset.labels', message: `dataset.labels: not a file: ${abs('data')}` },
    { raw: { ...IDX, labels: 3 }, field: 'dataset.labels', message: 'dataset.labels: expected a path, a glob or a non-empty list of paths, got 3' },
    { raw: { ...IDX, image: 'x' }, field: 'dataset.image', message: 'dataset.image: unknown key (did you mean "images"?)' },
    {
      raw: { ...IDX, path: 'data/table.csv' },
      field: 'dataset.path',
      message: 'dataset.path: not used by format "idx" (it reads images, labels, labelEncoding, numClasses)',
    },
    {
      raw: { ...IDX, labelEncoding: 'value' },
      field: 'dataset.labelEncoding',
      message: 'dataset.labelEncoding: expected one of "index", "onehot", got "value"',
    },
    { raw: { ...IDX, numClasses: 0 }, field: 'dataset.numClasses', message: 'dataset.numClasses: expected a positive integer, got 0' },
    // csv
    { raw: { ...CSV, labelColumn: undefined }, field: 'dataset.labelColumn', message: 'dataset.labelColumn: required' },
    {
      raw: { ...CSV, labelColumn: -1 },
      field: 'dataset.labelColumn',
      message: 'dataset.labelColumn: expected a column name or a 0-based column index, got -1',
    },
    {
      raw: { ...CSV, header: false },
      field: 'dataset.labelColumn',
      message: 'dataset.labelColumn: column name "label" needs header: true (or give a 0-based column index)',
    },
    { raw: { ...CSV, header: 'yes' }, field: 'dataset.header', message: 'dataset.header: expected true or false, got "yes"' },
    {
      raw: { ...CSV, labelEncoding: 'value', numClasses: 2 },
      field: 'dataset.numClasses',
      message: 'dataset.numClasses: not used with labelEncoding "value" (regression targets have no classes)',
    },
    {
      raw: { ...CSV, labelEncoding: 'value', classNames: ['a'] },
      field: 'dataset.classNames',
      message: 'dataset.classNames: not used with labelEncoding "value" (regression targets have no classes)',
    },
    { raw: { ...CSV, classNames: 'setosa' }, field: 'dataset.classNames', message: 'dataset.classNames: expected a non-empty array of class names, got "setosa"' },
    { raw: { ...CSV, classNames: ['a', 'b', 'a'] }, field: 'dataset.classNames[2]', message: 'dataset.classNames[2]: duplicate class name "a"' },
    { raw: { ...CSV, classNames: ['a', 2] }, field: 'dataset.classNames[1]', message: 'dataset.classNames[1]: expected a non-empty string, got 2' },
    {
      raw: { ...SYNTHETIC, classNames: ['a'] },
      field: 'dataset.classNames',
      message: 'dataset.classNames: not used by format "synthetic" (it reads numSamples, featureShape, numClasses, labelEncoding, seed, noise, firstSample)',
    },
    {
      raw: { ...CSV, featureColumns: 'a' },
      field: 'dataset.featureColumns',
      message: 'dataset.featureColumns: expected a non-empty array of column names or 0-based column indices, got "a"',
    },
    { raw: { ...CSV, featureColumns: ['a', 'label'] }, field: 'dataset.featureColumns[1]', message: 'dataset.featureColumns[1]: "label" is the label column' },
    {
      raw: { ...CSV, featureColumns: ['a', 1.5] },
      field: 'dataset.featureColumns[1]',
      message: 'dataset.featureColumns[1]: expected a column name or a 0-based column index, got 1.5',
    },
    // synthetic
    { raw: { ...SYNTHETIC, numSamples: undefined }, field: 'dataset.numSamples', message: 'dataset.numSamples: required' },
    { raw: { ...SYNTHETIC, featureShape: undefined }, field: 'dataset.featureShape', message: 'dataset.featureShape: required' },
    { raw: { ...SYNTHETIC, noise: -0.1 }, field: 'dataset.noise', message: 'dataset.noise: expected a non-negative number, got -0.1' },
    { raw: { ...SYNTHETIC, seed: 1.5 }, field: 'dataset.seed', message: 'dataset.seed: expected an integer, got 1.5' },
    { raw: { ...SYNTHETIC, numSamples: '100' }, field: 'dataset.numSamples', message: 'dataset.numSamples: expected a positive integer, got "100"' },
    { raw: { ...SYNTHETIC, numClasses: 1 }, field: 'dataset.numClasses', message: 'dataset.numClasses: expected an integer >= 2, got 1' },
    {
      raw: { ...SYNTHETIC, labelEncoding: 'onehot' },
      field: 'dataset.labelEncoding',
      message: 'dataset.labelEncoding: needs numClasses (without it, synthetic targets are regression values)',
    },
    { raw: { ...SYNTHETIC, firstSample: -1 }, field: 'dataset.firstSample', message: 'dataset.firstSample: expected a non-negative integer, got -1' },
    // what to do with the data
    { raw: { ...IDX, featureShape: [] }, field: 'dataset.featureShape', message: 'dataset.featureShape: expected a non-empty array of positive integers, got an empty array' },
    { raw: { ...IDX, featureShape: 784 }, field: 'dataset.featureShape', message: 'dataset.featureShape: expected a non-empty array of positive integers, got 784' },
    { raw: { ...IDX, featureShape: [28, -28] }, field: 'dataset.featureShape[1]', message: 'dataset.featureShape[1]: expected a positive integer, got -28' },
    { raw: { ...IDX, validationSplit: 1 }, field: 'dataset.validationSplit', message: 'dataset.validationSplit: expected a number in [0, 1), got 1' },
    { raw: { ...IDX, validationSplit: -0.1 }, field: 'dataset.validationSplit', message: 'dataset.validationSplit: expected a number in [0, 1), got -0.1' },
    { raw: { ...IDX, chunkSize: 1.5 }, field: 'dataset.chunkSize', message: 'dataset.chunkSize: expected a positive integer, got 1.5' },
    { raw: { ...IDX, access: 'shard' }, field: 'dataset.access', message: 'dataset.access: expected one of "ship", "shared", "auto", got "shard" (did you mean "shared"?)' },
    { raw: { ...IDX, cacheBytes: -1 }, field: 'dataset.cacheBytes', message: 'dataset.cacheBytes: expected a non-negative integer, got -1' },
    { raw: { ...IDX, maxBadSamples: 0.5 }, field: 'dataset.maxBadSamples', message: 'dataset.maxBadSamples: expected a non-negative integer, got 0.5' },
    { raw: { ...IDX, validationSpilt: 0.2 }, field: 'dataset.validationSpilt', message: 'dataset.validationSpilt: unknown key (did you mean "validationSplit"?)' },
    // normalise
    {
      raw: { ...IDX, normalise: 'minmax' },
      field: 'dataset.normalise',
      message: 'dataset.normalise: expected one of "none", "scale", "standardize", got "minmax"',
    },
    {
      raw: { ...IDX, normalise: 'standardse' },
      field: 'dataset.normalise',
      message: 'dataset.normalise: expected one of "none", "scale", "standardize", got "standardse" (did you mean "standardize"?)',
    },
    {
      raw: { ...IDX, normalise: 255 },
      field: 'dataset.normalise',
      message: 'dataset.normalise: expected one of "none", "scale", "standardize" or { kind, scale }, got 255',
    },
    { raw: { ...IDX, normalise: { scale: 255 } }, field: 'dataset.normalise.kind', message: 'dataset.normalise.kind: required' },
    { raw: { ...IDX, normalize: { kind: 'scale', scale: 0 } }, field: 'dataset.normalize.scale', message: 'dataset.normalize.scale: expected a positive number, got 0' },
    {
      raw: { ...IDX, normalise: { kind: 'standardize', scale: 255 } },
      field: 'dataset.normalise.scale',
      message: 'dataset.normalise.scale: only used with kind "scale", not "standardize"',
    },
    { raw: { ...IDX, normalise: { kind: 'scale', scael: 255 } }, field: 'dataset.normalise.scael', message: 'dataset.normalise.scael: unknown key (did you mean "scale"?)' },
    {
      raw: { ...IDX, normalise: 'scale', normalize: 'scale' },
      field: 'dataset.normalize',
      message: 'dataset.normalize: duplicate of "normalise": give only one of the two spellings',
    },
    { raw: { ...IDX, normalisation: 'scale' }, field: 'dataset.normalisation', message: 'dataset.normalisation: unknown key (did you mean "normalise"?)' },
    // the test source
    { raw: { ...IDX, test: 'data/test.csv' }, field: 'dataset.test', message: 'dataset.test: expected an object, got "data/test.csv"' },
    { raw: { ...IDX, test: { images: 'data/test-images.gz' } }, field: 'dataset.test.format', message: 'dataset.test.format: required (one of "idx", "csv", "jsonl", "npy", "images", "synthetic")' },
    {
      raw: { ...IDX, test: { ...IDX, images: 'data/test-missing.gz' } },
      field: 'dataset.test.images',
      message: `dataset.test.images: file not found: ${abs('data/test-missing.gz')}`,
    },
    {
      raw: { ...IDX, test: { ...IDX, validationSplit: 0.5 } },
      field: 'dataset.test.validationSplit',
      message: 'dataset.test.validationSplit: unknown key (expected one of: format, images, labels, labelEncoding, numClasses)',
    },
  ])('$message', ({ raw, field, message }) => {
    const input: unknown = typeof raw === 'object' ? JSON.parse(JSON.stringify(raw)) : raw; // drops the undefined keys
    expect(configError(() => parseDatasetConfig(input, CLASSIFICATION))).toMatchObject({ code: 'DTRAIN_CONFIG_INVALID', field, message });
  });
});
