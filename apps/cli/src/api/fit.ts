/**
 * `fit` and `fitDataset`: tfjs' `model.fit` / `model.fitDataset`, trained
 * data-parallel by dtrain worker processes. Everything the user can get
 * wrong is checked before a worker starts; the coordinator runs in this
 * process (startCoordinator), its parameter server inside it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ConfigError,
  DATASET_DEFAULTS,
  checkLocalStepsFit,
  combineObservers,
  parseCheckpointConfig,
  parseClusterConfig,
  parseTrainingConfig,
  silentLogger,
  stderrLogger,
  type CoordinatorObserver,
  type JobConfig,
  type JobState,
  type JobSummary,
} from '@dtrain/coordinator';
import type { Dataset } from '@dtrain/data';
import { tf, type WeightLayout, type tfl } from '@dtrain/engine';
import { createProgress } from '../progress.js';
import { generateToken } from '../token.js';
import { checkBatchesPerEpoch, checkCommonArgs, checkSizes, isValidationPair, type FitArgs, type FitCommonArgs, type FitDatasetArgs, type ResolvedWorkers } from './fit-args.js';
import { CallbackQueue, FitEvents, type FitHistory } from './fit-callbacks.js';
import { memoryJobData, splitLast, toDataset, type FitInput } from './fit-data.js';
import { collectBatches, type BatchSource } from './fit-data-collect.js';
import { FitError, FitErrorCode } from './fit-error.js';
import { FitWorkers } from './fit-workers.js';
import { describeModel, engineLayout, flatWeightsByName, writeWeightsByName, type ModelBridge } from './model-bridge.js';
import { startCoordinator, type CoordinatorHandle } from './start-coordinator.js';

/**
 * Trains `model` (compiled, from the same tfjs as dtrain's) on x/y with
 * `workers` worker processes, like `model.fit`: resolves with a tfjs-shaped
 * History once training ended and every callback ran, the trained weights
 * written into the model's variables. `batchSize` counts samples PER WORKER.
 * @throws FitError (before any worker starts) for a model or data that do not map; DTRAIN_FIT_ABORTED, DTRAIN_FIT_JOB_FAILED, DTRAIN_FIT_WORKERS_EXITED after.
 */
export async function fit(model: tfl.LayersModel, x: FitInput, y: FitInput, args: FitArgs = {}): Promise<FitHistory> {
  const bridge = describeModel(model);
  const common = checkCommonArgs(args);
  const sizes = checkSizes(args, 32);
  const all = toDataset(x, y, bridge.shapes, bridge.loss, { x: 'x', y: 'y', source: 'fit(x, y)' });
  let train = all;
  let validation: Dataset | undefined;
  if (args.validationData !== undefined) {
    if (!isValidationPair(args.validationData)) throw new FitError(FitErrorCode.ARGUMENT, 'fit: validationData must be [xVal, yVal]');
    validation = toDataset(args.validationData[0], args.validationData[1], bridge.shapes, bridge.loss, { x: 'validationData[0]', y: 'validationData[1]', source: 'validationData' });
  } else if (args.validationSplit !== undefined) {
    ({ train, validation } = splitLast(all, args.validationSplit));
  }
  return train_(model, bridge, train, validation, { ...common, ...sizes }, args);
}

/**
 * `model.fitDataset` with dtrain's workers: `dataset` (a tf.data.Dataset of
 * `{xs, ys}` batches, or any (async) iterable of them) is read ONCE into
 * memory (the first `batchesPerEpoch` batches when given), because dtrain's
 * exactly-once epoch plan needs random access to the samples; every epoch
 * then trains on all of them in a fresh seeded order. Model first, like `fit`.
 * @throws FitError as `fit` does.
 */
export async function fitDataset(model: tfl.LayersModel, dataset: BatchSource, args: FitDatasetArgs = {}): Promise<FitHistory> {
  const bridge = describeModel(model);
  const common = checkCommonArgs(args);
  const maxBatches = checkBatchesPerEpoch(args.batchesPerEpoch);
  checkSizes(args, 1);
  const collected = await collectBatches(dataset, bridge.shapes, bridge.loss, 'dataset', maxBatches);
  const sizes = checkSizes(args, collected.firstBatchSize);
  const v = args.validationData;
  const validation =
    v === undefined
      ? undefined
      : isValidationPair(v)
        ? toDataset(v[0], v[1], bridge.shapes, bridge.loss, { x: 'validationData[0]', y: 'validationData[1]', source: 'validationData' })
        : (await collectBatches(v as BatchSource, bridge.shapes, bridge.loss, 'validationData')).dataset;
  return train_(model, bridge, collected.dataset, validation, { ...common, ...sizes }, args);
}

