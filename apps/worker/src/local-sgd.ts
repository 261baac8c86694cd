/**
 * The worker's half of local SGD (DiLoCo): the inner optimizer and the
 * buffers of one round. A round starts from the weights of the version the
 * worker was assigned at, takes one inner-optimizer step per batch on the
 * worker's own copy of the weights, and ends with the pseudo-gradient the
 * worker pushes: the start weights minus the weights now (trainable
 * entries), or the entries' new values (non-trainable ones, as in a
 * synchronous push, so the shards average them the same way).
 *
 * The inner optimizer is the parameter server's own code (same loops, same
 * kernels), so H local steps of one worker are bit-for-bit H synchronous
 * steps of that worker.
 */
import { createOptimizer, type Optimizer, type OptimizerConfig, type OptimizerState } from '@dtrain/parameter-server';
import type { LocalStepsConfig, WeightEntry } from '@dtrain/protocol';
import { WorkerError } from './errors.js';

export class LocalSgd {
  readonly steps: number;
  readonly innerState: 'keep' | 'reset';
  readonly #optimizer: Optimizer;
  /** The optimizer's state before its first step, for `innerState: reset`. */
  readonly #fresh: OptimizerState;
  /** The round's start weights (the assigned version). */
  readonly #start: Float32Array;
  /** The worker's own weights during the round. */
  readonly #local: Float32Array;
  /** Non-trainable ranges of the layout: [start0, end0, …]. */
  readonly #stateRanges: Uint32Array;
  /** Trainable ranges of the layout: [start0, end0, …]. */
  readonly #trainableRanges: Uint32Array;
  #inRound = false;

  /** @throws WorkerError `DTRAIN_WORKER_REJECTED` when the inner optimizer the coordinator sent is not one this worker can run. */
  constructor(config: LocalStepsConfig, layout: readonly WeightEntry[]) {
    this.steps = config.steps;
    this.innerState = config.innerState;
    try {
      this.#optimizer = createOptimizer(config.optimizer as unknown as OptimizerConfig, layout);
    } catch (error) {
      throw new WorkerError('DTRAIN_WORKER_REJECTED', `welcome.job.local.optimizer: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.#fresh = this.#optimizer.getState();
    const size = this.#optimizer.size;
    this.#start = new Float32Array(size);
    this.#local = new Float32Array(size);
    const state: number[] = [];
    const trainable: number[] = [];
    for (const entry of layout) (entry.trainable ? trainable : state).push(entry.offset, entry.offset + entry.size);
    this.#stateRanges = Uint32Array.from(state);
    this.#trainableRanges = Uint32Array.from(trainable);
  }

  /** The worker's weights during the round (what the model is set to after each inner step). */
  get weights(): Float32Array {
    return this.#local;
  }

  /** The round's start weights (to put the model back to the assigned version when the round is over). */
  get startWeights(): Float32Array {
    return this.#start;
  }

  /** Inner steps taken on this worker since it joined (all rounds). */
  get innerSteps(): number {
    return this.#optimizer.iterations;
  }

  /** Starts a round from `weights` (the assigned version's, copied); with `innerState: reset` the inner optimizer starts afresh. */
  begin(weights: Float32Array): void {
    this.#start.set(weights);
    this.#local.set(weights);
    if (this.innerState === 'reset') this.#optimizer.setState(this.#fresh);
    this.#inRound = true;
  }

  /**
   * One inner step with a batch's `gradients` (the trainer's flat output:
   * gradients for trainable entries, new values for non-trainable ones).
   */
  step(gradients: Float32Array): void {
    this.#requireRound();
    this.#optimizer.apply(this.#local, gradients);
    const ranges = this.#stateRanges;
    for (let r = 0; r < ranges.length; r += 2) this.#local.set(gradients.subarray(ranges[r] as number, ranges[r + 1] as number), ranges[r] as number);
  }

  /** Ends the round: writes the pseudo-gradient into `out` (start − now for trainable entries, the values now for the others). */
  finish(out: Float32Array): void {
    this.#requireRound();
    const start = this.#start;
    const local = this.#local;
    const trainable = this.#trainableRanges;
    for (let r = 0; r < trainable.length; r += 2) {
      const hi = trainable[r + 1] as number;
      for (let i = trainable[r] as number; i < hi; i++) out[i] = (start[i] as number) - (local[i] as number);
    }
    const state = this.#stateRanges;
    for (let r = 0; r < state.length; r += 2) out.set(local.subarray(state[r] as number, state[r + 1] as number), state[r] as number);
    this.#inRound = false;
  }

  #requireRound(): void {
    if (!this.#inRound) throw new WorkerError('DTRAIN_WORKER_STATE', 'local SGD: no round begun');
  }
}
