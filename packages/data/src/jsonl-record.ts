import { DataError } from './data-error.js';
import type { LabelEncoding } from './dataset.js';
import { checkClassNames, checkObject, checkOneOf, checkString } from './check-options.js';
import { checkNumClasses, classLabelProblem } from './labels.js';
import { checkShardPaths } from './shard-paths.js';
import type { ShardPaths } from './shard-paths.js';

/*
 * One JSONL record and the options that say how to read it: shared by the
 * whole-file reader and the indexed source, so both accept and reject the
 * same lines with the same messages.
 */

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
export type FeatureSource = { readonly kind: 'array'; readonly field: string } | { readonly kind: 'fields'; readonly fields: readonly string[] };

/** {@link JsonlReaderOptions} after their run-time checks. */
export interface CheckedJsonlOptions {
  readonly path: ShardPaths;
  readonly source: FeatureSource;
  readonly labelField: string;
  readonly labelEncoding: LabelEncoding;
  readonly classNames: readonly string[] | undefined;
  /** As given, or classNames.length; undefined when it must be inferred (or for 'value'). */
  readonly numClasses: number | undefined;
}

/** Checks the options a user gave (DTRAIN_DATA_OPTIONS naming the field). */
export function checkJsonlOptions(input: unknown): CheckedJsonlOptions {
  const options = checkObject(input, WHERE);
  const path = checkShardPaths(options['path'], WHERE, 'path');
  const source = checkFeatureSource(options['featureField'], options['featureFields']);
  const labelField = checkString(options['labelField'], WHERE, 'labelField');
  const labelEncoding = checkOneOf(options['labelEncoding'], WHERE, 'labelEncoding', ['index', 'onehot', 'value'] as const, 'index');
  const classNames = checkClassNames(options['classNames'], WHERE);
  const numClasses = checkNumClasses(options['numClasses'], WHERE) ?? classNames?.length;
  if (labelEncoding === 'value' && (numClasses !== undefined || classNames !== undefined)) {
    throw new DataError('DTRAIN_DATA_OPTIONS', `${WHERE}: numClasses and classNames apply to 'index'/'onehot' labels, not 'value'`);
  }
  if (source.kind === 'fields' && source.fields.includes(labelField)) {
    // Training on the label is a silent 100% accuracy; say so instead.
    throw new DataError('DTRAIN_DATA_OPTIONS', `${WHERE}: featureFields: includes the label field ${JSON.stringify(labelField)}`);
  }
  return { path, source, labelField, labelEncoding, classNames, numClasses };
}

/** One record's feature values and raw label (class id or target). */
export interface JsonlRecord {
  readonly values: number[];
  readonly label: number;
}

/**
 * Parses one non-blank line. `fail` throws naming the file and line (or
 * byte); the label is checked against `options.numClasses` when known.
 */
export function parseJsonlRecord(text: string, options: CheckedJsonlOptions, fail: Fail): JsonlRecord {
  const record = parseRecord(text, fail);
  const { source, labelField } = options;
  const values = featuresOf(record, source, fail);
  const label = labelValue(record, labelField, options.classNames, fail);
  const problem = options.labelEncoding === 'value' ? undefined : classLabelProblem(label, options.numClasses);
  if (problem !== undefined) fail('DTRAIN_DATA_LABEL_RANGE', `${JSON.stringify(labelField)}: ${problem}; expected a class id`);
  return { values, label };
}

/**
 * Parses one non-blank line for its features only: what a read by sample
 * needs (labels were indexed at open). Fails as {@link parseJsonlRecord} does.
 */
export function parseJsonlFeatures(text: string, source: FeatureSource, fail: Fail): number[] {
  return featuresOf(parseRecord(text, fail), source, fail);
}

function featuresOf(record: Record<string, unknown>, source: FeatureSource, fail: Fail): number[] {
  return source.kind === 'array' ? arrayFeatures(record, source.field, fail) : scalarFeatures(record, source.fields, fail);
}

/** Names the feature field(s) in a width mismatch message. */
export function featureFieldName(source: FeatureSource): string {
  return JSON.stringify(source.kind === 'array' ? source.field : 'featureFields');
}

export type Fail = (code: DataError['code'], what: string) => never;

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
