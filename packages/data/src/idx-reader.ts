import { dataErrorAt } from './data-error.js';
import type { Dataset } from './dataset.js';
import { checkObject, checkOneOf, checkString } from './check-options.js';
import { IDX_TYPES, parseIdx } from './idx-format.js';
import type { IdxArray } from './idx-format.js';
import { checkNumClasses, classLabelProblem, encodeLabels, findBadClassLabel, inferNumClasses } from './labels.js';
import { readDataFile } from './read-data-file.js';
import type { DatasetReader } from './reader-registry.js';

/** Options of the `idx` reader: an images file and a labels file of the MNIST family. */
export interface IdxReaderOptions {
  /** Path of the images (features) IDX file, raw or gzip-compressed (detected from content). */
  readonly images: string;
  /** Path of the labels IDX file: one class id per image (1-D, or N×1). */
  readonly labels: string;
  /** How labels are encoded in the dataset. Default: 'index'. */
  readonly labelEncoding?: 'index' | 'onehot';
  /**
   * Number of classes. Default: the largest label + 1 (10 for MNIST). Set it
   * when a file may lack the top classes (a small subset) so shapes match.
   */
  readonly numClasses?: number;
}

const WHERE = 'idx reader';

/**
 * Reads IDX image/label pairs. featureShape is the images' dimensions after the
 * first (e.g. [28, 28]); callers reshape (e.g. to [28, 28, 1] or [784]) as the
 * model needs. Values are the file's values as float32, not normalised.
 */
export const idxReader: DatasetReader<IdxReaderOptions> = {
  format: 'idx',
  async read(input: IdxReaderOptions): Promise<Dataset> {
    const options = checkObject(input, WHERE);
    const imagesPath = checkString(options['images'], WHERE, 'images');
    const labelsPath = checkString(options['labels'], WHERE, 'labels');
    const labelEncoding = checkOneOf(options['labelEncoding'], WHERE, 'labelEncoding', ['index', 'onehot'] as const, 'index');
    const givenClasses = checkNumClasses(options['numClasses'], WHERE);

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
    const numClasses = givenClasses ?? inferNumClasses(labels.data, labelsPath);
    const encoded = encodeLabels(labels.data, labelEncoding, numClasses);
    return {
      numSamples,
      featureShape: images.dims.length > 1 ? images.dims.slice(1) : [1],
      labelShape: encoded.labelShape,
      labelEncoding,
      numClasses,
      features: images.data,
      labels: encoded.labels,
      source: imagesPath,
    };
  },
};

function checkLabelShape(labels: IdxArray, file: string, at: (offset: number) => { byteOffset: number }): void {
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
