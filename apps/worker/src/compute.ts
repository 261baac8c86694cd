import { ChunkCache, normaliseBatch, statsFromJSON, type NormalisationStats } from '@dtrain/data';
import {
  createTrainer,
  modelFromTopology,
  readWeights,
  weightLayout,
  writeWeights,
  type LossName,
  type Trainer,
  type WeightLayout,
  type tfl,
} from '@dtrain/engine';
import type { AssignmentMessage, DataChunkMessage, WelcomeMessage } from '@dtrain/protocol';
import { WorkerError } from './errors.js';
import { LocalSgd } from './local-sgd.js';

/**
 * An assignment's samples as the worker read them itself (shared access),
 * in the order of its sample ids: features as stored (8-bit sources stay
 * bytes), normalised only when the batch tensor is built.
 */
export interface ReadSamples {
  readonly features: Uint8Array | Float32Array;
  readonly labels: Float32Array;
}

/** One assignment's result: loss and accuracy over its samples, the gradients (or pseudo-gradient), and where the time went. */
export interface ComputeResult {
  readonly loss: number;
  readonly accuracy: number | undefined;
  readonly gradients: Float32Array;
  /** In all (what the coordinator is told). */
  readonly seconds: number;
  /** Of which gathering batches from the chunk cache. */
  readonly dataSeconds: number;
  /** Of which forward and backward passes (and, with local SGD, the inner optimizer). */
  readonly stepSeconds: number;
}

/**
 * Everything a worker computes with, built from the coordinator's welcome:
 * the model (from the topology it was sent), the trainer, and the cache of
 * data chunks received so far.
 */
export class WorkerCompute {
  readonly #model: tfl.LayersModel;
  readonly #layout: WeightLayout;
  readonly #trainer: Trainer;
  readonly #cache: ChunkCache;
  /** Shared access: the normalisation applied to samples the worker read itself. */
  readonly #stats: NormalisationStats | undefined;
  /** Local SGD's inner optimizer and round buffers; undefined for synchronous jobs. */
  readonly #local: LocalSgd | undefined;
  /** A batch's gradients during a local-SGD round. */
  #batchGradients: Float32Array | undefined;
  /**
   * The batch's features and labels as float32, reused from step to step
   * (grown for a larger batch): a fresh 786 KB array per step of 64 × 3,072
   * values cost 3.5 ms to allocate and zero, against 0.25 ms to fill one
   * reused (the tensors made from it are gone when the step returns).
   */
  #x = new Float32Array(0);
  #y = new Float32Array(0);
  #version: number;

  private constructor(
    model: tfl.LayersModel,
    layout: WeightLayout,
    trainer: Trainer,
    cache: ChunkCache,
    version: number,
    local: LocalSgd | undefined,
    stats: NormalisationStats | undefined,
  ) {
    this.#model = model;
    this.#stats = stats;
    this.#layout = layout;
    this.#trainer = trainer;
    this.#cache = cache;
    this.#version = version;
    this.#local = local;
  }

  /** The model of `welcome`, set to `weights` (welcome.version's, arrived as chunks). */
  static async fromWelcome(welcome: WelcomeMessage, weights: Float32Array): Promise<WorkerCompute> {
    const model = await modelFromTopology(welcome.modelTopology);
    const layout = weightLayout(model);
    const mismatch = welcome.layout.findIndex((e, i) => layout.entries[i]?.name !== e.name || layout.entries[i]?.size !== e.size);
    if (mismatch >= 0 || welcome.layout.length !== layout.entries.length) {
      throw new WorkerError('DTRAIN_WORKER_LAYOUT', `weight layout differs from the coordinator's at entry ${mismatch}`);
    }
    writeWeights(model, layout, weights);
    const trainer = createTrainer(model, { loss: welcome.job.loss as LossName, layout });
    const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
    const cache = new ChunkCache({
      numSamples: welcome.data.numSamples,
      chunkSize: welcome.data.chunkSize,
      featureSize: size(welcome.data.featureShape),
      labelSize: size(welcome.data.labelShape),
    });
    const local = welcome.job.local === undefined ? undefined : new LocalSgd(welcome.job.local, welcome.layout);
    const shared = welcome.data.shared;
    const stats = shared === undefined ? undefined : statsFromJSON(shared.normalisation);
    return new WorkerCompute(model, layout, trainer, cache, welcome.version, local, stats);
  }

  get version(): number {
    return this.#version;
  }

  addChunk(chunk: DataChunkMessage): void {
    this.#cache.add(chunk.chunkId, chunk.start, chunk.count, chunk.features, chunk.labels);
  }

