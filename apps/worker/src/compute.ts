import { ChunkCache } from '@dtrain/data';
import {
  createTrainer,
  modelFromTopology,
  weightLayout,
  writeWeights,
  type LossName,
  type Trainer,
  type WeightLayout,
  type tfl,
} from '@dtrain/engine';
import type { AssignmentMessage, DataChunkMessage, WelcomeMessage } from '@dtrain/protocol';
import { WorkerError } from './errors.js';

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
  #version: number;

  private constructor(model: tfl.LayersModel, layout: WeightLayout, trainer: Trainer, cache: ChunkCache, version: number) {
    this.#model = model;
    this.#layout = layout;
    this.#trainer = trainer;
    this.#cache = cache;
    this.#version = version;
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
    return new WorkerCompute(model, layout, trainer, cache, welcome.version);
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
   * given, else a fresh array) for one assignment, with
   * where the time went: `seconds` in all (what the coordinator is told),
   * of which `dataSeconds` gathering the batch from the chunk cache and
   * `stepSeconds` the forward and backward pass.
   */
  compute(assignment: AssignmentMessage, out?: Float32Array): { loss: number; accuracy: number | undefined; gradients: Float32Array; seconds: number; dataSeconds: number; stepSeconds: number } {
    if (assignment.version !== this.#version) {
      throw new WorkerError('DTRAIN_WORKER_VERSION', `assignment for version ${assignment.version} but weights are at ${this.#version}`);
    }
    const started = performance.now();
    const { x, y } = this.#cache.gather(assignment.sampleIds);
    const gathered = performance.now();
    const { loss, gradients, accuracy } = this.#trainer.step(x, y, assignment.sampleIds.length, out);
    const done = performance.now();
    return { loss, accuracy, gradients, seconds: (done - started) / 1000, dataSeconds: (gathered - started) / 1000, stepSeconds: (done - gathered) / 1000 };
  }

  dispose(): void {
    this.#model.dispose();
  }
}
