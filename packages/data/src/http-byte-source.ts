import type { ByteSource } from './byte-source.js';
import { asUnreadable, DataError, dataErrorAt } from './data-error.js';

/** True for an `http://` or `https://` location. */
export function isHttpUrl(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

/** Options of an {@link HttpByteSource}. */
export interface HttpByteSourceOptions {
  /** Extra request headers (e.g. `Authorization`). Default: none. */
  readonly headers?: Readonly<Record<string, string>>;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

/**
 * A file behind an http(s) URL, read with `Range: bytes=a-b` requests (global
 * fetch). Only a 206 whose Content-Range is the range asked for is accepted:
 * a server that ignores ranges answers 200 with the whole file, and silently
 * taking that would download a shard per sample.
 */
export class HttpByteSource implements ByteSource {
  readonly name: string;
  readonly #headers: Readonly<Record<string, string>>;
  #size: Promise<number> | undefined;

  constructor(url: string, options: HttpByteSourceOptions = {}) {
    if (!isHttpUrl(url)) throw new DataError('DTRAIN_DATA_OPTIONS', `${url}: expected an http:// or https:// URL`, { file: url });
    this.name = url;
    this.#headers = options.headers ?? {};
  }

  /** From a HEAD's Content-Length, else from a `bytes=0-0` range's Content-Range total; asked once. */
  size(): Promise<number> {
    this.#size ??= this.#fetchSize();
    // A failed attempt is not remembered: the next call asks again.
    this.#size.catch(() => {
      this.#size = undefined;
    });
    return this.#size;
  }

  /**
   * Any failure — the server unreachable or answering other than 206 with
   * the range asked for (404, 416 past the end, 200 with the whole file), a
   * short body — is DTRAIN_DATA_UNREADABLE naming the URL: the shard was
   * indexed, so it is the shard that cannot be read now.
   */
  async read(offset: number, length: number): Promise<Uint8Array> {
    try {
      return await this.#read(offset, length);
    } catch (error) {
      throw asUnreadable(error, this.name);
    }
  }

  async #read(offset: number, length: number): Promise<Uint8Array> {
    if (length === 0) return new Uint8Array(0);
    const last = offset + length - 1;
    const response = await this.#fetch('GET', `bytes=${offset}-${last}`);
    if (response.status === 416) {
      await response.body?.cancel();
      throw dataErrorAt('DTRAIN_DATA_UNREADABLE', this.name, { byteOffset: offset }, `file ends early; the server has no bytes ${offset}-${last} (416)`);
    }
    if (response.status === 200) {
      // Stop the download: this is the whole file.
      await response.body?.cancel();
      throw this.#error('DTRAIN_DATA_READ', `the server answered 200 to a range request (bytes=${offset}-${last}); it must support HTTP range requests (206) for random access`);
    }
    this.#checkOk(response);
    const range = CONTENT_RANGE.exec(response.headers.get('content-range') ?? '');
    if (response.status !== 206 || range === null || Number(range[1]) !== offset || Number(range[2]) !== last) {
      await response.body?.cancel();
      const got = response.headers.get('content-range') ?? 'no Content-Range';
      throw this.#error('DTRAIN_DATA_READ', `expected 206 with Content-Range bytes ${offset}-${last}/…, got ${response.status} with ${got}`);
    }
    const body = new Uint8Array(await this.#body(response));
    if (body.length !== length) {
      throw this.#error('DTRAIN_DATA_READ', `short body: expected ${length} bytes for bytes=${offset}-${last}, received ${body.length}`);
    }
    return body;
  }

  async #fetchSize(): Promise<number> {
    const head = await this.#fetch('HEAD');
    this.#checkOk(head);
    const length = head.headers.get('content-length');
    // A gzip-encoded HEAD would give the compressed length; only trust an identity one.
    const encoded = (head.headers.get('content-encoding') ?? 'identity') !== 'identity';
    if (length !== null && /^\d+$/.test(length) && !encoded) return Number(length);
    const probe = await this.#fetch('GET', 'bytes=0-0');
    await probe.body?.cancel();
    this.#checkOk(probe);
    const total = CONTENT_RANGE.exec(probe.headers.get('content-range') ?? '')?.[3];
    if (probe.status !== 206 || total === undefined || total === '*') {
      throw this.#error('DTRAIN_DATA_READ', `cannot learn the file size: no Content-Length on HEAD and no Content-Range total on a bytes=0-0 request (status ${probe.status})`);
    }
    return Number(total);
  }

  async #fetch(method: 'GET' | 'HEAD', range?: string): Promise<Response> {
    // identity: a compressed body would make byte ranges refer to other bytes.
    const headers: Record<string, string> = { ...this.#headers, 'accept-encoding': 'identity' };
    if (range !== undefined) headers['range'] = range;
    try {
      return await fetch(this.name, { method, headers });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      const reason = error instanceof Error ? error.message : String(error);
      throw this.#error('DTRAIN_DATA_READ', `cannot be fetched (${reason}${cause})`, error);
    }
  }

  async #body(response: Response): Promise<ArrayBuffer> {
    try {
      return await response.arrayBuffer();
    } catch (error) {
      throw this.#error('DTRAIN_DATA_READ', `the response body broke off (${error instanceof Error ? error.message : String(error)})`, error);
    }
  }

  #checkOk(response: Response): void {
    if (response.status === 404 || response.status === 410) {
      void response.body?.cancel();
      throw new DataError('DTRAIN_DATA_NOT_FOUND', `${this.name}: file not found (HTTP ${response.status})`, { file: this.name });
    }
    if (!response.ok) {
      void response.body?.cancel();
      throw this.#error('DTRAIN_DATA_READ', `cannot be read (HTTP ${response.status} ${response.statusText})`);
    }
  }

  #error(code: DataError['code'], what: string, cause?: unknown): DataError {
    return new DataError(code, `${this.name}: ${what}`, { file: this.name, ...(cause === undefined ? {} : { cause }) });
  }
}
