import { openByteSource } from './byte-source.js';
import type { ByteSourceFactory } from './byte-source.js';
import { DataError } from './data-error.js';
import type { CsvReaderOptions } from './csv-record.js';
import type { IdxReaderOptions } from './idx-reader.js';
import { openIndexedCsv } from './indexed-csv.js';
import type { IndexedDataset } from './indexed-dataset.js';
import { openIndexedIdx } from './indexed-idx.js';
import { openIndexedImages } from './indexed-images.js';
import type { ImageFolderReaderOptions } from './image-folder.js';
import { openIndexedJsonl } from './indexed-jsonl.js';
import { openIndexedNpy } from './indexed-npy.js';
import type { JsonlReaderOptions } from './jsonl-record.js';
import type { NpyReaderOptions } from './npy-reader.js';

/** Options of the formats that can be read by sample, by format name: the whole-file readers' own. */
export interface IndexedFormatOptions {
  idx: IdxReaderOptions;
  npy: NpyReaderOptions;
  jsonl: JsonlReaderOptions;
  csv: CsvReaderOptions;
  /** Local folders only (see {@link openIndexedImages}). */
  images: ImageFolderReaderOptions;
}

export type IndexedFormat = keyof IndexedFormatOptions;

/** Where an indexed dataset's bytes come from. */
export interface OpenIndexedOptions {
  /** Opens each shard location (path or URL). Default: {@link openByteSource} (local files and http(s) URLs). */
  readonly openSource?: ByteSourceFactory;
}

const OPENERS: { readonly [F in IndexedFormat]: (options: IndexedFormatOptions[F], open: ByteSourceFactory) => Promise<IndexedDataset> } = {
  idx: openIndexedIdx,
  npy: openIndexedNpy,
  jsonl: openIndexedJsonl,
  csv: openIndexedCsv,
  images: openIndexedImages,
};

/**
 * The options of each indexed format that name its shards (paths, globs or
 * URLs), one file per shard in each; paired formats have two lists of the
 * same length. Images have none: a folder, each class folder a shard.
 */
export const SHARD_OPTION_KEYS: { readonly [F in IndexedFormat]: readonly string[] } = {
  idx: ['images', 'labels'],
  npy: ['features', 'labels'],
  jsonl: ['path'],
  csv: ['path'],
  images: [],
};

/** The formats {@link openIndexed} takes, sorted. */
export const INDEXED_FORMATS: readonly IndexedFormat[] = (Object.keys(OPENERS) as IndexedFormat[]).sort();

/**
 * Opens a dataset for reading by sample id without reading its contents
 * (see {@link IndexedDataset}). `options` are the format's reader options; a
 * shard may be a path, a glob or an http(s) URL (an image folder: a local
 * path only). An unknown format is
 * DTRAIN_DATA_FORMAT naming the ones that can be indexed.
 */
export function openIndexed<F extends IndexedFormat>(format: F, options: IndexedFormatOptions[F], how?: OpenIndexedOptions): Promise<IndexedDataset>;
export function openIndexed(format: string, options: unknown, how?: OpenIndexedOptions): Promise<IndexedDataset>;
export async function openIndexed(format: string, options: unknown, how: OpenIndexedOptions = {}): Promise<IndexedDataset> {
  if (!Object.hasOwn(OPENERS, format)) {
    throw new DataError('DTRAIN_DATA_FORMAT', `format '${format}' cannot be read by sample; expected one of ${INDEXED_FORMATS.map((f) => `'${f}'`).join(', ')}`);
  }
  const opener = OPENERS[format as IndexedFormat] as (options: unknown, open: ByteSourceFactory) => Promise<IndexedDataset>;
  return opener(options, how.openSource ?? openByteSource);
}