  setWeights(version: number, weights: Float32Array): void {
    writeWeights(this.#model, this.#layout, weights);
    this.#version = version;
  }

  /**
   * Loss and gradients (flat, in the shared layout; written into `out` when
   * given, else a fresh array) for one assignment, with where the time went.
   * A local-SGD round (`assignment.batches`) takes one inner step per batch
   * and yields the pseudo-gradient instead; its loss and accuracy are the
   * batches' (before each one's inner step), weighted by their samples.
   */
  compute(assignment: AssignmentMessage, out?: Float32Array, read?: ReadSamples): ComputeResult {
    if (assignment.version !== this.#version) {
      throw new WorkerError('DTRAIN_WORKER_VERSION', `assignment for version ${assignment.version} but weights are at ${this.#version}`);
    }
    if (assignment.batches !== undefined) return this.#round(assignment, assignment.batches, out, read);
    const started = performance.now();
    const { x, y } = this.#gather(assignment.sampleIds, 0, assignment.sampleIds.length, read);
    const gathered = performance.now();
    const { loss, gradients, accuracy } = this.#trainer.step(x, y, assignment.sampleIds.length, out);
    const done = performance.now();
    return { loss, accuracy, gradients, seconds: (done - started) / 1000, dataSeconds: (gathered - started) / 1000, stepSeconds: (done - gathered) / 1000 };
  }

  /**
   * Rows [at, at + size) of the assignment as float32 tensors' data: from the
   * chunk cache, or from the samples read (normalised here, 8-bit included).
   */
  #gather(sampleIds: Uint32Array, at: number, size: number, read: ReadSamples | undefined): { x: Float32Array; y: Float32Array } {
    const featureSize = this.#cache.featureSize;
    const labelSize = this.#cache.labelSize;
    if (this.#x.length < size * featureSize) this.#x = new Float32Array(size * featureSize);
    if (this.#y.length < size * labelSize) this.#y = new Float32Array(size * labelSize);
    const x = this.#x.subarray(0, size * featureSize);
    if (read === undefined) return this.#cache.gather(sampleIds.subarray(at, at + size), x, this.#y.subarray(0, size * labelSize));
    if (read.features.length !== sampleIds.length * featureSize || read.labels.length !== sampleIds.length * labelSize) {
      throw new WorkerError('DTRAIN_WORKER_INTERNAL', `read ${read.features.length} feature and ${read.labels.length} label values for ${sampleIds.length} samples`);
    }
    return {
      x: normaliseBatch(read.features.subarray(at * featureSize, (at + size) * featureSize), featureSize, this.#stats ?? { kind: 'none' }, x),
      y: read.labels.subarray(at * labelSize, (at + size) * labelSize),
    };
  }

  #round(assignment: AssignmentMessage, batches: readonly { readonly size: number }[], out?: Float32Array, read?: ReadSamples): ComputeResult {
    const local = this.#local;
    if (local === undefined) throw new WorkerError('DTRAIN_WORKER_REJECTED', 'a local-SGD round, but the job this worker joined has training.localSteps 1');
    if (batches.length > local.steps) throw new WorkerError('DTRAIN_WORKER_REJECTED', `a round of ${batches.length} batches; the job's training.localSteps is ${local.steps}`);
    const started = performance.now();
    const size = this.#layout.totalSize;
    const gradients = (this.#batchGradients ??= new Float32Array(size));
    local.begin(readWeights(this.#model, this.#layout));
    let dataMs = 0;
    let lossSum = 0;
    let accuracySum = 0;
    let accuracySamples = 0;
    let at = 0;
    try {
      for (const batch of batches) {
        const before = performance.now();
        const { x, y } = this.#gather(assignment.sampleIds, at, batch.size, read);
        dataMs += performance.now() - before;
        const result = this.#trainer.step(x, y, batch.size, gradients);
        at += batch.size;
        lossSum += result.loss * batch.size;
        if (result.accuracy !== undefined) {
          accuracySum += result.accuracy * batch.size;
          accuracySamples += batch.size;
        }
        // A diverged batch ends the round: its push is reported non-finite and nothing is sent.
        if (!Number.isFinite(result.loss)) break;
        local.step(gradients);
        writeWeights(this.#model, this.#layout, local.weights);
      }
      const result = out ?? new Float32Array(size);
      local.finish(result);
      const done = performance.now();
      return {
        loss: at === assignment.sampleIds.length ? lossSum / at : Number.NaN,
        accuracy: accuracySamples === 0 ? undefined : accuracySum / accuracySamples,
        gradients: result,
        seconds: (done - started) / 1000,
        dataSeconds: dataMs / 1000,
        stepSeconds: (done - started - dataMs) / 1000,
      };
    } finally {
      // Back to the assigned version: the round may not commit, and then the next one starts from it again.
      writeWeights(this.#model, this.#layout, local.startWeights);
    }
  }

  dispose(): void {
    this.#model.dispose();
  }
}
