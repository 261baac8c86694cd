/**
 * The arguments of `fit` and `fitDataset`: tfjs' `model.fit` /
 * `model.fitDataset` names and meanings where dtrain has them, and dtrain's
 * own (workers, backend, seed, outDir, resume, signal) beside them.
 */
import type { FitCallbacks } from './fit-callbacks.js';
import type { FitInput } from './fit-data.js';
import type { BatchSource } from './fit-data-collect.js';
import { FitError, FitErrorCode } from './fit-error.js';

/** Serve workers that connect from elsewhere (`dtrain worker --coordinator ws://HOST:PORT`), as `dtrain coordinator` does. */
export interface FitListen {
  readonly listen: {
    /** TCP port; 0 picks a free one (see `onListening`). Default 7070. */
    readonly port?: number;
    /** Interface to bind. Default '0.0.0.0' (every interface). */
    readonly host?: string;
    /** Shared secret workers must present (`--token-file` / DTRAIN_TOKEN); undefined or '' accepts any worker that can connect. Default undefined. */
    readonly token?: string;
    /** Called with the coordinator's URL (`ws://host:port`) once it listens. Default: none. */
    readonly onListening?: (url: string) => void;
  };
  /** Workers needed before training starts and to keep going (`cluster.minWorkers`); integer ≥ 1. Default 1. */
  readonly minWorkers?: number;
}

/** What `fit` and `fitDataset` share. */
export interface FitCommonArgs {
  /** Passes over the training data; integer ≥ 1. Default 1. */
  readonly epochs?: number;
  /**
   * tfjs-style callbacks (one object or a list), run in order through one
   * promise queue, never blocking training; `fit` resolves after the last
   * one ran. Setting `model.stopTraining = true` in one stops at the next
   * step boundary. Default: none.
   */
  readonly callbacks?: FitCallbacks | readonly FitCallbacks[];
  /** Accepted for tfjs compatibility; no effect: training runs in worker processes, this thread is never blocked by it. */
  readonly yieldEvery?: unknown;
  /** 0: silent; 1: the CLI's per-epoch progress lines and the coordinator's warnings on stderr. Default 0. */
  readonly verbose?: 0 | 1;
  /**
   * A number: that many local `dtrain worker` processes, started and stopped
   * by fit (integer ≥ 1); `{ listen }`: serve remote workers instead. Default 2.
   */
  readonly workers?: number | FitListen;
  /** tfjs backend of the coordinator and of local workers: 'auto', 'tensorflow', 'wasm' or 'cpu'. Default 'auto' (the first that works). */
  readonly backend?: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  /** Seeds every epoch's shuffle; integer. Default 42. */
  readonly seed?: number;
  /**
   * Folder for checkpoints (`checkpoints/`), the trained model (`model/`),
   * `summary.json` and `history.json`. Default: a fresh folder under
   * os.tmpdir(), removed when fit settles.
   */
  readonly outDir?: string;
  /** Continue from the newest checkpoint in `outDir` (needs `outDir`); when false, old checkpoints there are deleted first. Default false. */
  readonly resume?: boolean;
  /**
   * Aborting stops at the next step boundary, as SIGTERM does for the CLI:
   * a checkpoint is written, the model gets the weights of that point, and
   * fit rejects with FitError DTRAIN_FIT_ABORTED. Default: none.
   */
  readonly signal?: AbortSignal;
  /**
   * Local SGD (DiLoCo, the job config's training.localSteps): each worker
   * trains on this many batches with the model's optimizer before one
   * exchange with the parameter server; integer ≥ 1. Default 1 (synchronous).
   */
  readonly localSteps?: number;
  /**
   * With localSteps > 1: the parameter server's optimizer over the averaged
   * pseudo-gradients, as training.outerOptimizer ({ name, learningRate, … }).
   * Default momentum 0.9 with Nesterov at learning rate 0.7 (DiLoCo's).
   */
  readonly outerOptimizer?: Readonly<Record<string, unknown>>;
  /** With localSteps > 1: keep (default) or reset the inner optimizer's state between rounds (training.innerState). */
  readonly innerState?: 'keep' | 'reset';
  /** Element format of the gradients on the wire (cluster.wire): 'float32' (default), 'bfloat16' or 'float16'. */
  readonly wire?: string;
  /** Element format of the weights sent back (cluster.wireWeights); default 'float32'. */
  readonly wireWeights?: string;
}

/** `fit(model, x, y, args)`. */
export interface FitArgs extends FitCommonArgs {
  /** Samples per batch PER WORKER (as Horovod and PyTorch DDP count it): a step applies batchSize × workers samples. Integer ≥ 1. Default 32. */
  readonly batchSize?: number;
  /** Fraction in [0, 1) of x/y held out for validation: the LAST samples, before shuffling, as tfjs does. Ignored when `validationData` is given. Default 0. */
  readonly validationSplit?: number;
  /** Validation samples `[xVal, yVal]` (tensors or typed arrays), evaluated after each epoch. Default: none. */
  readonly validationData?: readonly [FitInput, FitInput];
  /** Shuffle the training samples every epoch (seeded by `seed`); false hands them out in order (training.shuffle). Default true. */
  readonly shuffle?: boolean;
}

