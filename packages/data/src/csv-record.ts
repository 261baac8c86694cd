import { dataErrorAt, DataError } from './data-error.js';
import type { DataPosition } from './data-error.js';
import type { LabelEncoding } from './dataset.js';
import { checkBoolean, checkClassNames, checkColumnRef, checkObject, checkOneOf } from './check-options.js';
import { parseNumberCell } from './csv-parse.js';
import { checkNumClasses, classLabelProblem } from './labels.js';
import { checkShardPaths } from './shard-paths.js';
import type { ShardPaths } from './shard-paths.js';

/*
 * One CSV row and the options that say how to read it: shared by the
 * whole-file reader and the indexed source, so both accept and reject the
 * same rows with the same messages.
 */

/** Options of the `csv` reader: one sample per row, numeric cells. */
export interface CsvReaderOptions {
  /**
   * The CSV file (UTF-8), raw or gzip-compressed (detected from content): a
   * path, a glob (`data/train-*.csv`, matches read in sorted order) or a list
   * of paths read in list order as one dataset. Each shard has its own header
   * (when `header`); all must yield the same number of feature columns.
   */
  readonly path: ShardPaths;
  /** The label column: a header name, or a 0-based column index. */
  readonly labelColumn: string | number;
  /** Whether the first non-blank row names the columns. Default: true. */
  readonly header?: boolean;
  /**
   * 'index' (class id), 'onehot' (class id, one-hot encoded) or 'value'
   * (regression target, any finite number). Default: 'index'.
   */
  readonly labelEncoding?: LabelEncoding;
  /**
   * Number of classes for 'index'/'onehot'. Default: classNames.length when
   * classNames is set, else the largest label + 1. Not allowed with 'value'.
   */
  readonly numClasses?: number;
  /**
   * Class names for a label column of words (e.g. 'setosa'): class id = position
   * in this list. Default: none (label cells must be class ids).
   */
  readonly classNames?: readonly string[];
  /** Feature columns, by header name or 0-based index, in this order. Default: every column but the label. */
  readonly featureColumns?: readonly (string | number)[];
}

const WHERE = 'csv reader';

/** {@link CsvReaderOptions} after their run-time checks. */
export interface CheckedCsvOptions {
  readonly path: ShardPaths;
  readonly labelRef: string | number;
  readonly header: boolean;
  readonly labelEncoding: LabelEncoding;
  readonly classNames: readonly string[] | undefined;
  /** As given, or classNames.length; undefined when it must be inferred (or for 'value'). */
  readonly numClasses: number | undefined;
  readonly featureRefs: readonly (string | number)[] | undefined;
}

/** Checks the options a user gave (DTRAIN_DATA_OPTIONS naming the field). */
export function checkCsvOptions(input: unknown): CheckedCsvOptions {
  const options = checkObject(input, WHERE);
  const path = checkShardPaths(options['path'], WHERE, 'path');
  const labelRef = checkColumnRef(options['labelColumn'], WHERE, 'labelColumn');
  const header = checkBoolean(options['header'], WHERE, 'header', true);
  const labelEncoding = checkOneOf(options['labelEncoding'], WHERE, 'labelEncoding', ['index', 'onehot', 'value'] as const, 'index');
  const classNames = checkClassNames(options['classNames'], WHERE);
  const numClasses = checkNumClasses(options['numClasses'], WHERE) ?? classNames?.length;
  if (labelEncoding === 'value' && (numClasses !== undefined || classNames !== undefined)) {
    throw new DataError('DTRAIN_DATA_OPTIONS', `${WHERE}: numClasses and classNames apply to 'index'/'onehot' labels, not 'value'`);
  }
  const featureRefs = options['featureColumns'] === undefined ? undefined : checkFeatureRefs(options['featureColumns']);
  return { path, labelRef, header, labelEncoding, classNames, numClasses, featureRefs };
}

/** One row's feature values and raw label (class id or target). */
export interface CsvRow {
  readonly values: number[];
  readonly label: number;
}

/**
 * The values of one data row, checked: the cell count against the layout,
 * numeric feature cells, the label against classNames/numClasses. Errors
 * name file, line (when known) and column.
 */
