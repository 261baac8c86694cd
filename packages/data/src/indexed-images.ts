import { badRowOf } from './bad-sample.js';
import type { BadRow } from './bad-sample.js';
import type { ByteSource, ByteSourceFactory } from './byte-source.js';
import { asUnreadable, DataError } from './data-error.js';
import { isHttpUrl } from './http-byte-source.js';
import { checkImageFolderOptions, checkImageSize, decodeImage, DECODE_WINDOW, imageShape, IMAGES_WHERE, listImageFolder } from './image-folder.js';
import type { ClassFolder, ImageFolderReaderOptions } from './image-folder.js';
import { indexedDataset } from './indexed-dataset.js';
import type { IndexedDataset, RunRows } from './indexed-dataset.js';
import type { SampleRun } from './sample-runs.js';
import { createTaskLimiter } from './task-limiter.js';

/**
 * Opens an image folder tree (the `images` reader's options: one subfolder
 * per class, PNG/JPEG files) for reading by sample. Opening lists the files
 * and decodes none, except that without `featureShape` the first image's
 * header sets the shape, as for the whole-file reader. Each class folder is
 * a shard; samples are ordered by class, then by file name, with the same
 * class ids. Reads decode only the files asked for, a few at a time, into
 * bytes (featureType 'uint8', pixel values 0..255).
 *
 * A file that does not decode, or decodes to another size than the first
 * (without featureShape), is a bad row of the batch naming the file; a file
 * that cannot be read at all (it vanished, its permissions changed) rejects
 * the read with DTRAIN_DATA_UNREADABLE naming it.
 *
 * Local (or mounted) folders only: a folder cannot be listed over http, so
 * an http(s) `path` is DTRAIN_DATA_OPTIONS. Image files are read through
 * `open`, so a custom byte source factory sees every read.
 */
export async function openIndexedImages(input: ImageFolderReaderOptions, open: ByteSourceFactory): Promise<IndexedDataset> {
  const { root, target, givenClasses, labelEncoding } = checkImageFolderOptions(input);
  if (isHttpUrl(root)) {
    throw new DataError(
      'DTRAIN_DATA_OPTIONS',
      `${IMAGES_WHERE}: path: ${root}: an image folder is listed from the file system and cannot be read over http(s); expected a local or mounted folder`,
      { file: root },
    );
  }
  const { classNames, folders, firstFile } = await listImageFolder(root, givenClasses);
  const shape = await imageShape(target, firstFile);
  const [height, width, channels] = shape as [number, number, number];
  const sampleSize = height * width * channels;
  const resize = target === undefined ? undefined : { width, height };
  // One limit for all the runs of a read (and concurrent reads): random ids make runs of one file each.
  const limit = createTaskLimiter(DECODE_WINDOW);

  const readRun = async (run: SampleRun): Promise<RunRows> => {
    const { files } = folders[run.shard] as ClassFolder;
    const out = new Uint8Array(run.count * sampleSize);
    const bad: BadRow[] = [];
    const readOne = async (k: number): Promise<void> => {
      const file = files[run.first + k] as string;
      const bytes = await readImageFile(file, open);
      try {
        const image = await decodeImage(bytes, file, channels, resize);
        checkImageSize(image, file, shape, firstFile);
        out.set(image.data, k * sampleSize);
      } catch (error) {
        const row = badRowOf(error, k);
        if (row === undefined) throw error;
        bad.push(row);
      }
    };
    await Promise.all(Array.from({ length: run.count }, (_, k) => limit(() => readOne(k))));
    return { features: out, bad: bad.sort((a, b) => a.row - b.row) };
  };

  return indexedDataset({
    format: 'images',
    featureShape: [height, width, channels],
    labelEncoding,
    numClasses: classNames.length,
    featureType: 'uint8',
    shards: folders.map((folder) => ({ file: folder.path, numSamples: folder.files.length })),
    source: root,
    rawLabels: Float32Array.from(folders.flatMap((folder) => folder.files.map(() => folder.classId))),
    readRun,
    // Nothing is held open between reads: each file is opened, read and closed.
    close: async () => undefined,
  });
}

/** The whole of one image file; any failure is DTRAIN_DATA_UNREADABLE naming it (the file was listed, so it is gone or unreadable now). */
async function readImageFile(file: string, open: ByteSourceFactory): Promise<Uint8Array> {
  let source: ByteSource | undefined;
  try {
    source = await open(file);
    return await source.read(0, await source.size());
  } catch (error) {
    throw asUnreadable(error, file);
  } finally {
    await source?.close?.();
  }
}
