import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readCheckpoint, validateCheckpoint, writeCheckpointFiles, CHECKPOINT_FILES } from './checkpoint-files.js';
import type { Checkpoint } from './checkpoint-files.js';
import { describe, syncDirectory, writeFileDurably } from './durable-files.js';
import { ParameterServerError } from './parameter-server-error.js';

/** Name of the pointer file holding the latest complete checkpoint's directory name. */
export const LATEST_FILE = 'LATEST';

const CHECKPOINT_DIR = /^ckpt-(\d+)$/;
const TEMP_PREFIX = '.tmp-';
const TRASH_PREFIX = '.trash-';

export interface WriteCheckpointOptions {
  /** Checkpoints to keep, newest by step; older ones are deleted. An integer ≥ 1; default 3. */
  readonly keep?: number;
  /**
   * The arrays are the caller's to give away (e.g. a snapshot gathered from
   * shard processes): they are not copied first. Default false: live
   * weights may change while the files are written, so they are copied.
   */
  readonly owned?: boolean;
}

/** `ckpt-0000000042`: zero-padded so names sort by step in any listing. */
export function checkpointDirName(step: number): string {
  return `ckpt-${String(step).padStart(10, '0')}`;
}

/**
 * Writes a checkpoint as `rootDir/ckpt-<step>/` so that a crash at any moment
 * leaves the previous one readable: files go into a temporary directory and
 * are fsynced, the directory is renamed into place, then `LATEST` is replaced
 * (temp file + rename). The rename of `LATEST` is the commit point. One writer
 * per `rootDir`. Arrays are copied before the first await, so the caller may
 * pass live weights and keep training while the files are written.
 * @returns the checkpoint directory.
 * @throws ParameterServerError `DTRAIN_PS_IO` (disk), or `DTRAIN_PS_LAYOUT` /
 * `DTRAIN_PS_CONFIG` / `DTRAIN_PS_OPTIMIZER_STATE` for a checkpoint that doesn't fit together.
 */
export async function writeCheckpoint(rootDir: string, cp: Checkpoint, options: WriteCheckpointOptions = {}): Promise<string> {
  const keep = options.keep ?? 3;
  if (!Number.isSafeInteger(keep) || keep < 1) {
    throw new ParameterServerError('DTRAIN_PS_CONFIG', `checkpoint keep must be an integer ≥ 1, got ${keep}`);
  }
  validateCheckpoint(cp);
  // Copied before the first await: the caller may commit steps while the files are written.
  if (options.owned !== true) cp = {
    ...cp,
    weights: cp.weights.slice(),
    optimizer: {
      config: cp.optimizer.config,
      state: {
        ...cp.optimizer.state,
        arrays: Object.fromEntries(Object.entries(cp.optimizer.state.arrays).map(([k, v]) => [k, v.slice()])),
      },
    },
  };
  const name = checkpointDirName(cp.training.step);
  const finalDir = join(rootDir, name);
  const tempDir = await io(rootDir, async () => {
    await mkdir(rootDir, { recursive: true });
    return mkdtemp(join(rootDir, `${TEMP_PREFIX}${name}-`));
  });
  try {
    await writeCheckpointFiles(tempDir, cp);
    await syncDirectory(tempDir);
  } catch (error) {
    await rm(tempDir, { recursive: true, force: true });
    throw error;
  }

  // Re-writing a step (a resumed job reaching it again): move the old one aside
  // rather than delete it first, so there is never a moment with neither.
  let trash: string | undefined;
  if (await exists(finalDir)) {
    trash = join(rootDir, `${TRASH_PREFIX}${name}-${process.pid}-${Date.now()}`);
    await io(finalDir, () => rename(finalDir, trash as string));
  }
  await io(finalDir, () => rename(tempDir, finalDir));
  await syncDirectory(rootDir);

  const pointerTemp = join(rootDir, `${TEMP_PREFIX}${LATEST_FILE}-${process.pid}-${Date.now()}`);
  await writeFileDurably(pointerTemp, `${name}\n`);
  await io(join(rootDir, LATEST_FILE), () => rename(pointerTemp, join(rootDir, LATEST_FILE)));
  await syncDirectory(rootDir);

  await prune(rootDir, name, keep);
  return finalDir;
}

