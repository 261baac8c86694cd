import { DataError, dataErrorAt } from './data-error.js';
import type { Dataset, LabelEncoding } from './dataset.js';
import { checkClassNames, checkObject, checkOneOf, checkString } from './check-options.js';
import { GrowableFloat32 } from './growable-float32.js';
import { checkNumClasses, classLabelProblem, encodeLabels, inferNumClasses } from './labels.js';
import { readDataFile } from './read-data-file.js';
import type { DatasetReader } from './reader-registry.js';
import { checkShardPaths, describeShards, expandShardPaths } from './shard-paths.js';
import type { ShardPaths } from './shard-paths.js';

/**
 * Options of the `jsonl` reader: one JSON object per line. Features come from
 * one array field (`featureField`) or from several numeric fields
 * (`featureFields`); give exactly one of the two.
 */
export interface JsonlReaderOptions {
  /**
   * The JSONL file (UTF-8), raw or gzip-compressed (detected from content): a
   * path, a glob (matches read in sorted order) or a list of paths read in
   * list order as one dataset.
   */
  readonly path: ShardPaths;
  /** Name of a field holding the features as an array of numbers, the same length on every line. */
  readonly featureField?: string;
  /** Names of numeric fields that make the features, in this order. */
  readonly featureFields?: readonly string[];
  /** Name of the label field: a class id, a regression target, or a class name when `classNames` is set. */
  readonly labelField: string;
  /** 'index' (class id), 'onehot' (class id, one-hot encoded) or 'value' (regression target). Default: 'index'. */
  readonly labelEncoding?: LabelEncoding;
  /**
   * Number of classes for 'index'/'onehot'. Default: classNames.length when
   * classNames is set, else the largest label + 1. Not allowed with 'value'.
   */
  readonly numClasses?: number;
  /** Class names for a label field of words: class id = position in this list. Default: labels are class ids. */
  readonly classNames?: readonly string[];
}

const WHERE = 'jsonl reader';

/** Where features sit in a record: one array field, or a list of scalar fields. */
type FeatureSource = { readonly kind: 'array'; readonly field: string } | { readonly kind: 'fields'; readonly fields: readonly string[] };

/** Reads JSON Lines into a dataset with featureShape [features per record]. Blank lines are skipped. */
export const jsonlReader: DatasetReader<JsonlReaderOptions> = {
  format: 'jsonl',
  async read(input: JsonlReaderOptions): Promise<Dataset> {
    const options = checkObject(input, WHERE);
    const pathSpec = checkShardPaths(options['path'], WHERE, 'path');
    const source = checkFeatureSource(options['featureField'], options['featureFields']);
    const labelField = checkString(options['labelField'], WHERE, 'labelField');
    const labelEncoding = checkOneOf(options['labelEncoding'], WHERE, 'labelEncoding', ['index', 'onehot', 'value'] as const, 'index');
    const classNames = checkClassNames(options['classNames'], WHERE);
    let numClasses = checkNumClasses(options['numClasses'], WHERE) ?? classNames?.length;
    if (labelEncoding === 'value' && (numClasses !== undefined || classNames !== undefined)) {
      throw new DataError('DTRAIN_DATA_OPTIONS', `${WHERE}: numClasses and classNames apply to 'index'/'onehot' labels, not 'value'`);
    }
    if (source.kind === 'fields' && source.fields.includes(labelField)) {
      // Training on the label is a silent 100% accuracy; say so instead.
      throw new DataError('DTRAIN_DATA_OPTIONS', `${WHERE}: featureFields: includes the label field ${JSON.stringify(labelField)}`);
    }

    const files = await expandShardPaths(pathSpec);
    const features = new GrowableFloat32();
    const labels = new GrowableFloat32();
    /** The feature count every record must have, and where it was first seen. */
    let width: { readonly count: number; readonly where: string } | undefined =
      source.kind === 'fields' ? { count: source.fields.length, where: 'featureFields' } : undefined;

    for (const file of files) {
      const { bytes } = await readDataFile(file);
      const lines = new TextDecoder('utf-8').decode(bytes).split('\n');
      for (const [index, rawLine] of lines.entries()) {
        const text = rawLine.trim();
        if (text === '') continue;
        const line = index + 1;
        const fail = (code: DataError['code'], what: string): never => {
          throw dataErrorAt(code, file, { line }, what);
        };
        const record = parseRecord(text, fail);

        const values = source.kind === 'array' ? arrayFeatures(record, source.field, fail) : scalarFeatures(record, source.fields, fail);
        width ??= { count: values.length, where: `${file}: line ${line}` };
        if (values.length !== width.count) {
          fail('DTRAIN_DATA_SHAPE', `${JSON.stringify(source.kind === 'array' ? source.field : 'featureFields')} has ${values.length} values but ${width.where} has ${width.count}; every record must have the same number of features`);
        }
        features.append(values);

        const label = labelValue(record, labelField, classNames, fail);
        const problem = labelEncoding === 'value' ? undefined : classLabelProblem(label, numClasses);
        if (problem !== undefined) fail('DTRAIN_DATA_LABEL_RANGE', `${JSON.stringify(labelField)}: ${problem}; expected a class id`);
        labels.push(label);
      }
    }

    const labelValues = labels.toArray();
    if (labelEncoding !== 'value') numClasses ??= inferNumClasses(labelValues, describeShards(files));
    const encoded = encodeLabels(labelValues, labelEncoding, numClasses);
    return {
      numSamples: labelValues.length,
      featureShape: [width?.count ?? 0],
      labelShape: encoded.labelShape,
      labelEncoding,
      numClasses,
      features: features.toArray(),
      labels: encoded.labels,
      source: describeShards(files),
    };
  },
};

