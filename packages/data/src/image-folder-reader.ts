import { readdir } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import type Sharp from 'sharp';
import { DataError, dataErrorAt } from './data-error.js';
import type { Dataset } from './dataset.js';
import { checkClassNames, checkObject, checkOneOf, checkShape, checkString } from './check-options.js';
import { encodeLabels } from './labels.js';
import type { DatasetReader } from './reader-registry.js';

/**
 * Options of the `images` reader: a folder with one subfolder per class,
 * holding PNG and JPEG files (`train/cat/001.png`, `train/dog/a.jpg`).
 */
export interface ImageFolderReaderOptions {
  /** The root folder; each subfolder is a class, named by the folder. */
  readonly path: string;
  /**
   * [height, width, channels] with channels 1 (grayscale) or 3 (RGB): every
   * image is converted and resized (stretched) to it. Default: the images'
   * own size, which must then be the same for all, and 1 channel when the
   * first image is grayscale, else 3.
   */
  readonly featureShape?: readonly number[];
  /**
   * The classes in class-id order. Every subfolder must be one of them; a
   * class may lack a folder (no samples). Default: the subfolder names,
   * sorted by code point.
   */
  readonly classNames?: readonly string[];
  /** 'index' (class id) or 'onehot'. Default: 'index'. */
  readonly labelEncoding?: 'index' | 'onehot';
}

const WHERE = 'images reader';
/** Files taken as images, by lower-cased extension; anything else (README, .DS_Store) is skipped. */
const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];
/** Images decoded at once: enough to keep libvips' threads busy, few enough to bound memory. */
const DECODE_WINDOW = 8;

/**
 * sharp loads libvips, a native library of some megabytes: load it when
 * images are read, not whenever @dtrain/data is imported (workers import it
 * for chunks and never decode an image).
 */
