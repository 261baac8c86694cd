import { DataError, dataErrorAt } from './data-error.js';
import type { Dataset } from './dataset.js';
import { checkObject, checkOneOf, checkShape } from './check-options.js';
import { checkNumClasses, classLabelProblem, encodeLabels, findBadClassLabel, inferNumClasses } from './labels.js';
import { NPY_DTYPES, parseNpy } from './npy-format.js';
import { readDataFile } from './read-data-file.js';
import type { DatasetReader } from './reader-registry.js';
import { joinShards } from './shard-join.js';
import type { ShardPart } from './shard-join.js';
import { checkPairedShards, checkShardPaths, describeShards, expandShardPaths } from './shard-paths.js';
import type { ShardPaths } from './shard-paths.js';

/** Options of the `npy` reader: a features array and a labels array, samples along the first axis. */
export interface NpyReaderOptions {
  /**
   * The features .npy file (raw or gzip-compressed, detected from content):
   * a path, a glob (matches read in sorted order) or a list of paths read in
   * list order as one dataset. Shape [samples, ...featureShape].
   */
  readonly features: ShardPaths;
  /** The labels .npy file(s), shape [samples] or [samples, 1]; as many files as `features`, paired in order. */
  readonly labels: ShardPaths;
  /** 'index' (class id), 'onehot' (class id, one-hot encoded) or 'value' (regression target). Default: 'index'. */
  readonly labelEncoding?: 'index' | 'onehot' | 'value';
  /** Number of classes for 'index'/'onehot'. Default: the largest label + 1. Not allowed with 'value'. */
  readonly numClasses?: number;
  /**
   * Shape of one sample's features, e.g. [784] for arrays saved as
   * (N, 28, 28). The element count must match. Default: the array's axes
   * after the first.
   */
  readonly featureShape?: readonly number[];
}

const WHERE = 'npy reader';

/** The `npy` reader's options, checked; the indexed reader takes the same, so both accept and refuse alike. */
export function checkNpyOptions(input: unknown): {
  featuresSpec: ShardPaths;
  labelsSpec: ShardPaths;
  labelEncoding: 'index' | 'onehot' | 'value';
  givenClasses: number | undefined;
  featureShape: number[] | undefined;
} {
  const options = checkObject(input, WHERE);
  const labelEncoding = checkOneOf(options['labelEncoding'], WHERE, 'labelEncoding', ['index', 'onehot', 'value'] as const, 'index');
  const givenClasses = checkNumClasses(options['numClasses'], WHERE);
  if (labelEncoding === 'value' && givenClasses !== undefined) {
    throw new DataError('DTRAIN_DATA_OPTIONS', `${WHERE}: numClasses applies to 'index'/'onehot' labels, not 'value'`);
  }
  return {
    featuresSpec: checkShardPaths(options['features'], WHERE, 'features'),
    labelsSpec: checkShardPaths(options['labels'], WHERE, 'labels'),
    labelEncoding,
    givenClasses,
    featureShape: options['featureShape'] === undefined ? undefined : checkShape(options['featureShape'], WHERE, 'featureShape'),
  };
}

const shapeSize = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Reads NumPy arrays (uint8/int8/int16/int32/int64/float32/float64, little-endian, C order) as float32. */
export const npyReader: DatasetReader<NpyReaderOptions> = {
  format: 'npy',
  async read(input: NpyReaderOptions): Promise<Dataset> {
    const { featuresSpec, labelsSpec, labelEncoding, givenClasses, featureShape } = checkNpyOptions(input);
    const [featureFiles, labelFiles] = await Promise.all([expandShardPaths(featuresSpec), expandShardPaths(labelsSpec)]);
    checkPairedShards('features', featuresSpec, featureFiles, labelsSpec, labelFiles);
    const classes = labelEncoding === 'value' ? undefined : { given: givenClasses };
    const parts: ShardPart[] = [];
    for (const [i, featuresPath] of featureFiles.entries()) {
      parts.push(await readPair(featuresPath, labelFiles[i] as string, featureShape, classes));
    }
    const joined = joinShards(parts);
    const numClasses = labelEncoding === 'value' ? undefined : (givenClasses ?? inferNumClasses(joined.rawLabels, labelFiles[0] as string));
    const encoded = encodeLabels(joined.rawLabels, labelEncoding, numClasses);
    return {
      numSamples: joined.rawLabels.length,
      featureShape: joined.featureShape,
      labelShape: encoded.labelShape,
      labelEncoding,
      numClasses,
      features: joined.features,
      labels: encoded.labels,
      source: describeShards(featureFiles),
    };
  },
};

/** Reads one features/labels pair and checks that they fit each other. `classes` is undefined for regression labels. */
async function readPair(
  featuresPath: string,
  labelsPath: string,
  featureShape: readonly number[] | undefined,
  classes: { readonly given: number | undefined } | undefined,
): Promise<ShardPart> {
  const [featuresFile, labelsFile] = await Promise.all([readDataFile(featuresPath), readDataFile(labelsPath)]);
  const features = parseNpy(featuresFile.bytes, featuresPath, featuresFile.gzipped);
  const labels = parseNpy(labelsFile.bytes, labelsPath, labelsFile.gzipped);
  const numSamples = features.shape[0] as number;
  const own = features.shape.length > 1 ? features.shape.slice(1) : [1];
  if (featureShape !== undefined && shapeSize(featureShape) !== shapeSize(own)) {
    throw dataErrorAt(
      'DTRAIN_DATA_SHAPE',
      featuresPath,
      undefined,
      `samples have shape [${own.join(', ')}] (${shapeSize(own)} values) but featureShape [${featureShape.join(', ')}] holds ${shapeSize(featureShape)}`,
    );
  }
  if (labels.shape.slice(1).some((d) => d !== 1)) {
    throw dataErrorAt('DTRAIN_DATA_SHAPE', labelsPath, undefined, `labels have shape (${labels.shape.join(', ')}); expected one label per sample (N or N×1)`);
  }
  const numLabels = labels.shape[0] as number;
  if (numLabels !== numSamples) {
    throw dataErrorAt('DTRAIN_DATA_SHAPE', labelsPath, undefined, `holds ${numLabels} labels but ${featuresPath} holds ${numSamples} samples; expected one label per sample`);
  }
  if (classes !== undefined) {
    const bad = findBadClassLabel(labels.data, classes.given);
    if (bad >= 0) {
      const problem = classLabelProblem(labels.data[bad] as number, classes.given) as string;
      const byteOffset = labels.dataOffset + bad * labels.elementBytes;
      throw dataErrorAt(
        'DTRAIN_DATA_LABEL_RANGE',
        labelsPath,
        { byteOffset, ...(labelsFile.gzipped ? { gunzipped: true } : {}) },
        `${problem} (sample ${bad}, ${NPY_DTYPES[labels.dtype].name}); expected a class id`,
      );
    }
  }
  return { file: featuresPath, featureShape: featureShape ?? own, features: features.data, rawLabels: labels.data };
}
