import type { BackendInfo } from '@dtrain/engine';
import type { AssignmentMessage, DataChunkMessage, WelcomeMessage } from '@dtrain/protocol';
import type { ReadSamples } from './compute.js';
import type { ThreadComputeResult } from './compute-thread-messages.js';
import type { WorkerError } from './errors.js';

/**
 * What the worker's socket side computes with. `ComputeThread` is the real
 * one (tfjs on a worker thread); `SimulatedCompute` stands in for it in
 * data-plane benchmarks. The contract is ComputeThread's: `weights` is
 * written by the caller between `setWeights` calls, `gradients` holds the
 * last `compute`'s result until the next one.
 */
export interface ComputeHost {
  readonly backend: BackendInfo;
  /** Settles when the host has ended: undefined if asked to, else why it ended. */
  readonly exited: Promise<WorkerError | undefined>;
  readonly weights: Float32Array;
  readonly gradients: Float32Array;
  /** False while the host may still be reading `weights` (a `setWeights` is under way). */
  readonly weightsWritable: boolean;
  load(welcome: WelcomeMessage): Promise<void>;
  addChunk(chunk: DataChunkMessage): Promise<void>;
  setWeights(version: number): Promise<void>;
  /** `read`: the samples the worker read itself (shared access); else they come from the chunks added. */
  compute(assignment: AssignmentMessage, read?: ReadSamples): Promise<ThreadComputeResult>;
  dispose(): Promise<void>;
}

/**
 * A compute host that takes a fixed time per step and no tfjs: it waits
 * `stepMs` (a timer, so it uses no CPU) and returns small, finite,
 * deterministic gradients. The worker's data plane (chunks in and out,
 * reused buffers, reports) runs unchanged, so a benchmark with these
 * workers times exactly the synchronisation a real job pays.
 */
export class SimulatedCompute implements ComputeHost {
  readonly backend: BackendInfo;
  readonly exited: Promise<WorkerError | undefined>;
  readonly #stepMs: number;
  readonly #end: (value: undefined) => void;
  #weights = new Float32Array(0);
  #gradients = new Float32Array(0);

  constructor(stepMs: number) {
    this.#stepMs = stepMs;
    this.backend = { name: 'cpu', package: 'none', gpu: false, devices: [], reason: `simulated compute: ${stepMs} ms per step, no tfjs` };
    let end!: (value: undefined) => void;
    this.exited = new Promise((resolve) => (end = resolve));
    this.#end = end;
  }

  get weights(): Float32Array {
    return this.#weights;
  }

  get gradients(): Float32Array {
    return this.#gradients;
  }

  get weightsWritable(): boolean {
    return true;
  }

  load(welcome: WelcomeMessage): Promise<void> {
    const size = welcome.layout.reduce((sum, entry) => sum + entry.size, 0);
    this.#weights = new Float32Array(size);
    // 2^-12: exact in float32 and float64, so sums over any number of workers are exact too.
    this.#gradients = new Float32Array(size).fill(2 ** -12);
    return Promise.resolve();
  }

  addChunk(): Promise<void> {
    return Promise.resolve();
  }

  setWeights(): Promise<void> {
    return Promise.resolve();
  }

  /** `stepMs` per batch: a local-SGD round of H batches takes H times as long. */
  async compute(assignment: AssignmentMessage): Promise<ThreadComputeResult> {
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, this.#stepMs * (assignment.batches?.length ?? 1)));
    const seconds = (performance.now() - started) / 1000;
    return { loss: 1, accuracy: undefined, seconds, dataSeconds: 0, stepSeconds: seconds, finite: true, tfjsMemory: { numTensors: 0, numBytes: 0 } };
  }

  dispose(): Promise<void> {
    this.#end(undefined);
    return Promise.resolve();
  }
}