let sharpModule: Promise<typeof Sharp> | undefined;
function loadSharp(): Promise<typeof Sharp> {
  sharpModule ??= import('sharp').then((m) => m.default);
  return sharpModule;
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** One image file and its class id. */
interface ImageEntry {
  readonly file: string;
  readonly classId: number;
}

/** Decoded pixels of one image, channels interleaved, row-major. */
interface Decoded {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/**
 * Reads an image folder tree into a dataset of featureShape [height, width,
 * channels], features as float32 pixel values 0..255 (not normalised).
 * Samples are ordered by class, then by file name.
 */
export const imageFolderReader: DatasetReader<ImageFolderReaderOptions> = {
  format: 'images',
  async read(input: ImageFolderReaderOptions): Promise<Dataset> {
    const options = checkObject(input, WHERE);
    const root = checkString(options['path'], WHERE, 'path');
    const target = options['featureShape'] === undefined ? undefined : checkImageShape(options['featureShape']);
    const givenClasses = checkClassNames(options['classNames'], WHERE);
    const labelEncoding = checkOneOf(options['labelEncoding'], WHERE, 'labelEncoding', ['index', 'onehot'] as const, 'index');

    const folders = (await listFolder(root)).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort(byCodePoint);
    if (folders.length === 0) throw dataErrorAt('DTRAIN_DATA_SHAPE', root, undefined, 'has no class subfolders; expected one folder per class');
    for (const folder of folders) {
      if (givenClasses !== undefined && !givenClasses.includes(folder)) {
        throw dataErrorAt('DTRAIN_DATA_OPTIONS', join(root, folder), undefined, `folder ${JSON.stringify(folder)} is not among the classNames ${JSON.stringify(givenClasses)}`);
      }
    }
    const classNames = givenClasses ?? folders;
    const entries: ImageEntry[] = [];
    for (const folder of [...folders].sort((a, b) => classNames.indexOf(a) - classNames.indexOf(b))) {
      const files = (await listFolder(join(root, folder)))
        .filter((e) => e.isFile() && !e.name.startsWith('.') && IMAGE_EXTENSIONS.some((ext) => e.name.toLowerCase().endsWith(ext)))
        .map((e) => e.name)
        .sort(byCodePoint);
      entries.push(...files.map((name) => ({ file: join(root, folder, name), classId: classNames.indexOf(folder) })));
    }
    const first = entries[0];
    if (first === undefined) throw dataErrorAt('DTRAIN_DATA_SHAPE', root, undefined, `holds no ${IMAGE_EXTENSIONS.join('/')} files in its class folders`);

    // Without a target shape, the first image sets it: its size and whether it is grayscale.
    const shape = target ?? (await ownShape(first.file));
    const [height, width, channels] = shape as [number, number, number];
    const sampleSize = height * width * channels;
    const features = new Float32Array(entries.length * sampleSize);
    const resize = target === undefined ? undefined : { width, height };
    for (let start = 0; start < entries.length; start += DECODE_WINDOW) {
      const window = entries.slice(start, start + DECODE_WINDOW);
      const decoded = await Promise.all(window.map((entry) => decode(entry.file, channels, resize)));
      decoded.forEach((image, i) => {
        const file = (window[i] as ImageEntry).file;
        if (image.width !== width || image.height !== height) {
          throw dataErrorAt(
            'DTRAIN_DATA_SHAPE',
            file,
            undefined,
            `image is ${image.width}×${image.height} but ${first.file} is ${width}×${height}; every image must share one size (or set featureShape to resize them)`,
          );
        }
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

function checkImageShape(value: unknown): number[] {
  const shape = checkShape(value, WHERE, 'featureShape');
  if (shape.length !== 3 || (shape[2] !== 1 && shape[2] !== 3)) {
    throw new DataError('DTRAIN_DATA_OPTIONS', `${WHERE}: featureShape: expected [height, width, channels] with channels 1 (grayscale) or 3 (RGB), got ${JSON.stringify(value)}`);
  }
  return shape;
}

/** Entries of a folder; a missing one is DTRAIN_DATA_NOT_FOUND as for any data file. */
async function listFolder(path: string): Promise<Dirent[]> {
  try {
    return await readdir(path, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError('DTRAIN_DATA_NOT_FOUND', `${path}: file not found`, { file: path, cause: error });
    const reason = code === 'ENOTDIR' ? 'is a file, expected a folder of class subfolders' : `cannot be read (${code ?? String(error)})`;
    throw new DataError('DTRAIN_DATA_READ', `${path}: ${reason}`, { file: path, cause: error });
  }
}

/** [height, width, channels] of an image as stored: 1 channel if grayscale (alpha aside), else 3. */
async function ownShape(file: string): Promise<number[]> {
  try {
    const sharp = await loadSharp();
    const { width, height, channels, hasAlpha } = await sharp(file).metadata();
    return [height, width, channels - (hasAlpha ? 1 : 0) === 1 ? 1 : 3];
  } catch (error) {
    throw decodeError(file, error);
  }
}

function decodeError(file: string, error: unknown): DataError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new DataError('DTRAIN_DATA_NOT_FOUND', `${file}: file not found`, { file, cause: error });
  const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]?.trim() ?? '';
  return dataErrorAt('DTRAIN_DATA_IMAGE', file, undefined, `does not decode as a PNG or JPEG image (${reason})`, error);
}

/**
 * Decodes one image to 8-bit pixels with `channels` (1 or 3) channels,
 * stretched to `resize` when given. Any decoder
 * failure, a truncated file included, is DTRAIN_DATA_IMAGE naming the file.
 */
async function decode(file: string, channels: number, resize: { width: number; height: number } | undefined): Promise<Decoded> {
  // failOn 'warning': a truncated JPEG decodes with a warning into grey rows; a sample that is half garbage is worse than an error.
  const sharp = await loadSharp();
  let pipeline = sharp(file, { failOn: 'warning' }).removeAlpha();
  pipeline = channels === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
  if (resize !== undefined) pipeline = pipeline.resize(resize.width, resize.height, { fit: 'fill' });
  try {
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels };
  } catch (error) {
    throw decodeError(file, error);
  }
}