/** `fitDataset(model, dataset, args)`. */
export interface FitDatasetArgs extends FitCommonArgs {
  /** Read only this many batches of the dataset (once; every epoch trains on their samples); integer ≥ 1. Default: the whole dataset. */
  readonly batchesPerEpoch?: number;
  /** Samples per batch PER WORKER; integer ≥ 1. Default: the size of the dataset's first batch. */
  readonly batchSize?: number;
  /** Validation data: `[xVal, yVal]`, or a dataset of `{xs, ys}` batches (read once, whole). Default: none. */
  readonly validationData?: readonly [FitInput, FitInput] | BatchSource;
}

/** The workers option, resolved. */
export type ResolvedWorkers =
  | { readonly kind: 'local'; readonly count: number }
  | { readonly kind: 'listen'; readonly port: number; readonly host: string; readonly token: string | undefined; readonly minWorkers: number; readonly onListening: ((url: string) => void) | undefined };

function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new FitError(FitErrorCode.ARGUMENT, `fit: ${name} must be an integer ≥ 1, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Checks the arguments that need no data: workers, resume/outDir, shuffle, verbose, seed.
 * @throws FitError ARGUMENT or RESUME_NEEDS_OUT_DIR.
 */
export function checkCommonArgs(args: FitCommonArgs & { readonly shuffle?: boolean }): { workers: ResolvedWorkers; seed: number; shuffle: boolean; verbose: 0 | 1 } {
  if (args.resume === true && args.outDir === undefined) {
    throw new FitError(FitErrorCode.RESUME_NEEDS_OUT_DIR, 'fit: resume: true needs outDir: the checkpoints to resume from are in outDir/checkpoints');
  }
  if (args.shuffle !== undefined && typeof args.shuffle !== 'boolean') throw new FitError(FitErrorCode.ARGUMENT, `fit: shuffle must be true or false, got ${JSON.stringify(args.shuffle)}`);
  if (args.verbose !== undefined && args.verbose !== 0 && args.verbose !== 1) throw new FitError(FitErrorCode.ARGUMENT, `fit: verbose must be 0 or 1, got ${JSON.stringify(args.verbose)}`);
  const seed = args.seed ?? 42;
  if (!Number.isSafeInteger(seed)) throw new FitError(FitErrorCode.ARGUMENT, `fit: seed must be an integer, got ${JSON.stringify(args.seed)}`);
  const w = args.workers ?? 2;
  let workers: ResolvedWorkers;
  if (typeof w === 'number') {
    workers = { kind: 'local', count: positiveInt(w, 'workers', 2) };
  } else if (typeof w === 'object' && w !== null && typeof w.listen === 'object' && w.listen !== null) {
    const port = w.listen.port ?? 7070;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FitError(FitErrorCode.ARGUMENT, `fit: workers.listen.port must be an integer in [0, 65535], got ${JSON.stringify(port)}`);
    workers = { kind: 'listen', port, host: w.listen.host ?? '0.0.0.0', token: w.listen.token, minWorkers: positiveInt(w.minWorkers, 'minWorkers', 1), onListening: w.listen.onListening };
  } else {
    throw new FitError(FitErrorCode.ARGUMENT, 'fit: workers must be a number of local worker processes or { listen: { port, host, token } }');
  }
  return { workers, seed, shuffle: args.shuffle ?? true, verbose: args.verbose ?? 0 };
}

/** epochs and batchSize, checked; `batchSize` defaults to `defaultBatchSize`. */
export function checkSizes(args: { readonly epochs?: number; readonly batchSize?: number }, defaultBatchSize: number): { epochs: number; batchSize: number } {
  return { epochs: positiveInt(args.epochs, 'epochs', 1), batchSize: positiveInt(args.batchSize, 'batchSize', defaultBatchSize) };
}

/** tfjs' `validationData` pair, checked for being a pair. */
export function isValidationPair(value: unknown): value is readonly [FitInput, FitInput] {
  // Not a list of two { xs, ys } batches, which is an iterable dataset.
  const plain = (v: unknown): boolean => typeof v === 'object' && v !== null && !('xs' in v);
  return Array.isArray(value) && value.length === 2 && plain(value[0]) && plain(value[1]);
}

/** Checks batchesPerEpoch. */
export function checkBatchesPerEpoch(value: unknown): number | undefined {
  return value === undefined ? undefined : positiveInt(value, 'batchesPerEpoch', 1);
}
