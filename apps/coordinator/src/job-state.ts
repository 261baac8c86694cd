/**
 * The job lifecycle as an explicit state machine. Every transition goes
 * through `JobStateMachine.to`, which refuses the ones not listed here, so a
 * status page or metric never shows an impossible sequence.
 */

import { JobError } from './errors.js';

export const JobState = {
  /** Fewer than `cluster.minWorkers` workers have joined; nothing trained yet. */
  waiting: 'waiting',
  /** Steps are running. */
  running: 'running',
  /** Training dropped below `cluster.minWorkers`; resumes when workers return. */
  paused: 'paused',
  /** End of an epoch: metrics on the validation split. */
  evaluating: 'evaluating',
  /** Writing a checkpoint. */
  checkpointing: 'checkpointing',
  /** Writing the final model and summary. */
  writing: 'writing',
  done: 'done',
  failed: 'failed',
  /** Stopped by a signal (SIGTERM/SIGINT) after a checkpoint; a restart resumes it. */
  stopped: 'stopped',
} as const;
export type JobState = (typeof JobState)[keyof typeof JobState];

const allowed: Readonly<Record<JobState, readonly JobState[]>> = {
  // waiting → writing: a job resumed from the checkpoint of its last epoch has nothing left to train.
  waiting: ['running', 'writing', 'failed', 'stopped'],
  running: ['paused', 'evaluating', 'checkpointing', 'writing', 'failed', 'stopped'],
  paused: ['running', 'checkpointing', 'failed', 'stopped'],
  // evaluating → paused: a shard process lost while the weights were being gathered for evaluation.
  evaluating: ['running', 'paused', 'checkpointing', 'writing', 'failed', 'stopped'],
  checkpointing: ['running', 'paused', 'evaluating', 'writing', 'failed', 'stopped'],
  writing: ['done', 'failed'],
  done: [],
  failed: [],
  stopped: [],
};

export class JobStateMachine {
  #state: JobState = JobState.waiting;
  #since = Date.now();
  readonly #listeners: ((from: JobState, to: JobState) => void)[] = [];

  get state(): JobState {
    return this.#state;
  }

  /** Milliseconds since epoch at which the current state was entered. */
  get since(): number {
    return this.#since;
  }

  get finished(): boolean {
    return this.#state === JobState.done || this.#state === JobState.failed || this.#state === JobState.stopped;
  }

  onChange(listener: (from: JobState, to: JobState) => void): void {
    this.#listeners.push(listener);
  }

  /** Moves to `next`; a no-op when already there; throws on a transition not in the table. */
  to(next: JobState): void {
    const from = this.#state;
    if (from === next) return;
    if (!allowed[from].includes(next)) {
      throw new JobError('DTRAIN_JOB_INTERNAL', `job state: illegal transition ${from} -> ${next}`);
    }
    this.#state = next;
    this.#since = Date.now();
    for (const listener of this.#listeners) listener(from, next);
  }
}
