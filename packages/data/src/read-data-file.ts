import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { DataError } from './data-error.js';

const gunzipAsync = promisify(gunzip);

/** The bytes of a data file and whether they were gzip-compressed on disk. */
export interface DataFileBytes {
  readonly bytes: Uint8Array;
  readonly gzipped: boolean;
}

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Reads a whole data file, transparently gunzipping it. Compression is detected
 * from the content (gzip magic), not the name: people rename files.
 * Errors are DataErrors naming the file: NOT_FOUND, READ, GZIP or TRUNCATED.
 */
export async function readDataFile(path: string): Promise<DataFileBytes> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new DataError('DTRAIN_DATA_NOT_FOUND', `${path}: file not found`, { file: path, cause: error });
    }
    const reason = code === 'EISDIR' ? 'is a directory, expected a file' : `cannot be read (${code ?? String(error)})`;
    throw new DataError('DTRAIN_DATA_READ', `${path}: ${reason}`, { file: path, cause: error });
  }
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  if (!isGzip(bytes)) return { bytes, gzipped: false };
  try {
    const inflated = await gunzipAsync(raw);
    return { bytes: new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength), gzipped: true };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'Z_BUF_ERROR') {
      throw new DataError(
        'DTRAIN_DATA_TRUNCATED',
        `${path}: gzip stream ends early (${raw.byteLength} bytes on disk); the file is truncated`,
        { file: path, position: { byteOffset: raw.byteLength }, cause: error },
      );
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataError('DTRAIN_DATA_GZIP', `${path}: corrupt gzip data (${reason})`, { file: path, cause: error });
  }
}
