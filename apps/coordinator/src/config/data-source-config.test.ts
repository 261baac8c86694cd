import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, test } from 'vitest';
import { configError } from './config-error.testkit.js';
import { parseDatasetConfig } from './dataset-config.js';

/* The source formats beyond idx/csv/synthetic, and sharded paths (globs and lists) for all. */

const dir = mkdtempSync(join(tmpdir(), 'dtrain-source-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Only existence is checked here; the data package reads the contents later.
for (const folder of ['shards', 'photos/cat', 'photos/dog']) mkdirSync(join(dir, folder), { recursive: true });
const FILES = ['shards/train-0.csv', 'shards/train-1.csv', 'shards/x-0.npy', 'shards/x-1.npy', 'shards/y-0.npy', 'shards/y-1.npy', 'rows.jsonl', 'images-0.idx', 'labels-0.idx'];
for (const file of FILES) writeFileSync(join(dir, file), '');
const abs = (path: string) => join(dir, path);

const CLASSIFICATION = { configDir: dir, regression: false };
const REGRESSION = { configDir: dir, regression: true };

const JSONL = { format: 'jsonl', path: 'rows.jsonl', featureField: 'x', labelField: 'y' };
const NPY = { format: 'npy', features: 'shards/x-*.npy', labels: 'shards/y-*.npy' };
const IMAGES = { format: 'images', path: 'photos' };

describe('sharded paths', () => {
  it('keeps a glob as an absolute pattern and a list as absolute paths, in its order', () => {
    expect(parseDatasetConfig({ format: 'csv', path: 'shards/train-*.csv', labelColumn: 'y' }, CLASSIFICATION).source).toMatchObject({ path: abs('shards/train-*.csv') });
    const idx = parseDatasetConfig({ format: 'idx', images: ['images-0.idx', abs('shards/train-1.csv')], labels: ['labels-0.idx', 'shards/train-0.csv'] }, CLASSIFICATION);
    expect(idx.source).toMatchObject({ images: [abs('images-0.idx'), abs('shards/train-1.csv')], labels: [abs('labels-0.idx'), abs('shards/train-0.csv')] });
  });

  it('keeps http(s) URLs as written, one per shard', () => {
    const urls = ['https://data.example.com/x-0.npy', 'http://127.0.0.1:8080/x-1.npy?v=2'];
    const npy = parseDatasetConfig({ format: 'npy', features: urls, labels: 'https://data.example.com/y.npy' }, CLASSIFICATION);
    expect(npy.source).toMatchObject({ features: urls, labels: 'https://data.example.com/y.npy' });
  });

  test.each([
    { raw: { format: 'csv', path: 'shards/test-*.csv', labelColumn: 'y' }, field: 'dataset.path', message: `dataset.path: no files match ${abs('shards/test-*.csv')}` },
    { raw: { format: 'idx', images: ['images-0.idx', 'images-9.idx'], labels: 'labels-0.idx' }, field: 'dataset.images[1]', message: `dataset.images[1]: file not found: ${abs('images-9.idx')}` },
    { raw: { format: 'idx', images: [], labels: 'labels-0.idx' }, field: 'dataset.images', message: 'dataset.images: expected a non-empty array of paths or globs, got an empty array' },
    { raw: { format: 'idx', images: ['images-0.idx', 7], labels: 'labels-0.idx' }, field: 'dataset.images[1]', message: 'dataset.images[1]: expected a non-empty string, got 7' },
    { raw: { format: 'npy', features: 'https://data.example.com/x-*.npy', labels: 'y.npy' }, field: 'dataset.features', message: 'dataset.features: https://data.example.com/x-*.npy: a URL cannot be a glob; list one URL per shard' },
    { raw: { format: 'csv', path: { glob: '*.csv' }, labelColumn: 'y' }, field: 'dataset.path', message: 'dataset.path: expected a path, a glob or a non-empty list of paths, got an object' },
  ])('$message', ({ raw, field, message }) => {
    expect(configError(() => parseDatasetConfig(raw, CLASSIFICATION))).toMatchObject({ code: 'DTRAIN_CONFIG_INVALID', field, message });
  });
});

describe('jsonl, npy and images sources', () => {
  it('reads jsonl with its defaults, labels as values for a regression loss', () => {
    expect(parseDatasetConfig(JSONL, CLASSIFICATION).source).toStrictEqual({ format: 'jsonl', path: abs('rows.jsonl'), featureField: 'x', labelField: 'y', labelEncoding: 'index' });
    expect(parseDatasetConfig(JSONL, REGRESSION).source).toMatchObject({ labelEncoding: 'value' });
  });

  it('reads jsonl with every key given', () => {
    const raw = { format: 'jsonl', path: ['rows.jsonl'], featureFields: ['a', 'b'], labelField: 'kind', labelEncoding: 'onehot', numClasses: 3, classNames: ['x', 'y', 'z'] };
    expect(parseDatasetConfig(raw, CLASSIFICATION).source).toStrictEqual({ ...raw, path: [abs('rows.jsonl')] });
  });

  it('reads npy, with dataset.featureShape as a reshape', () => {
    const config = parseDatasetConfig({ ...NPY, numClasses: 10, featureShape: [784] }, CLASSIFICATION);
    expect(config.source).toStrictEqual({ format: 'npy', features: abs('shards/x-*.npy'), labels: abs('shards/y-*.npy'), labelEncoding: 'index', numClasses: 10 });
    expect(config.featureShape).toEqual([784]);
  });

  it('reads images: featureShape is the size to resize to, and the test source inherits it', () => {
    const config = parseDatasetConfig({ ...IMAGES, featureShape: [8, 8, 1], classNames: ['dog', 'cat'], labelEncoding: 'onehot', test: IMAGES }, CLASSIFICATION);
    expect(config.source).toStrictEqual({ format: 'images', path: abs('photos'), featureShape: [8, 8, 1], classNames: ['dog', 'cat'], labelEncoding: 'onehot' });
    expect(config).not.toHaveProperty('featureShape');
    expect(config.test).toStrictEqual({ format: 'images', path: abs('photos'), featureShape: [8, 8, 1], labelEncoding: 'index' });
    expect(parseDatasetConfig(IMAGES, CLASSIFICATION).source).toStrictEqual({ format: 'images', path: abs('photos'), labelEncoding: 'index' });
  });

  test.each([
    // jsonl
    { raw: { ...JSONL, labelField: undefined }, field: 'dataset.labelField', message: 'dataset.labelField: required' },
    { raw: { ...JSONL, featureField: undefined }, field: 'dataset.featureField', message: 'dataset.featureField: required (or featureFields: a list of numeric fields)' },
    { raw: { ...JSONL, featureFields: ['a'] }, field: 'dataset.featureFields', message: 'dataset.featureFields: give featureField or featureFields, not both' },
    { raw: { ...JSONL, featureField: 'y' }, field: 'dataset.featureField', message: 'dataset.featureField: "y" is the label field' },
    { raw: { ...JSONL, featureField: undefined, featureFields: ['a', 'y'] }, field: 'dataset.featureFields[1]', message: 'dataset.featureFields[1]: "y" is the label field' },
    { raw: { ...JSONL, featureField: undefined, featureFields: 'a' }, field: 'dataset.featureFields', message: 'dataset.featureFields: expected a non-empty array of field names, got "a"' },
    { raw: { ...JSONL, featureField: 3 }, field: 'dataset.featureField', message: 'dataset.featureField: expected a non-empty string, got 3' },
    { raw: { ...JSONL, labelEncoding: 'value', classNames: ['a'] }, field: 'dataset.classNames', message: 'dataset.classNames: not used with labelEncoding "value" (regression targets have no classes)' },
    { raw: { ...JSONL, path: 'missing.jsonl' }, field: 'dataset.path', message: `dataset.path: file not found: ${abs('missing.jsonl')}` },
    { raw: { ...JSONL, labelColumn: 'y' }, field: 'dataset.labelColumn', message: 'dataset.labelColumn: not used by format "jsonl" (it reads path, featureField, featureFields, labelField, labelEncoding, numClasses, classNames)' },
    { raw: { ...JSONL, labelFeild: 'y' }, field: 'dataset.labelFeild', message: 'dataset.labelFeild: unknown key (did you mean "labelField"?)' },
    // npy
    { raw: { ...NPY, labels: undefined }, field: 'dataset.labels', message: 'dataset.labels: required' },
    { raw: { ...NPY, features: 'shards/z-*.npy' }, field: 'dataset.features', message: `dataset.features: no files match ${abs('shards/z-*.npy')}` },
    { raw: { ...NPY, labelEncoding: 'value', numClasses: 3 }, field: 'dataset.numClasses', message: 'dataset.numClasses: not used with labelEncoding "value" (regression targets have no classes)' },
    { raw: { ...NPY, labelEncoding: 'ordinal' }, field: 'dataset.labelEncoding', message: 'dataset.labelEncoding: expected one of "index", "onehot", "value", got "ordinal"' },
    // images
    { raw: { ...IMAGES, path: 'rows.jsonl' }, field: 'dataset.path', message: `dataset.path: not a folder: ${abs('rows.jsonl')}` },
    { raw: { ...IMAGES, path: 'pictures' }, field: 'dataset.path', message: `dataset.path: folder not found: ${abs('pictures')}` },
    { raw: { ...IMAGES, featureShape: [8, 8] }, field: 'dataset.featureShape', message: 'dataset.featureShape: expected [height, width, channels] with channels 1 (grayscale) or 3 (RGB), got [8, 8]' },
    { raw: { ...IMAGES, featureShape: [8, 8, 4] }, field: 'dataset.featureShape', message: 'dataset.featureShape: expected [height, width, channels] with channels 1 (grayscale) or 3 (RGB), got [8, 8, 4]' },
    { raw: { ...IMAGES, labelEncoding: 'value' }, field: 'dataset.labelEncoding', message: 'dataset.labelEncoding: expected one of "index", "onehot", got "value"' },
    { raw: { ...IMAGES, numClasses: 2 }, field: 'dataset.numClasses', message: 'dataset.numClasses: not used by format "images" (it reads path, featureShape, classNames, labelEncoding)' },
    { raw: { ...IMAGES, classNames: ['cat', 'cat'] }, field: 'dataset.classNames[1]', message: 'dataset.classNames[1]: duplicate class name "cat"' },
  ])('$message', ({ raw, field, message }) => {
    const input: unknown = JSON.parse(JSON.stringify(raw)); // drops the undefined keys
    expect(configError(() => parseDatasetConfig(input, CLASSIFICATION))).toMatchObject({ code: 'DTRAIN_CONFIG_INVALID', field, message });
  });
});
