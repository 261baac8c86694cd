import { dataErrorAt } from './data-error.js';
import type { Dataset } from './dataset.js';
import { checkObject, checkOneOf } from './check-options.js';
import { IDX_TYPES, parseIdx } from './idx-format.js';
import type { IdxArray } from './idx-format.js';
import { checkNumClasses, classLabelProblem, encodeLabels, findBadClassLabel, inferNumClasses } from './labels.js';
import { readDataFile } from './read-data-file.js';
import type { DatasetReader } from './reader-registry.js';
import { joinShards } from './shard-join.js';
import type { ShardPart } from './shard-join.js';
import { checkPairedShards, checkShardPaths, describeShards, expandShardPaths } from './shard-paths.js';
import type { ShardPaths } from './shard-paths.js';

/** Options of the `idx` reader: images and labels files of the MNIST family. */
export interface IdxReaderOptions {
  /**
   * The images (features) IDX file, raw or gzip-compressed (detected from
   * content): a path, a glob (`shards/images-*.idx.gz`, matches read in sorted
   * order) or a list of paths read in list order as one dataset.
   */
  readonly images: ShardPaths;
  /**
   * The labels IDX file(s): one class id per image (1-D, or N×1). As many
   * files as `images`, paired in order (a glob's sorted order).
   */
  readonly labels: ShardPaths;
  /** How labels are encoded in the dataset. Default: 'index'. */
  readonly labelEncoding?: 'index' | 'onehot';
  /**
   * Number of classes. Default: the largest label + 1 (10 for MNIST). Set it
   * when a file may lack the top classes (a small subset) so shapes match.
   */
  readonly numClasses?: number;
}

const WHERE = 'idx reader';

/** The `idx` reader's options, checked; the indexed reader takes the same, so both accept and refuse alike. */
export function checkIdxOptions(input: unknown): {
  imagesSpec: ShardPaths;
  labelsSpec: ShardPaths;
  labelEncoding: 'index' | 'onehot';
  givenClasses: number | undefined;
} {
  const options = checkObject(input, WHERE);
  return {
    imagesSpec: checkShardPaths(options['images'], WHERE, 'images'),
    labelsSpec: checkShardPaths(options['labels'], WHERE, 'labels'),
    labelEncoding: checkOneOf(options['labelEncoding'], WHERE, 'labelEncoding', ['index', 'onehot'] as const, 'index'),
    givenClasses: checkNumClasses(options['numClasses'], WHERE),
  };
}

/**
 * Reads IDX image/label pairs. featureShape is the images' dimensions after the
 * first (e.g. [28, 28]); callers reshape (e.g. to [28, 28, 1] or [784]) as the
 * model needs. Values are the file's values as float32, not normalised.
 * Shards must share one image shape (DTRAIN_DATA_SHAPE naming the first that
 * differs).
 */
export const idxReader: DatasetReader<IdxReaderOptions> = {
  format: 'idx',
  async read(input: IdxReaderOptions): Promise<Dataset> {
    const { imagesSpec, labelsSpec, labelEncoding, givenClasses } = checkIdxOptions(input);
    const [imageFiles, labelFiles] = await Promise.all([expandShardPaths(imagesSpec), expandShardPaths(labelsSpec)]);
    checkPairedShards('images', imagesSpec, imageFiles, labelsSpec, labelFiles);
    // One pair at a time: a pair's raw bytes are dropped before the next is read.
    const parts: ShardPart[] = [];
    for (const [i, imagesPath] of imageFiles.entries()) {
      parts.push(await readPair(imagesPath, labelFiles[i] as string, givenClasses));
    }
    const joined = joinShards(parts);
    const numClasses = givenClasses ?? inferNumClasses(joined.rawLabels, labelFiles[0] as string);
    const encoded = encodeLabels(joined.rawLabels, labelEncoding, numClasses);
    return {
      numSamples: joined.rawLabels.length,
      featureShape: joined.featureShape,
      labelShape: encoded.labelShape,
      labelEncoding,
      numClasses,
      features: joined.features,
      labels: encoded.labels,
      source: describeShards(imageFiles),
    };
  },
};

/** Reads one images/labels pair and checks that they fit each other. */
async function readPair(imagesPath: string, labelsPath: string, givenClasses: number | undefined): Promise<ShardPart> {
  const [imagesFile, labelsFile] = await Promise.all([readDataFile(imagesPath), readDataFile(labelsPath)]);
  const images = parseIdx(imagesFile.bytes, imagesPath, imagesFile.gzipped);
  const labels = parseIdx(labelsFile.bytes, labelsPath, labelsFile.gzipped);
  const at = (byteOffset: number) => ({ byteOffset, ...(labelsFile.gzipped ? { gunzipped: true } : {}) });

  const numSamples = images.dims[0] as number;
  checkLabelShape(labels, labelsPath, at);
  const numLabels = labels.dims[0] as number;
  if (numLabels !== numSamples) {
    throw dataErrorAt(
      'DTRAIN_DATA_SHAPE',
      labelsPath,
      undefined,
      `holds ${numLabels} labels but ${imagesPath} holds ${numSamples} images; expected one label per image`,
    );
  }
  const bad = findBadClassLabel(labels.data, givenClasses);
  if (bad >= 0) {
    const problem = classLabelProblem(labels.data[bad] as number, givenClasses) as string;
    throw dataErrorAt(
      'DTRAIN_DATA_LABEL_RANGE',
      labelsPath,
      at(labels.headerBytes + bad * labels.elementBytes),
      `${problem} (sample ${bad}); expected a class id`,
    );
  }
  return {
    file: imagesPath,
    featureShape: images.dims.length > 1 ? images.dims.slice(1) : [1],
    features: images.data,
    rawLabels: labels.data,
  };
}

/** DTRAIN_DATA_SHAPE unless `labels` holds one value per sample (N or N×1). */
export function checkLabelShape(labels: IdxArray, file: string, at: (offset: number) => { byteOffset: number }): void {
  const perSample = labels.dims.slice(1).reduce((a, b) => a * b, 1);
  if (perSample !== 1) {
    throw dataErrorAt(
      'DTRAIN_DATA_SHAPE',
      file,
      at(4),
      `labels have dimensions ${labels.dims.join('×')} (${IDX_TYPES[labels.typeCode].name}); expected one label per sample (N or N×1)`,
    );
  }
}
