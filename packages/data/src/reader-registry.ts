import { DataError } from './data-error.js';
import type { Dataset } from './dataset.js';
import { csvReader } from './csv-reader.js';
import type { CsvReaderOptions } from './csv-reader.js';
import { idxReader } from './idx-reader.js';
import { imageFolderReader } from './image-folder-reader.js';
import type { ImageFolderReaderOptions } from './image-folder-reader.js';
import { jsonlReader } from './jsonl-reader.js';
import type { JsonlReaderOptions } from './jsonl-reader.js';
import { npyReader } from './npy-reader.js';
import type { NpyReaderOptions } from './npy-reader.js';
import type { IdxReaderOptions } from './idx-reader.js';
import { syntheticReader } from './synthetic-reader.js';
import type { SyntheticReaderOptions } from './synthetic-reader.js';

/**
 * Reads one dataset format into memory. Options usually come from a user's job
 * file, so `read` checks them at run time (DTRAIN_DATA_OPTIONS) whatever the
 * static type says.
 */
export interface DatasetReader<Options> {
  /** The name job files use for this format, e.g. 'idx'. */
  readonly format: string;
  read(options: Options): Promise<Dataset>;
}

/** Options of the built-in readers, by format name. */
export interface BuiltinReaderOptions {
  idx: IdxReaderOptions;
  csv: CsvReaderOptions;
  jsonl: JsonlReaderOptions;
  npy: NpyReaderOptions;
  images: ImageFolderReaderOptions;
  synthetic: SyntheticReaderOptions;
}

/**
 * The set of readers a coordinator or tool can use, passed around rather than
 * global so tests and embedders choose their own.
 */
export class ReaderRegistry {
  readonly #readers = new Map<string, DatasetReader<never>>();

  /** Adds a reader; a second reader for the same format is a mistake and throws. */
  register<Options>(reader: DatasetReader<Options>): this {
    if (this.#readers.has(reader.format)) {
      throw new DataError('DTRAIN_DATA_FORMAT', `a reader for format '${reader.format}' is already registered`);
    }
    this.#readers.set(reader.format, reader);
    return this;
  }

  has(format: string): boolean {
    return this.#readers.has(format);
  }

  /** Registered format names, sorted. */
  formats(): string[] {
    return [...this.#readers.keys()].sort();
  }

  /** The reader for `format`; throws DTRAIN_DATA_FORMAT naming the known formats when there is none. */
  get<F extends keyof BuiltinReaderOptions>(format: F): DatasetReader<BuiltinReaderOptions[F]>;
  get(format: string): DatasetReader<unknown>;
  get(format: string): DatasetReader<unknown> {
    const reader = this.#readers.get(format);
    if (reader === undefined) {
      const known = this.formats().map((f) => `'${f}'`).join(', ');
      throw new DataError('DTRAIN_DATA_FORMAT', `unknown dataset format '${format}'; expected one of ${known || '(none registered)'}`);
    }
    // Readers check their options at run time, so handing them `unknown` is safe.
    return reader as DatasetReader<unknown>;
  }

  /** Shorthand for `get(format).read(options)`. */
  read(format: string, options: unknown): Promise<Dataset> {
    return this.get(format).read(options);
  }
}

/** A registry holding the built-in readers: idx, csv, jsonl, npy, images and synthetic. */
export function createReaderRegistry(): ReaderRegistry {
  return new ReaderRegistry()
    .register(idxReader)
    .register(csvReader)
    .register(jsonlReader)
    .register(npyReader)
    .register(imageFolderReader)
    .register(syntheticReader);
}
