import { FileByteSource } from './file-byte-source.js';
import { HttpByteSource, isHttpUrl } from './http-byte-source.js';

/**
 * Random access to the bytes of one file, wherever it lives (a local path, an
 * http(s) URL). Indexed datasets read through this so the same code reads a
 * shared volume and a web server; only `read` touches the bytes.
 */
export interface ByteSource {
  /** The file as the user named it (path or URL): every error names it. */
  readonly name: string;
  /** Size of the file in bytes. */
  size(): Promise<number>;
  /**
   * Exactly `length` bytes starting at `offset`. Any failure, reading past
   * the end included, is DTRAIN_DATA_UNREADABLE naming the file: callers
   * only ask for bytes their index says are there, so a failure means the
   * file cannot be read as indexed.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases what the source holds (a file descriptor); further reads fail. */
  close?(): Promise<void>;
}

/** Opens a {@link ByteSource} for a location: a path or a URL, as the dataset options name it. */
export type ByteSourceFactory = (location: string) => Promise<ByteSource>;

/** The default factory: `http://` and `https://` URLs over fetch, anything else as a local file. */
export const openByteSource: ByteSourceFactory = async (location) =>
  isHttpUrl(location) ? new HttpByteSource(location) : FileByteSource.open(location);
