import { open, readFile } from 'node:fs/promises';
import { ParameterServerError } from './parameter-server-error.js';

/**
 * Writes a file and fsyncs it before returning, so that a rename that follows
 * can't publish a name whose contents are still only in the page cache.
 * @throws ParameterServerError `DTRAIN_PS_IO` naming the file.
 */
export async function writeFileDurably(path: string, data: Uint8Array | string): Promise<void> {
  try {
    const handle = await open(path, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw ioError(`cannot write ${path}: ${describe(error)}`, path, error);
  }
}

/**
 * Fsyncs a directory so that entries created or renamed in it survive a power
 * loss. Platforms that can't open or sync a directory (Windows) are skipped:
 * their file systems order the metadata themselves.
 */
export async function syncDirectory(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF' && code !== 'EACCES') {
      throw ioError(`cannot sync directory ${path}: ${describe(error)}`, path, error);
    }
  } finally {
    await handle?.close();
  }
}

/**
 * Reads a file, or throws `DTRAIN_PS_CHECKPOINT` naming it (a missing file in
 * a saved model is a corrupt save, not a transient error).
 */
export async function readSavedFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ParameterServerError('DTRAIN_PS_CHECKPOINT', `${path}: ${missing ? 'missing' : describe(error)}`, {
      file: path,
      cause: error,
    });
  }
}

/** Parses a JSON file of a saved model or checkpoint, naming it on failure. */
export async function readSavedJson(path: string): Promise<unknown> {
  const text = (await readSavedFile(path)).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ParameterServerError('DTRAIN_PS_CHECKPOINT', `${path}: not valid JSON (${describe(error)})`, {
      file: path,
      cause: error,
    });
  }
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function ioError(message: string, file: string, cause: unknown): ParameterServerError {
  return new ParameterServerError('DTRAIN_PS_IO', message, { file, cause });
}
