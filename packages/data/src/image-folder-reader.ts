import type { Dataset } from './dataset.js';
import { checkImageFolderOptions, checkImageSize, decodeImage, DECODE_WINDOW, imageShape, listImageFolder } from './image-folder.js';
import type { ImageFolderReaderOptions } from './image-folder.js';
import { encodeLabels } from './labels.js';
import type { DatasetReader } from './reader-registry.js';

export type { ImageFolderReaderOptions } from './image-folder.js';

/**
 * Reads an image folder tree into a dataset of featureShape [height, width,
 * channels], features as float32 pixel values 0..255 (not normalised).
 * Samples are ordered by class, then by file name. Any image that does not
 * decode fails the read (DTRAIN_DATA_IMAGE naming it).
 */
export const imageFolderReader: DatasetReader<ImageFolderReaderOptions> = {
  format: 'images',
  async read(input: ImageFolderReaderOptions): Promise<Dataset> {
    const { root, target, givenClasses, labelEncoding } = checkImageFolderOptions(input);
    const { classNames, folders, firstFile } = await listImageFolder(root, givenClasses);
    const entries = folders.flatMap((folder) => folder.files.map((file) => ({ file, classId: folder.classId })));

    // Without a target shape, the first image sets it: its size and whether it is grayscale.
    const shape = await imageShape(target, firstFile);
    const [height, width, channels] = shape as [number, number, number];
    const sampleSize = height * width * channels;
    const features = new Float32Array(entries.length * sampleSize);
    const resize = target === undefined ? undefined : { width, height };
    for (let start = 0; start < entries.length; start += DECODE_WINDOW) {
      const window = entries.slice(start, start + DECODE_WINDOW);
      const decoded = await Promise.all(window.map((entry) => decodeImage(entry.file, entry.file, channels, resize)));
      decoded.forEach((image, i) => {
        checkImageSize(image, window[i]?.file as string, shape, firstFile);
        features.set(image.data, (start + i) * sampleSize);
      });
    }
    const rawLabels = Float32Array.from(entries, (e) => e.classId);
    const encoded = encodeLabels(rawLabels, labelEncoding, classNames.length);
    return {
      numSamples: entries.length,
      featureShape: [height, width, channels],
      labelShape: encoded.labelShape,
      labelEncoding,
      numClasses: classNames.length,
      features,
      labels: encoded.labels,
      source: root,
    };
  },
};
