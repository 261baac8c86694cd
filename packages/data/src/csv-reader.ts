import { dataErrorAt, DataError } from './data-error.js';
import type { DataPosition } from './data-error.js';
import type { Dataset, LabelEncoding } from './dataset.js';
import {
  checkBoolean,
  checkClassNames,
  checkColumnRef,
  checkObject,
  checkOneOf,
} from './check-options.js';
import { parseCsv, parseNumberCell } from './csv-parse.js';
import { checkNumClasses, classLabelProblem, encodeLabels, inferNumClasses } from './labels.js';
import { readDataFile } from './read-data-file.js';
import { GrowableFloat32 } from './growable-float32.js';
import type { DatasetReader } from './reader-registry.js';
import { checkShardPaths, describeShards, expandShardPaths } from './shard-paths.js';
import type { ShardPaths } from './shard-paths.js';

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

/** Reads a CSV file into a dataset with featureShape [number of feature columns]. */
export const csvReader: DatasetReader<CsvReaderOptions> = {
  format: 'csv',
  async read(input: CsvReaderOptions): Promise<Dataset> {
    const options = checkObject(input, WHERE);
    const pathSpec = checkShardPaths(options['path'], WHERE, 'path');
    const labelRef = checkColumnRef(options['labelColumn'], WHERE, 'labelColumn');
    const header = checkBoolean(options['header'], WHERE, 'header', true);
    const labelEncoding = checkOneOf(options['labelEncoding'], WHERE, 'labelEncoding', ['index', 'onehot', 'value'] as const, 'index');
    const classNames = checkClassNames(options['classNames'], WHERE);
    let numClasses = checkNumClasses(options['numClasses'], WHERE) ?? classNames?.length;
    if (labelEncoding === 'value' && (numClasses !== undefined || classNames !== undefined)) {
      throw new DataError('DTRAIN_DATA_OPTIONS', `${WHERE}: numClasses and classNames apply to 'index'/'onehot' labels, not 'value'`);
    }
    const featureRefs = options['featureColumns'] === undefined ? undefined : checkFeatureRefs(options['featureColumns']);

    const files = await expandShardPaths(pathSpec);
    const features = new GrowableFloat32();
    const labels = new GrowableFloat32();
    let firstLayout: { readonly file: string; readonly featureCount: number } | undefined;
    for (const path of files) {
      const { bytes } = await readDataFile(path);
      const text = new TextDecoder('utf-8').decode(bytes);

      let names: string[] | undefined;
      let layout: ColumnLayout | undefined;
      parseCsv(text, path, (fields, line) => {
        if (layout === undefined) {
          if (header) names = fields.map((f) => f.trim());
          layout = resolveColumns(path, fields.length, names, labelRef, featureRefs);
          firstLayout ??= { file: path, featureCount: layout.features.length };
          if (layout.features.length !== firstLayout.featureCount) {
            throw dataErrorAt(
              'DTRAIN_DATA_SHAPE',
              path,
              { line },
              `has ${layout.features.length} feature columns but ${firstLayout.file} has ${firstLayout.featureCount}; every shard must share one sample shape`,
            );
          }
          if (header) return;
        }
        if (fields.length !== layout.width) {
          const expected = header ? `${layout.width} cells as in the header` : `${layout.width} cells as in the first row`;
          throw dataErrorAt('DTRAIN_DATA_SHAPE', path, { line }, `expected ${expected}, found ${fields.length}`);
        }
        const at = (index: number): DataPosition => ({
          line,
          column: index + 1,
          ...(names?.[index] === undefined ? {} : { columnName: names[index] }),
        });
        for (const index of layout.features) {
          const cell = fields[index] as string;
          const value = parseNumberCell(cell);
          if (value === undefined) {
            throw dataErrorAt('DTRAIN_DATA_CSV_CELL', path, at(index), `expected a number, found ${JSON.stringify(cell)}`);
          }
          features.push(value);
        }
        const cell = fields[layout.label] as string;
        const named = classNames?.indexOf(cell.trim());
        const value = named === undefined ? parseNumberCell(cell) : named < 0 ? undefined : named;
        if (value === undefined) {
          const expected = classNames === undefined ? 'a number' : `one of the classNames ${JSON.stringify(classNames)}`;
          throw dataErrorAt('DTRAIN_DATA_CSV_CELL', path, at(layout.label), `expected ${expected}, found ${JSON.stringify(cell)}`);
        }
        const problem = labelEncoding === 'value' ? undefined : classLabelProblem(value, numClasses);
        if (problem !== undefined) {
          throw dataErrorAt('DTRAIN_DATA_LABEL_RANGE', path, at(layout.label), `${problem}; expected a class id`);
        }
        labels.push(value);
      });
    }

    const labelValues = labels.toArray();
    if (labelEncoding !== 'value') numClasses ??= inferNumClasses(labelValues, describeShards(files));
    const encoded = encodeLabels(labelValues, labelEncoding, numClasses);
    return {
      numSamples: labelValues.length,
      featureShape: [firstLayout?.featureCount ?? featureRefs?.length ?? 0],
      labelShape: encoded.labelShape,
      labelEncoding,
      numClasses,
      features: features.toArray(),
      labels: encoded.labels,
      source: describeShards(files),
    };
  },
};

interface ColumnLayout {
  readonly width: number;
  readonly label: number;
  readonly features: readonly number[];
}

function resolveColumns(
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