type Fail = (code: DataError['code'], what: string) => never;

function checkFeatureSource(field: unknown, fields: unknown): FeatureSource {
  if ((field === undefined) === (fields === undefined)) {
    throw new DataError('DTRAIN_DATA_OPTIONS', `${WHERE}: give exactly one of featureField (an array field) and featureFields (a list of numeric fields)`);
  }
  if (field !== undefined) return { kind: 'array', field: checkString(field, WHERE, 'featureField') };
  if (!Array.isArray(fields) || fields.length === 0 || !fields.every((f) => typeof f === 'string' && f !== '')) {
    throw new DataError('DTRAIN_DATA_OPTIONS', `${WHERE}: featureFields: expected a non-empty array of field names, got ${JSON.stringify(fields)}`);
  }
  return { kind: 'fields', fields: fields as string[] };
}

function parseRecord(text: string, fail: Fail): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail('DTRAIN_DATA_JSON', `not valid JSON (${reason})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('DTRAIN_DATA_JSON', `expected a JSON object per line, found ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Own fields only: a record named `constructor` or `__proto__` must not reach Object.prototype. */
function field(record: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

const describe = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value)).slice(0, 60));

function arrayFeatures(record: Record<string, unknown>, name: string, fail: Fail): number[] {
  const value = field(record, name);
  if (value === undefined) fail('DTRAIN_DATA_FIELD', `no feature field ${JSON.stringify(name)}`);
  if (!Array.isArray(value)) return fail('DTRAIN_DATA_FIELD', `${JSON.stringify(name)}: expected an array of numbers, found ${describe(value)}`);
  const bad = value.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) fail('DTRAIN_DATA_FIELD', `${JSON.stringify(name)}[${bad}]: expected a finite number, found ${describe(value[bad])}`);
  return value as number[];
}

function scalarFeatures(record: Record<string, unknown>, names: readonly string[], fail: Fail): number[] {
  return names.map((name) => {
    const value = field(record, name);
    if (value === undefined) return fail('DTRAIN_DATA_FIELD', `no feature field ${JSON.stringify(name)}`);
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return fail('DTRAIN_DATA_FIELD', `${JSON.stringify(name)}: expected a finite number, found ${describe(value)}`);
    }
    return value;
  });
}

function labelValue(record: Record<string, unknown>, name: string, classNames: readonly string[] | undefined, fail: Fail): number {
  const value = field(record, name);
  if (value === undefined) return fail('DTRAIN_DATA_FIELD', `no label field ${JSON.stringify(name)}`);
  if (classNames !== undefined) {
    const id = typeof value === 'string' ? classNames.indexOf(value.trim()) : -1;
    if (id < 0) return fail('DTRAIN_DATA_FIELD', `${JSON.stringify(name)}: expected one of the classNames ${JSON.stringify(classNames)}, found ${describe(value)}`);
    return id;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return fail('DTRAIN_DATA_FIELD', `${JSON.stringify(name)}: expected a number, found ${describe(value)}`);
  }
  return value;
}
