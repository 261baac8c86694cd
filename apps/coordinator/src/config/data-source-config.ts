/**
 * One data source: where samples come from and how their labels read. The
 * result is handed to the data package's reader for its `format` as is, so
 * the keys are the readers' option names.
 */
import type { LabelEncoding } from '@dtrain/data';
import { invalidField } from './config-error.js';
import { requireFolder, requireShardPaths } from './config-paths.js';
import {
  ANY_INT,
  NON_NEGATIVE_INT,
  NON_NEGATIVE_NUMBER,
  POSITIVE_INT,
  arrayOf,
  checkShape,
  checkString,
  expectedGot,
  fieldPath,
  get,
  has,
  isPlainObject,
  joinPath,
  objectWithKeys,
  oneOf,
  optionalBoolean,
  optionalInt,
  optionalNumber,
  optionalOneOf,
  requireInt,
  requireString,
  type Fields,
} from './validators.js';

export type DataSourceConfig =
  | {
      /** IDX files (the MNIST family). */
      format: 'idx';
      /** The IDX images file(s), gzipped or not: an absolute path, an absolute glob (read in sorted order) or a list of them (read in list order). */
      images: ShardPathsConfig;
      /** The IDX labels file(s), as many as the images files and paired with them in order. */
      labels: ShardPathsConfig;
      /** Default 'index'. */
      labelEncoding: 'index' | 'onehot';
      /** Default: max label + 1, found by the reader. */
      numClasses?: number;
    }
  | {
      /** A CSV table, one sample per row. */
      format: 'csv';
      /** The CSV file(s): an absolute path, an absolute glob (read in sorted order) or a list of them (read in list order). */
      path: ShardPathsConfig;
      /** Header name, or 0-based column index. */
      labelColumn: string | number;
      /** Whether the first line holds column names; default true. */
      header: boolean;
      /** Default 'value' when the loss is meanSquaredError, else 'index'. */
      labelEncoding: LabelEncoding;
      /** Default: classNames.length if given, else max label + 1, found by the reader; not used with 'value'. */
      numClasses?: number;
      /** For a label column of words (`setosa`): class id = position in this list. Default: labels are class ids. */
      classNames?: string[];
      /** Default: every column but the label. */
      featureColumns?: (string | number)[];
    }
  | {
      /** JSON Lines: one object per line. */
      format: 'jsonl';
      /** The JSONL file(s): an absolute path, an absolute glob (read in sorted order) or a list of them (read in list order). */
      path: ShardPathsConfig;
      /** A field holding the features as an array of numbers; exactly one of featureField and featureFields is set. */
      featureField?: string;
      /** Numeric fields that make the features, in this order. */
      featureFields?: string[];
      /** The label field: a class id, a regression target, or a class name when classNames is set. */
      labelField: string;
      /** Default 'value' when the loss is meanSquaredError, else 'index'. */
      labelEncoding: LabelEncoding;
      /** Default: classNames.length if given, else max label + 1, found by the reader; not used with 'value'. */
      numClasses?: number;
      /** For a label field of words: class id = position in this list. Default: labels are class ids. */
      classNames?: string[];
    }
  | {
      /** NumPy .npy arrays, samples along the first axis. */
      format: 'npy';
      /** The features .npy file(s): an absolute path, an absolute glob (read in sorted order) or a list of them. */
      features: ShardPathsConfig;
      /** The labels .npy file(s), shape [N] or [N, 1]; as many as the features files, paired in order. */
      labels: ShardPathsConfig;
      /** Default 'value' when the loss is meanSquaredError, else 'index'. */
      labelEncoding: LabelEncoding;
      /** Default: max label + 1, found by the reader; not used with 'value'. */
      numClasses?: number;
    }
  | {
      /** A folder with one subfolder of PNG/JPEG images per class. */
      format: 'images';
      /** Absolute path of the root folder. */
      path: string;
      /** [height, width, channels] (channels 1 or 3) every image is converted and resized to; default: the images' own size, which must then agree. */
      featureShape?: number[];
      /** The classes in class-id order; default: the subfolder names, sorted. */
      classNames?: string[];
      /** Default 'index'. */
      labelEncoding: 'index' | 'onehot';
    }
  | {
      /** Generated samples, for tests and benchmarks. */
      format: 'synthetic';
      /** Samples generated; required. */
      numSamples: number;
      /** Shape of one generated sample; required. */
      featureShape: number[];
      /** Classes (>= 2) to generate labels for; default: one regression target per sample. */
      numClasses?: number;
      /** Only with numClasses; default 'index'. */
      labelEncoding?: 'index' | 'onehot';
      /** Seeds the hidden map from features to labels and every sample: same seed, same task; default 42. */
      seed: number;
      /** Standard deviation of the noise on each target or class score (the signal's is about 1); default 0.1. */
      noise: number;
      /**
       * Index of the first sample in the seed's endless stream; default 0, or
       * for `dataset.test`, the first sample after the training source's when
       * both are synthetic with the same seed (same task, unseen samples).
       */
      firstSample: number;
    }
  | {
      /**
       * Arrays handed over in the process that runs the coordinator (the
       * TypeScript API's `fit`): the job's JobData is built from them
       * directly. Never read from a config file, and refused by `readSource`.
       */
      format: 'memory';
      /** What the data is, for status pages and messages (e.g. `fit(x, y): 1800 samples`). */
      description: string;
    };

