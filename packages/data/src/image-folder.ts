import { readdir } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import type Sharp from 'sharp';
import { DataError, dataErrorAt } from './data-error.js';
import { checkClassNames, checkObject, checkOneOf, checkShape, checkString } from './check-options.js';

/*
 * An image folder tree — one subfolder per class — and what both of its
 * readers (whole-file and by sample) share: the options and their checks,
 * the listing, the shape rule, decoding with sharp. Both therefore accept
 * the same folders, order samples the same way and name the same errors.
 */

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

/** {@link ImageFolderReaderOptions} after their run-time checks. */
export interface CheckedImageFolderOptions {
  readonly root: string;
  /** The shape to convert and resize to; undefined: the first image's own. */
  readonly target: readonly number[] | undefined;
  readonly givenClasses: readonly string[] | undefined;
  readonly labelEncoding: 'index' | 'onehot';
}

export const IMAGES_WHERE = 'images reader';
/** Files taken as images, by lower-cased extension; anything else (README, .DS_Store) is skipped. */
const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];
/** Images decoded at once: enough to keep libvips' threads busy, few enough to bound memory. */
export const DECODE_WINDOW = 8;

/** Checks the options a user gave (DTRAIN_DATA_OPTIONS naming the field). */
export function checkImageFolderOptions(input: unknown): CheckedImageFolderOptions {
  const options = checkObject(input, IMAGES_WHERE);
  const root = checkString(options['path'], IMAGES_WHERE, 'path');
  const target = options['featureShape'] === undefined ? undefined : checkImageShape(options['featureShape']);
  const givenClasses = checkClassNames(options['classNames'], IMAGES_WHERE);
  const labelEncoding = checkOneOf(options['labelEncoding'], IMAGES_WHERE, 'labelEncoding', ['index', 'onehot'] as const, 'index');
  return { root, target, givenClasses, labelEncoding };
}

function checkImageShape(value: unknown): number[] {
  const shape = checkShape(value, IMAGES_WHERE, 'featureShape');
  if (shape.length !== 3 || (shape[2] !== 1 && shape[2] !== 3)) {
    throw new DataError('DTRAIN_DATA_OPTIONS', `${IMAGES_WHERE}: featureShape: expected [height, width, channels] with channels 1 (grayscale) or 3 (RGB), got ${JSON.stringify(value)}`);
  }
  return shape;
}

/** One class folder and its image files (full paths, sorted by name). */
export interface ClassFolder {
  readonly path: string;
  readonly classId: number;
  readonly files: readonly string[];
}

/** What a folder tree holds: its classes, and its class folders in class-id order. */
export interface ImageFolderListing {
  readonly classNames: readonly string[];
  /** Samples are ordered by these folders, then by file name within each. */
  readonly folders: readonly ClassFolder[];
  /** The first image: the one whose size (and grayscale or not) sets the shape when none is given. */
  readonly firstFile: string;
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Lists a folder tree without opening an image: the class subfolders
 * (hidden ones skipped), each one's PNG/JPEG files. A tree without classes
 * or without images is DTRAIN_DATA_SHAPE; a folder not among the given
 * classNames is DTRAIN_DATA_OPTIONS naming it.
 */
export async function listImageFolder(root: string, givenClasses: readonly string[] | undefined): Promise<ImageFolderListing> {
  const names = (await listFolder(root)).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort(byCodePoint);
  if (names.length === 0) throw dataErrorAt('DTRAIN_DATA_SHAPE', root, undefined, 'has no class subfolders; expected one folder per class');
  for (const name of names) {
    if (givenClasses !== undefined && !givenClasses.includes(name)) {
      throw dataErrorAt('DTRAIN_DATA_OPTIONS', join(root, name), undefined, `folder ${JSON.stringify(name)} is not among the classNames ${JSON.stringify(givenClasses)}`);
    }
  }
  const classNames = givenClasses ?? names;
  const folders: ClassFolder[] = [];
  for (const name of [...names].sort((a, b) => classNames.indexOf(a) - classNames.indexOf(b))) {
    const files = (await listFolder(join(root, name)))
      .filter((e) => e.isFile() && !e.name.startsWith('.') && IMAGE_EXTENSIONS.some((ext) => e.name.toLowerCase().endsWith(ext)))
      .map((e) => e.name)
      .sort(byCodePoint);
    folders.push({ path: join(root, name), classId: classNames.indexOf(name), files: files.map((file) => join(root, name, file)) });
  }
  const firstFile = folders.find((f) => f.files.length > 0)?.files[0];
  if (firstFile === undefined) throw dataErrorAt('DTRAIN_DATA_SHAPE', root, undefined, `holds no ${IMAGE_EXTENSIONS.join('/')} files in its class folders`);
  return { classNames, folders, firstFile };
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

/**
 * [height, width, channels] of the images: `target` when given, else the
 * first image's as stored (read from its header, not decoded): 1 channel if
 * grayscale (alpha aside), else 3.
 */
export async function imageShape(target: readonly number[] | undefined, firstFile: string): Promise<readonly number[]> {
  if (target !== undefined) return target;
  try {
    const sharp = await loadSharp();
    const { width, height, channels, hasAlpha } = await sharp(firstFile).metadata();
    return [height, width, channels - (hasAlpha ? 1 : 0) === 1 ? 1 : 3];
  } catch (error) {
    throw decodeError(firstFile, error);
  }
}

/** Decoded pixels of one image, channels interleaved, row-major. */
export interface DecodedImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/**
 * Decodes one image — from its path, or from its bytes already read — to
 * 8-bit pixels with `channels` (1 or 3) channels, stretched to `resize` when
 * given. Any decoder failure, a truncated file included, is
 * DTRAIN_DATA_IMAGE naming `file`.
 */
export async function decodeImage(input: string | Uint8Array, file: string, channels: number, resize: { width: number; height: number } | undefined): Promise<DecodedImage> {
  // failOn 'warning': a truncated JPEG decodes with a warning into grey rows; a sample that is half garbage is worse than an error.
  const sharp = await loadSharp();
  let pipeline = sharp(input, { failOn: 'warning' }).removeAlpha();
  pipeline = channels === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
  if (resize !== undefined) pipeline = pipeline.resize(resize.width, resize.height, { fit: 'fill' });
  try {
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels };
  } catch (error) {
    throw decodeError(file, error);
  }
}

/**
 * DTRAIN_DATA_SHAPE naming `file` when a decoded image is not the size of
 * the first (only possible without a target shape, which resizes all), or
 * not of the channels asked for.
 */
export function checkImageSize(image: DecodedImage, file: string, shape: readonly number[], firstFile: string): void {
  const [height, width, channels] = shape as [number, number, number];
  if (image.width !== width || image.height !== height) {
    throw dataErrorAt(
      'DTRAIN_DATA_SHAPE',
      file,
      undefined,
      `image is ${image.width}×${image.height} but ${firstFile} is ${width}×${height}; every image must share one size (or set featureShape to resize them)`,
    );
  }
  if (image.channels !== channels || image.data.length !== height * width * channels) {
    throw dataErrorAt('DTRAIN_DATA_SHAPE', file, undefined, `image decodes to ${image.channels} channels; expected ${channels}`);
  }
}

function decodeError(file: string, error: unknown): DataError {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new DataError('DTRAIN_DATA_NOT_FOUND', `${file}: file not found`, { file, cause: error });
  const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]?.trim() ?? '';
  return dataErrorAt('DTRAIN_DATA_IMAGE', file, undefined, `does not decode as a PNG or JPEG image (${reason})`, error);
}