interface Resolved {
  readonly epochs: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly shuffle: boolean;
  readonly verbose: 0 | 1;
  readonly workers: ResolvedWorkers;
}

/** Job states in which the workers leaving is the job's own doing. */
const ENDING: ReadonlySet<JobState> = new Set<JobState>(['writing', 'done', 'failed', 'stopped']);

/** What stopped the job early, if anything. */
type StopCause = 'abort' | 'stopTraining' | 'callback' | 'workers';

async function train_(model: tfl.LayersModel, bridge: ModelBridge, train: Dataset, validation: Dataset | undefined, o: Resolved, args: FitCommonArgs): Promise<FitHistory> {
  const layout = await engineLayout(bridge.topology);
  const initialWeights = flatWeightsByName(layout, model.weights);
  const outDir = args.outDir === undefined ? undefined : resolve(args.outDir);
  const config = jobConfig(bridge, train, o, outDir ?? tmpdir(), args);
  if (args.signal?.aborted === true) throw aborted('before training started');
  const workDir = outDir ?? (await mkdtemp(join(tmpdir(), 'dtrain-fit-')));
  // The coordinator picks its backend in this process; the user's tfjs gets theirs back afterwards.
  const backendBefore = tf.getBackend();
  try {
    return await serve(model, layout, { ...config, checkpoint: parseCheckpointConfig(undefined, workDir) }, memoryJobData(train, validation), initialWeights, workDir, o, args);
  } finally {
    if (outDir === undefined) await rm(workDir, { recursive: true, force: true });
    if (tf.getBackend() !== backendBefore) await tf.setBackend(backendBefore);
  }
}

async function serve(
  model: tfl.LayersModel,
  layout: WeightLayout,
  config: JobConfig,
  data: ReturnType<typeof memoryJobData>,
  initialWeights: Float32Array,
  outDir: string,
  o: Resolved,
  args: FitCommonArgs,
): Promise<FitHistory> {
  let handle: CoordinatorHandle | undefined;
  let cause: StopCause | undefined;
  let jobState: JobState | undefined;
  let workerLines: string[] = [];
  const stop = (why: StopCause): void => {
    cause ??= why;
    handle?.stop();
  };
  model.stopTraining = false;
  const queue = new CallbackQueue(args.callbacks, { afterEach: () => (model.stopTraining ? stop('stopTraining') : undefined), onError: () => stop('callback') });
  const events = new FitEvents(queue, {
    epochs: o.epochs,
    initialEpoch: 0,
    samples: data.train.numSamples,
    steps: null,
    batchSize: o.batchSize,
    verbose: o.verbose,
    doValidation: data.validation.numSamples > 0,
    metrics: ['loss', ...(config.training.metrics.includes('accuracy') ? ['acc'] : []), ...(data.validation.numSamples > 0 ? ['val_loss', ...(config.training.metrics.includes('accuracy') ? ['val_acc'] : [])] : [])],
  });
  const perStep = o.batchSize * (o.workers.kind === 'local' ? o.workers.count : o.workers.minWorkers);
  const progress = o.verbose === 1 ? createProgress('plain', process.stderr, o.epochs, Math.ceil(data.train.numSamples / perStep)) : undefined;
  const observers: CoordinatorObserver[] = [events, { jobState: (s) => (jobState = s) }, ...(progress === undefined ? [] : [progress])];
  const workers = new FitWorkers();
  const onAbort = (): void => stop('abort');
  args.signal?.addEventListener('abort', onAbort, { once: true });
  const token = o.workers.kind === 'local' ? generateToken() : o.workers.token;
  const backend = args.backend ?? 'auto';
  let summary: JobSummary | undefined;
  events.begin();
  try {
    handle = await startCoordinator({
      job: { config, data },
      outDir,
      resume: args.resume === true,
      backend,
      log: o.verbose === 1 ? { ...stderrLogger('coordinator'), info: () => undefined } : silentLogger,
      observer: combineObservers(...observers),
      initialWeights,
      ...(o.workers.kind === 'local' ? { port: 0, host: '127.0.0.1' } : { port: o.workers.port, host: o.workers.host }),
      ...(token === undefined ? {} : { token }),
    });
    // An abort while the coordinator started.
    if (cause !== undefined) handle.stop();
    if (o.workers.kind === 'local') {
      workers.start(o.workers.count, handle.url, {
        backend,
        token: token ?? '',
        echo: false,
        onAllExited: (lines) => {
          if (jobState !== undefined && ENDING.has(jobState)) return;
          workerLines = lines;
          stop('workers');
        },
      });
    } else {
      o.workers.onListening?.(handle.url);
    }
    ({ summary } = await handle.done);
  } finally {
    args.signal?.removeEventListener('abort', onAbort);
    // A stopped job does not tell its workers to exit; a finished one does.
    await workers.stop(5000, summary?.state !== 'done');
    if (summary === undefined) await handle?.close();
  }
  progress?.finish(summary);
  if (summary.state !== 'failed') writeWeightsByName(layout, model.weights, handle.weights());
  events.end();
  await queue.drained();
  if (queue.error !== undefined) throw queue.error.value;
  if (cause === 'workers') {
    throw new FitError(FitErrorCode.WORKERS_EXITED, `fit: every local worker process exited before the job ended; their last lines:\n${workerLines.join('\n')}`);
  }
  if (summary.state === 'failed') throw new FitError(FitErrorCode.JOB_FAILED, `fit: the job failed: ${summary.failure ?? 'unknown'}`);
  if (cause === 'abort') throw aborted(`at step ${summary.steps}; checkpoint in ${args.outDir === undefined ? 'a temporary folder (removed; pass outDir to keep it)' : `${outDir}/checkpoints`}`);
  return events.history;
}