/** Where a sharded source's files are: one absolute path or glob, or a list of them. */
export type ShardPathsConfig = string | string[];

export type DataFormat = DataSourceConfig['format'];

/** The formats a config file may name: every one but 'memory', which only code can hand over. */
export type FileDataFormat = Exclude<DataFormat, 'memory'>;

export const DATA_FORMATS: readonly FileDataFormat[] = ['idx', 'csv', 'jsonl', 'npy', 'images', 'synthetic'];

/** The keys each format reads, beside `format` itself. */
export const SOURCE_KEYS: Readonly<Record<FileDataFormat, readonly string[]>> = {
  idx: ['images', 'labels', 'labelEncoding', 'numClasses'],
  csv: ['path', 'labelColumn', 'header', 'labelEncoding', 'numClasses', 'classNames', 'featureColumns'],
  jsonl: ['path', 'featureField', 'featureFields', 'labelField', 'labelEncoding', 'numClasses', 'classNames'],
  npy: ['features', 'labels', 'labelEncoding', 'numClasses'],
  images: ['path', 'featureShape', 'classNames', 'labelEncoding'],
  synthetic: ['numSamples', 'featureShape', 'numClasses', 'labelEncoding', 'seed', 'noise', 'firstSample'],
};

export const SYNTHETIC_DEFAULTS = { seed: 42, noise: 0.1, firstSample: 0 } as const;

export interface SourceContext {
  readonly configDir: string;
  /** Whether the loss is a regression loss: then CSV labels default to values, not class ids. */
  readonly regression: boolean;
}

/**
 * Reads the source keys of `format` from `fields`, which the caller has
 * already checked for unknown keys (the keys allowed beside a source differ
 * between `dataset:` and `dataset.test:`).
 */