export function csvRowValues(
  fields: readonly string[],
  line: number | undefined,
  layout: ColumnLayout,
  names: readonly string[] | undefined,
  options: CheckedCsvOptions,
  file: string,
): CsvRow {
  const lineAt: DataPosition = line === undefined ? {} : { line };
  const values = csvRowFeatures(fields, lineAt, layout, names, options.header, file);
  const { classNames } = options;
  const cell = fields[layout.label] as string;
  const named = classNames?.indexOf(cell.trim());
  const label = named === undefined ? parseNumberCell(cell) : named < 0 ? undefined : named;
  if (label === undefined) {
    const expected = classNames === undefined ? 'a number' : `one of the classNames ${JSON.stringify(classNames)}`;
    throw dataErrorAt('DTRAIN_DATA_CSV_CELL', file, cellAt(lineAt, names, layout.label), `expected ${expected}, found ${JSON.stringify(cell)}`);
  }
  const problem = options.labelEncoding === 'value' ? undefined : classLabelProblem(label, options.numClasses);
  if (problem !== undefined) {
    throw dataErrorAt('DTRAIN_DATA_LABEL_RANGE', file, cellAt(lineAt, names, layout.label), `${problem}; expected a class id`);
  }
  return { values, label };
}

/**
 * The feature values of one data row, checked as {@link csvRowValues} checks
 * them (the cell count, numeric feature cells); the label cell is not looked
 * at. Errors name file, `where` (a line, or a byte offset for a record read
 * by range) and column.
 * @param header whether the shard has a header row, for the cell-count message.
 */
export function csvRowFeatures(
  fields: readonly string[],
  where: DataPosition,
  layout: ColumnLayout,
  names: readonly string[] | undefined,
  header: boolean,
  file: string,
): number[] {
  if (fields.length !== layout.width) {
    const expected = header ? `${layout.width} cells as in the header` : `${layout.width} cells as in the first row`;
    throw dataErrorAt('DTRAIN_DATA_SHAPE', file, where, `expected ${expected}, found ${fields.length}`);
  }
  return layout.features.map((index) => {
    const cell = fields[index] as string;
    const value = parseNumberCell(cell);
    if (value === undefined) {
      throw dataErrorAt('DTRAIN_DATA_CSV_CELL', file, cellAt(where, names, index), `expected a number, found ${JSON.stringify(cell)}`);
    }
    return value;
  });
}

/** The position of cell `index` of a row at `where`, with its header name when known. */
function cellAt(where: DataPosition, names: readonly string[] | undefined, index: number): DataPosition {
  return { ...where, column: index + 1, ...(names?.[index] === undefined ? {} : { columnName: names[index] }) };
}

/** Which cells of a row are features and which is the label. */
export interface ColumnLayout {
  readonly width: number;
  readonly label: number;
  readonly features: readonly number[];
}

/** Resolves the label and feature columns against a shard's first row (and header names). */
export function resolveColumns(
  file: string,
  width: number,
  names: readonly string[] | undefined,
  labelRef: string | number,
  featureRefs: readonly (string | number)[] | undefined,
): ColumnLayout {
  const resolve = (ref: string | number, field: string): number => {
    if (typeof ref === 'number') {
      if (ref >= width) {
        throw dataErrorAt('DTRAIN_DATA_OPTIONS', file, undefined, `${field}: column index ${ref} is past the last column (the file has ${width}, indices 0..${width - 1})`);
      }
      return ref;
    }
    if (names === undefined) {
      throw dataErrorAt('DTRAIN_DATA_OPTIONS', file, undefined, `${field}: column ${JSON.stringify(ref)} is named but header is false; use a 0-based index`);
    }
    const index = names.indexOf(ref.trim());
    if (index < 0) {
      throw dataErrorAt('DTRAIN_DATA_OPTIONS', file, undefined, `${field}: no column ${JSON.stringify(ref)}; the header has ${JSON.stringify(names)}`);
    }
    return index;
  };
  const label = resolve(labelRef, 'labelColumn');
  const all = Array.from({ length: width }, (_, i) => i);
  const features = featureRefs === undefined ? all.filter((i) => i !== label) : featureRefs.map((ref) => resolve(ref, 'featureColumns'));
  if (features.includes(label)) {
    throw dataErrorAt('DTRAIN_DATA_OPTIONS', file, undefined, `featureColumns includes the label column ${label + 1}; a model must not see its label`);
  }
  if (new Set(features).size !== features.length) {
    throw dataErrorAt('DTRAIN_DATA_OPTIONS', file, undefined, 'featureColumns names a column twice');
  }
  return { width, label, features };
}

function checkFeatureRefs(value: unknown): (string | number)[] {
  if (!Array.isArray(value)) {
    throw new DataError('DTRAIN_DATA_OPTIONS', `${WHERE}: featureColumns: expected an array of header names or 0-based indices, got ${JSON.stringify(value)}`);
  }
  return value.map((ref, i) => checkColumnRef(ref, WHERE, `featureColumns[${i}]`));
}