export interface ReadLatestOptions {
  /**
   * Told of every checkpoint (or LATEST pointer) that failed its checks
   * before an older one was used: say so in one line.
   */
  readonly onRejected?: (where: string, error: ParameterServerError) => void;
  /**
   * The caller's own checks of a checkpoint that passed these (e.g. its
   * training state against what the caller expects of it): throwing a
   * `DTRAIN_PS_CHECKPOINT` ParameterServerError passes it over like any
   * other failed check.
   */
  readonly validate?: (dir: string, checkpoint: Checkpoint) => void;
}

/**
 * The newest checkpoint that passes every check: the one `LATEST` names,
 * else (no pointer, a garbled one, a directory gone or failing its checks)
 * the newest `ckpt-*` directory holding every file that does. Each rejected
 * one is reported to `onRejected`. Temporary and half-written directories
 * are never read.
 * @returns undefined when `rootDir` holds no checkpoint.
 * @throws ParameterServerError `DTRAIN_PS_CHECKPOINT` naming the file at fault, when no checkpoint passes (the newest's error).
 */
export async function readLatestCheckpoint(rootDir: string, options: ReadLatestOptions = {}): Promise<Checkpoint | undefined> {
  const entries = await listDir(rootDir);
  if (entries === undefined) return undefined;
  const errors: ParameterServerError[] = [];
  const reject = (where: string, error: ParameterServerError): void => {
    errors.push(error);
    options.onRejected?.(where, error);
  };
  const attempt = async (name: string): Promise<Checkpoint | undefined> => {
    try {
      const checkpoint = await readCheckpoint(join(rootDir, name));
      options.validate?.(join(rootDir, name), checkpoint);
      return checkpoint;
    } catch (error) {
      if (!(error instanceof ParameterServerError) || error.code !== 'DTRAIN_PS_CHECKPOINT') throw error;
      reject(join(rootDir, name), error);
      return undefined;
    }
  };
  let tried: string | undefined;
  if (entries.includes(LATEST_FILE)) {
    const pointerPath = join(rootDir, LATEST_FILE);
    const name = (await io(pointerPath, () => readFile(pointerPath, 'utf8'))).trim();
    if (!CHECKPOINT_DIR.test(name)) {
      const message = `${pointerPath}: expected a checkpoint directory name like ckpt-0000000042, got ${JSON.stringify(name.slice(0, 80))}`;
      reject(pointerPath, new ParameterServerError('DTRAIN_PS_CHECKPOINT', message, { file: pointerPath }));
    } else if (entries.includes(name)) {
      tried = name;
      const checkpoint = await attempt(name);
      if (checkpoint !== undefined) return checkpoint;
    }
  }
  for (const name of checkpointNamesNewestFirst(entries)) {
    if (name === tried) continue;
    const files = await listDir(join(rootDir, name));
    if (files === undefined || !CHECKPOINT_FILES.every((file) => files.includes(file))) continue;
    const checkpoint = await attempt(name);
    if (checkpoint !== undefined) return checkpoint;
  }
  if (errors[0] !== undefined) throw errors[0];
  return undefined;
}

/** Deletes checkpoints beyond the newest `keep` (never `current`) and leftovers of crashed writes. */
async function prune(rootDir: string, current: string, keep: number): Promise<void> {
  const entries = (await listDir(rootDir)) ?? [];
  const doomed = checkpointNamesNewestFirst(entries)
    .filter((name) => name !== current)
    .slice(keep - 1);
  for (const name of entries) {
    if (name.startsWith(TEMP_PREFIX) || name.startsWith(TRASH_PREFIX)) doomed.push(name);
  }
  for (const name of doomed) await io(join(rootDir, name), () => rm(join(rootDir, name), { recursive: true, force: true }));
}

function checkpointNamesNewestFirst(entries: readonly string[]): string[] {
  return entries
    .filter((name) => CHECKPOINT_DIR.test(name))
    .sort((a, b) => stepOf(b) - stepOf(a));
}

function stepOf(name: string): number {
  return Number((CHECKPOINT_DIR.exec(name) as RegExpExecArray)[1]);
}

async function listDir(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new ParameterServerError('DTRAIN_PS_IO', `cannot list ${dir}: ${describe(error)}`, { file: dir, cause: error });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function io<T>(file: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof ParameterServerError) throw error;
    throw new ParameterServerError('DTRAIN_PS_IO', `${file}: ${describe(error)}`, { file, cause: error });
  }
}