export function parseDataSource(fields: Fields, format: FileDataFormat, context: SourceContext): DataSourceConfig {
  switch (format) {
    case 'idx': {
      const images = requireShardPaths(fields, 'images', context.configDir);
      const labels = requireShardPaths(fields, 'labels', context.configDir);
      const labelEncoding = optionalOneOf(fields, 'labelEncoding', ['index', 'onehot'], 'index');
      const numClasses = optionalInt(fields, 'numClasses', POSITIVE_INT);
      return { format, images, labels, labelEncoding, ...(numClasses === undefined ? {} : { numClasses }) };
    }
    case 'csv': {
      const path = requireShardPaths(fields, 'path', context.configDir);
      const header = optionalBoolean(fields, 'header', true);
      const labelColumn = requireColumn(fields, 'labelColumn', header);
      const labelEncoding = optionalOneOf(fields, 'labelEncoding', ['index', 'onehot', 'value'], context.regression ? 'value' : 'index');
      const { numClasses, classNames } = parseClasses(fields, labelEncoding);
      const featureColumns = has(fields, 'featureColumns') ? checkFeatureColumns(fields, header, labelColumn) : undefined;
      return {
        format,
        path,
        labelColumn,
        header,
        labelEncoding,
        ...(numClasses === undefined ? {} : { numClasses }),
        ...(classNames === undefined ? {} : { classNames }),
        ...(featureColumns === undefined ? {} : { featureColumns }),
      };
    }
    case 'jsonl': {
      const path = requireShardPaths(fields, 'path', context.configDir);
      const labelField = requireString(fields, 'labelField');
      const features = parseJsonlFeatures(fields, labelField);
      const labelEncoding = optionalOneOf(fields, 'labelEncoding', ['index', 'onehot', 'value'], context.regression ? 'value' : 'index');
      const { numClasses, classNames } = parseClasses(fields, labelEncoding);
      return {
        format,
        path,
        ...features,
        labelField,
        labelEncoding,
        ...(numClasses === undefined ? {} : { numClasses }),
        ...(classNames === undefined ? {} : { classNames }),
      };
    }
    case 'npy': {
      const features = requireShardPaths(fields, 'features', context.configDir);
      const labels = requireShardPaths(fields, 'labels', context.configDir);
      const labelEncoding = optionalOneOf(fields, 'labelEncoding', ['index', 'onehot', 'value'], context.regression ? 'value' : 'index');
      if (labelEncoding === 'value' && has(fields, 'numClasses')) {
        throw invalidField(fieldPath(fields, 'numClasses'), 'not used with labelEncoding "value" (regression targets have no classes)');
      }
      const numClasses = optionalInt(fields, 'numClasses', POSITIVE_INT);
      return { format, features, labels, labelEncoding, ...(numClasses === undefined ? {} : { numClasses }) };
    }
    case 'images': {
      const path = requireFolder(fields, 'path', context.configDir);
      const featureShape = has(fields, 'featureShape') ? checkImageShape(fields) : undefined;
      const classNames = has(fields, 'classNames') ? checkClassNames(fields) : undefined;
      const labelEncoding = optionalOneOf(fields, 'labelEncoding', ['index', 'onehot'], 'index');
      return {
        format,
        path,
        ...(featureShape === undefined ? {} : { featureShape }),
        ...(classNames === undefined ? {} : { classNames }),
        labelEncoding,
      };
    }
    case 'synthetic': {
      const numSamples = requireInt(fields, 'numSamples', POSITIVE_INT);
      const shapeField = fieldPath(fields, 'featureShape');
      const rawShape = get(fields, 'featureShape');
      if (rawShape === undefined) throw invalidField(shapeField, 'required');
      const featureShape = checkShape(rawShape, shapeField);
      // One class is no classification; the reader would refuse it later without naming the field.
      const numClasses = optionalInt(fields, 'numClasses', { integer: true, min: 2 });
      if (numClasses === undefined && has(fields, 'labelEncoding')) {
        throw invalidField(fieldPath(fields, 'labelEncoding'), 'needs numClasses (without it, synthetic targets are regression values)');
      }
      const classes = numClasses === undefined ? {} : { numClasses, labelEncoding: optionalOneOf(fields, 'labelEncoding', ['index', 'onehot'], 'index') };
      const seed = optionalInt(fields, 'seed', ANY_INT, SYNTHETIC_DEFAULTS.seed);
      const noise = optionalNumber(fields, 'noise', NON_NEGATIVE_NUMBER, SYNTHETIC_DEFAULTS.noise);
      const firstSample = optionalInt(fields, 'firstSample', NON_NEGATIVE_INT, SYNTHETIC_DEFAULTS.firstSample);
      return { format, numSamples, featureShape, ...classes, seed, noise, firstSample };
    }
  }
}

/** numClasses and classNames, which regression targets cannot have. */
function parseClasses(fields: Fields, labelEncoding: LabelEncoding): { numClasses?: number; classNames?: string[] } {
  for (const key of ['numClasses', 'classNames'] as const) {
    if (labelEncoding === 'value' && has(fields, key)) {
      throw invalidField(fieldPath(fields, key), 'not used with labelEncoding "value" (regression targets have no classes)');
    }
  }
  const numClasses = optionalInt(fields, 'numClasses', POSITIVE_INT);
  const classNames = has(fields, 'classNames') ? checkClassNames(fields) : undefined;
  return { ...(numClasses === undefined ? {} : { numClasses }), ...(classNames === undefined ? {} : { classNames }) };
}