function aborted(where: string): FitError {
  return new FitError(FitErrorCode.ABORTED, `fit: aborted by its signal ${where}`);
}

/**
 * The coordinator's JobConfig for an in-memory job, through the config's own
 * parsers so every default and range check is the CLI's.
 * @throws FitError OPTIMIZER for an out-of-range hyper-parameter, ARGUMENT for the rest.
 */
function jobConfig(bridge: ModelBridge, train: Dataset, o: Resolved, dir: string, args: FitCommonArgs): JobConfig {
  try {
    const training = parseTrainingConfig({
      epochs: o.epochs,
      batchSize: o.batchSize,
      optimizer: bridge.optimizer,
      loss: bridge.loss,
      metrics: bridge.metrics,
      seed: o.seed,
      shuffle: o.shuffle,
      // Absent keys take the config's defaults; present ones get its checks (a bad one is a FitError naming it).
      ...defined({ localSteps: args.localSteps, outerOptimizer: args.outerOptimizer, innerState: args.innerState }),
    });
    checkLocalStepsFit(training, train.numSamples);
    const minWorkers = o.workers.kind === 'local' ? o.workers.count : o.workers.minWorkers;
    return {
      name: 'fit',
      configDir: dir,
      model: { kind: 'topology', topology: bridge.topology, path: '(in memory: model.toJSON())' },
      dataset: {
        source: { format: 'memory', description: train.source },
        validationSplit: 0,
        normalisation: { kind: 'none' },
        chunkSize: DATASET_DEFAULTS.chunkSize,
        // In the calling process's memory: only the coordinator has it.
        access: 'ship',
        cacheBytes: DATASET_DEFAULTS.cacheBytes,
        maxBadSamples: DATASET_DEFAULTS.maxBadSamples,
      },
      training,
      // Local workers all join before the first step, so a step is batchSize × workers from the start.
      cluster: parseClusterConfig({ minWorkers, ...defined({ wire: args.wire, wireWeights: args.wireWeights }) }),
      checkpoint: parseCheckpointConfig(undefined, dir),
    };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const field = error.field ?? '';
    const code = field.startsWith('training.optimizer') ? FitErrorCode.OPTIMIZER : FitErrorCode.ARGUMENT;
    throw new FitError(code, `fit: ${error.message.replace(/^(training|cluster)\.(optimizer\.)?/, field.startsWith('training.optimizer') ? 'optimizer ' : '')}`, { cause: error });
  }
}

/** The entries of `o` that are not undefined. */
function defined(o: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
