import type { ByteSource, ByteSourceFactory } from './byte-source.js';
import { DataError } from './data-error.js';
import { isHttpUrl } from './http-byte-source.js';
import { isGzip } from './read-data-file.js';
import { expandShardPaths } from './shard-paths.js';
import type { ShardPaths } from './shard-paths.js';

/**
 * The shard locations of an indexed source, in reading order. Paths and
 * globs expand as for the whole-file readers; an http(s) URL is taken as is
 * (a server has no directory to glob, and `?` in a URL is a query).
 */
export async function expandShardLocations(spec: ShardPaths): Promise<string[]> {
  const entries = typeof spec === 'string' ? [spec] : spec;
  const out: string[] = [];
  for (const entry of entries) {
    if (isHttpUrl(entry)) out.push(entry);
    else out.push(...(await expandShardPaths(entry)));
  }
  return out;
}

/** Opened byte sources, all closed together (and on a failure while opening more). */
export class OpenSources {
  readonly #sources: ByteSource[] = [];
  readonly #open: ByteSourceFactory;

  constructor(open: ByteSourceFactory) {
    this.#open = open;
  }

  async open(location: string): Promise<ByteSource> {
    const source = await this.#open(location);
    this.#sources.push(source);
    return source;
  }

  /** Runs `build` and closes everything opened if it throws. */
  async guard<T>(build: () => Promise<T>): Promise<T> {
    try {
      return await build();
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    const sources = this.#sources.splice(0);
    await Promise.all(sources.map((s) => s.close?.()));
  }
}

/**
 * The first bytes of a shard (up to `maxBytes`) and its size. A gzip shard
 * is refused: its bytes at an offset are not its samples, so it cannot be
 * read by range, and gunzipping it whole is what indexing exists to avoid.
 */
export async function readShardHead(source: ByteSource, maxBytes: number): Promise<{ readonly head: Uint8Array; readonly size: number }> {
  const size = await source.size();
  const head = await source.read(0, Math.min(size, maxBytes));
  refuseGzip(source, head);
  return { head, size };
}

/** DTRAIN_DATA_READ naming the shard when `head` starts with the gzip magic. */
export function refuseGzip(source: ByteSource, head: Uint8Array): void {
  if (isGzip(head)) {
    throw new DataError(
      'DTRAIN_DATA_READ',
      `${source.name}: is gzip-compressed and cannot be read by byte range; store shards uncompressed for random access (gunzip it)`,
      { file: source.name },
    );
  }
}