/** Exactly one of featureField (an array field) and featureFields (numeric fields), never naming the label. */
function parseJsonlFeatures(fields: Fields, labelField: string): { featureField: string } | { featureFields: string[] } {
  const single = has(fields, 'featureField');
  const list = has(fields, 'featureFields');
  if (single === list) {
    throw invalidField(
      fieldPath(fields, single ? 'featureFields' : 'featureField'),
      single ? 'give featureField or featureFields, not both' : 'required (or featureFields: a list of numeric fields)',
    );
  }
  if (single) {
    const featureField = requireString(fields, 'featureField');
    if (featureField === labelField) throw invalidField(fieldPath(fields, 'featureField'), `"${featureField}" is the label field`);
    return { featureField };
  }
  const seen = new Set<string>();
  const featureFields = arrayOf(get(fields, 'featureFields'), fieldPath(fields, 'featureFields'), { of: 'field names', nonEmpty: true }, (value, at) => {
    const name = checkString(value, at);
    // Training on the label is a silent 100% accuracy; say so instead.
    if (name === labelField) throw invalidField(at, `"${name}" is the label field`);
    if (seen.has(name)) throw invalidField(at, `duplicate field "${name}"`);
    seen.add(name);
    return name;
  });
  return { featureFields };
}

/** [height, width, channels]: images are grayscale (1) or RGB (3). */
function checkImageShape(fields: Fields): number[] {
  const field = fieldPath(fields, 'featureShape');
  const shape = checkShape(get(fields, 'featureShape'), field);
  if (shape.length !== 3 || (shape[2] !== 1 && shape[2] !== 3)) {
    throw invalidField(field, `expected [height, width, channels] with channels 1 (grayscale) or 3 (RGB), got [${shape.join(', ')}]`);
  }
  return shape;
}

/** A header name needs a header line to look it up in. */
function checkColumn(value: unknown, field: string, header: boolean): string | number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    throw expectedGot(field, 'a column name or a 0-based column index', value);
  }
  if (typeof value !== 'string' || value === '') throw expectedGot(field, 'a column name or a 0-based column index', value);
  if (!header) throw invalidField(field, `column name "${value}" needs header: true (or give a 0-based column index)`);
  return value;
}

function requireColumn(fields: Fields, key: string, header: boolean): string | number {
  const value = get(fields, key);
  if (value === undefined) throw invalidField(fieldPath(fields, key), 'required');
  return checkColumn(value, fieldPath(fields, key), header);
}

function checkClassNames(fields: Fields): string[] {
  const seen = new Set<string>();
  return arrayOf(get(fields, 'classNames'), fieldPath(fields, 'classNames'), { of: 'class names', nonEmpty: true }, (value, at) => {
    const name = checkString(value, at);
    if (seen.has(name)) throw invalidField(at, `duplicate class name "${name}"`);
    seen.add(name);
    return name;
  });
}

function checkFeatureColumns(fields: Fields, header: boolean, labelColumn: string | number): (string | number)[] {
  const field = fieldPath(fields, 'featureColumns');
  return arrayOf(get(fields, 'featureColumns'), field, { of: 'column names or 0-based column indices', nonEmpty: true }, (value, at) => {
    const column = checkColumn(value, at, header);
    // Training on the label is a silent 100% accuracy; say so instead.
    if (column === labelColumn) throw invalidField(at, `${JSON.stringify(column)} is the label column`);
    return column;
  });
}

/** A source mapping, checked: its format first, since the keys allowed depend on it. */
export interface SourceFields {
  readonly fields: Fields;
  readonly format: FileDataFormat;
}

/**
 * Checks the mapping at `path` that holds a source: `format` plus that
 * format's keys, plus `extraKeys` (what else may sit beside them).
 */
export function sourceFields(raw: unknown, path: string, extraKeys: readonly string[]): SourceFields {
  if (raw === undefined || raw === null) throw invalidField(path, 'required');
  if (!isPlainObject(raw)) throw expectedGot(path, 'an object', raw);
  const formatField = joinPath(path, 'format');
  const rawFormat = raw['format'] ?? undefined;
  if (rawFormat === undefined) {
    // A misspelt `format` deserves "did you mean" rather than "required".
    objectWithKeys(raw, path, unique(['format', ...extraKeys, ...Object.values(SOURCE_KEYS).flat()]));
    throw invalidField(formatField, `required (one of ${DATA_FORMATS.map((f) => `"${f}"`).join(', ')})`);
  }
  const format = oneOf(rawFormat, formatField, DATA_FORMATS);
  const allowed = unique(['format', ...SOURCE_KEYS[format], ...extraKeys]);
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key) && DATA_FORMATS.some((other) => SOURCE_KEYS[other].includes(key))) {
      throw invalidField(joinPath(path, key), `not used by format "${format}" (it reads ${SOURCE_KEYS[format].join(', ')})`);
    }
  }
  return { fields: objectWithKeys(raw, path, allowed), format };
}

function unique(keys: readonly string[]): string[] {
  return [...new Set(keys)];
}
