/**
 * Runs a worker's computation (WorkerCompute) on a `worker_threads` thread,
 * so a long step never delays the socket thread's heartbeats. Weights and
 * gradients cross in shared memory, not in messages; data chunks and
 * assignments are copied once and transferred.
 */

import { Worker } from 'node:worker_threads';
import type { BackendInfo, BackendRequest } from '@dtrain/engine';
import type { AssignmentMessage, DataChunkMessage, WelcomeMessage } from '@dtrain/protocol';
import type { ReadSamples } from './compute.js';
import {
  rebuildThreadError,
  type ThreadAnswers,
  type ThreadComputeResult,
  type ThreadReply,
  type ThreadRequest,
  type ThreadStart,
  type ThreadStartReport,
} from './compute-thread-messages.js';
import { WorkerError } from './errors.js';

export type { ThreadComputeResult, ThreadTfjsMemory } from './compute-thread-messages.js';

export interface ComputeThreadOptions {
  /** tfjs backend the thread computes with: 'auto' (default), 'tensorflow', 'wasm' or 'cpu'. */
  readonly backend?: BackendRequest;
  /**
   * Milliseconds the thread stays blocked after each step, as if the step
   * took that much longer (for tests of long steps); default 0.
   */
  readonly extraStepMs?: number;
}

/**
 * `running`: the backend is up (with or without a model); `closing`:
 * `dispose` was called; `closed`: the thread has ended, or is ending after
 * `terminate` or a crash, and every call fails with `DTRAIN_WORKER_THREAD`.
 */
export type ComputeThreadState = 'running' | 'closing' | 'closed';

interface Pending {
  readonly resolve: (value: never) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The thread's entry module beside this one. From dist that is the built
 * .js. When this module runs from its TypeScript source (Vitest, tsx) the
 * entry is .ts, which a plain Node thread cannot load: the thread then
 * registers tsx's loader (a dev dependency of the workspace) before importing it.
 */
function spawnThread(workerData: ThreadStart): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./compute-thread-main.js', import.meta.url), { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./compute-thread-main.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/** Float32 elements of the flat layout. */
function totalSize(welcome: WelcomeMessage): number {
  return welcome.layout.reduce((sum, entry) => sum + entry.size, 0);
}

/**
 * A compute thread. Lifecycle: `start` (backend up, answers with its info),
 * `load` a welcome (model built; again after a reconnect), then per version
 * write the weights into `weights` and `setWeights`, send data with
 * `addChunk`, and `compute` assignments, reading each step's gradients from
 * `gradients`; finally `dispose` (or `terminate`).
 *
 * Shared buffers have one writer at a time:
 * - `weights`: the main thread's, except from `load` with initial weights or
 *   `setWeights` until that call resolves (the thread copies them into the
 *   model then; `weightsWritable` says which). The model keeps its own copy,
 *   so the next version may be written while a step on the last one runs.
 * - `gradients`: the thread's while a `compute` is pending; then the caller's
 *   to read until it calls `compute` again.
 *
 * Calls are answered in the order made. An error thrown in the thread
 * rejects that call only (dtrain errors as themselves, see
 * rebuildThreadError); a thread that dies rejects everything pending and
 * later with `DTRAIN_WORKER_THREAD`.
 */
export class ComputeThread {
  /** The backend the thread computes with, as `initBackend` reported it there. */
  readonly backend: BackendInfo;
  /** Settles when the thread has ended: undefined if asked to (`dispose`, `terminate`), else why it ended. */
  readonly exited: Promise<WorkerError | undefined>;
  readonly #thread: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #state: ComputeThreadState = 'running';
  /** `dispose` or `terminate` was called: the thread's end is no failure. */
  #endAsked = false;
  /** What calls fail with once the thread is gone. */
  #gone: WorkerError | undefined;
  #views: { readonly weights: Float32Array; readonly gradients: Float32Array } | undefined;
  /** Calls (load with weights, setWeights) that have the thread reading `weights`. */
  #weightsLoans = 0;
  #computing = false;

  private constructor(thread: Worker, backend: BackendInfo) {
    this.#thread = thread;
    this.backend = backend;
    this.exited = new Promise((resolve) => {
      thread.on('message', (reply: ThreadReply) => this.#settle(reply));
      thread.on('error', (error) => this.#lose(new WorkerError('DTRAIN_WORKER_THREAD', `compute thread crashed: ${error.message}`)));
      thread.on('exit', (code) => {
        this.#lose(new WorkerError('DTRAIN_WORKER_THREAD', `compute thread exited with code ${code}`));
        resolve(this.#endAsked ? undefined : this.#gone);
      });
    });
  }

  /**
   * Starts a thread and activates `backend` in it. Rejects as `initBackend`
   * would (`DTRAIN_ENGINE_BACKEND`), or with `DTRAIN_WORKER_THREAD` if the
   * thread itself cannot start.
   */
  static start(options: ComputeThreadOptions = {}): Promise<ComputeThread> {
    let thread: Worker;
    try {
      thread = spawnThread({ backend: options.backend ?? 'auto', ...(options.extraStepMs === undefined ? {} : { extraStepMs: options.extraStepMs }) });
    } catch (error) {
      return Promise.reject(new WorkerError('DTRAIN_WORKER_THREAD', `compute thread failed to start: ${error instanceof Error ? error.message : String(error)}`));
    }
    return new Promise((resolve, reject) => {
      const fail = (error: Error): void => {
        thread.off('message', onReport);
        thread.off('error', onError);
        thread.off('exit', onExit);
        // An 'error' with no listener would be thrown in this thread.
        thread.on('error', () => undefined);
        void thread.terminate();
        reject(error);
      };
      const onReport = (report: ThreadStartReport): void => {
        if (report.kind === 'failed') {
          fail(rebuildThreadError(report.error));
          return;
        }
        thread.off('message', onReport);
        thread.off('error', onError);
        thread.off('exit', onExit);
        resolve(new ComputeThread(thread, report.backend));
      };
      const onError = (error: Error): void => fail(new WorkerError('DTRAIN_WORKER_THREAD', `compute thread failed to start: ${error.message}`));
      const onExit = (code: number): void => fail(new WorkerError('DTRAIN_WORKER_THREAD', `compute thread exited with code ${code} while starting`));
      thread.on('message', onReport);
      thread.on('error', onError);
      thread.on('exit', onExit);
    });
  }

  get state(): ComputeThreadState {
    return this.#state;
  }

  /** The flat weights (`layout.totalSize` values) the thread sets the model from; see the class comment. */
  get weights(): Float32Array {
    return this.#requireViews().weights;
  }

  /** The last step's flat gradients (`layout.totalSize` values), valid once its `compute` resolved. */
  get gradients(): Float32Array {
    return this.#requireViews().gradients;
  }

  /** False while the thread may be reading `weights` (a `load` with initial weights or a `setWeights` is pending). */
  get weightsWritable(): boolean {
    return this.#weightsLoans === 0;
  }

  /**
   * Builds the model of `welcome` in the thread (replacing any earlier one)
   * with new shared `weights` and `gradients` buffers, sized for its layout.
   * `weights`, if given, are `welcome.version`'s (copied into the shared
   * buffer); without them, compute waits for a `setWeights`. The new
   * buffers are in place when this returns: weights may be written before
   * it resolves, unless initial weights were given.
   */
  load(welcome: WelcomeMessage, weights?: Float32Array): Promise<void> {
    if (this.#state !== 'running' || this.#computing) return this.#refuse('load while a compute is pending');
    const size = totalSize(welcome);
    if (weights !== undefined && weights.length !== size) {
      return Promise.reject(new WorkerError('DTRAIN_WORKER_LAYOUT', `initial weights hold ${weights.length} values; the layout has ${size}`));
    }
    const shared = { weights: new SharedArrayBuffer(size * 4), gradients: new SharedArrayBuffer(size * 4) };
    const views = { weights: new Float32Array(shared.weights), gradients: new Float32Array(shared.gradients) };
    if (weights !== undefined) views.weights.set(weights);
    const request: ThreadRequest = { kind: 'load', welcome, ...shared, hasWeights: weights !== undefined };
    const loaded = this.#call<'load'>(request);
    this.#views = views;
    return weights === undefined ? loaded : this.#lend(loaded);
  }

  /**
   * Stores a data chunk in the thread. Features and labels are copied here
   * (they are usually views of a received frame) and the copies transferred.
   */
  addChunk(chunk: DataChunkMessage): Promise<void> {
    if (this.#views === undefined) return this.#refuse('addChunk before load');
    const features = chunk.features.slice();
    const labels = chunk.labels.slice();
    const copy: DataChunkMessage = { type: 'dataChunk', chunkId: chunk.chunkId, start: chunk.start, count: chunk.count, features, labels };
    return this.#call<'chunk'>({ kind: 'chunk', chunk: copy }, [features.buffer, labels.buffer]);
  }

  /**
   * Tells the thread `weights` now hold `version`. It copies them into the
   * model as soon as it gets to this call (after a pending compute), not at
   * the next compute: the buffer is writable again when this resolves.
   */
  setWeights(version: number): Promise<void> {
    if (this.#views === undefined) return this.#refuse('setWeights before load');
    return this.#lend(this.#call<'weights'>({ kind: 'weights', version }));
  }

  /**
   * Computes loss and gradients for `assignment` (at the version last set);
   * when it resolves, the gradients are in `gradients`. One at a time.
   * `read`: the assignment's samples as the worker read them (shared
   * access); its buffers are transferred to the thread (unusable here after).
   */
  async compute(assignment: AssignmentMessage, read?: ReadSamples): Promise<ThreadComputeResult> {
    if (this.#views === undefined) return this.#refuse('compute before load');
    if (this.#computing) return this.#refuse('compute while another is pending');
    const sampleIds = assignment.sampleIds.slice();
    const copy: AssignmentMessage = { ...assignment, sampleIds };
    this.#computing = true;
    try {
      if (read === undefined) return await this.#call<'compute'>({ kind: 'compute', assignment: copy }, [sampleIds.buffer]);
      const transfer = [sampleIds.buffer, read.features.buffer, read.labels.buffer].filter((b, i, all): b is ArrayBuffer => b instanceof ArrayBuffer && all.indexOf(b) === i);
      return await this.#call<'compute'>({ kind: 'compute', assignment: copy, read }, transfer);
    } finally {
      this.#computing = false;
    }
  }

  /** Lets queued calls finish, frees the model, and ends the thread; resolves once it has ended. */
  async dispose(): Promise<void> {
    if (this.#state === 'running') {
      this.#endAsked = true;
      const disposed = this.#call<'dispose'>({ kind: 'dispose' });
      this.#state = 'closing';
      await disposed.catch(() => undefined);
      this.#lose(new WorkerError('DTRAIN_WORKER_THREAD', 'compute thread disposed'));
      // It ends by itself once disposed; terminating makes sure.
      await this.#thread.terminate();
    }
    await this.exited;
  }

  /** Ends the thread now; pending calls reject with `DTRAIN_WORKER_THREAD`. Resolves once it has ended. */
  async terminate(): Promise<void> {
    if (this.#gone === undefined) {
      this.#endAsked = true;
      this.#lose(new WorkerError('DTRAIN_WORKER_THREAD', 'compute thread terminated'));
      await this.#thread.terminate();
    }
    await this.exited;
  }

  #call<K extends keyof ThreadAnswers>(request: ThreadRequest & { kind: K }, transfer: ArrayBuffer[] = []): Promise<ThreadAnswers[K]> {
    const unavailable = this.#unavailable();
    if (unavailable !== undefined) return Promise.reject(unavailable);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      // First: a request that cannot be cloned throws here and leaves nothing pending.
      this.#thread.postMessage({ ...request, id }, transfer);
      this.#pending.set(id, { resolve, reject });
    });
  }

  #settle(reply: ThreadReply): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (reply.ok) pending.resolve(reply.value as never);
    else pending.reject(rebuildThreadError(reply.error));
  }

  /** The thread is gone (or going): fail what is pending and everything after. The first reason wins. */
  #lose(reason: WorkerError): void {
    this.#gone ??= reason;
    this.#state = 'closed';
    for (const pending of this.#pending.values()) pending.reject(this.#gone);
    this.#pending.clear();
  }

  /** Marks `weights` as the thread's until `call` settles. */
  async #lend(call: Promise<void>): Promise<void> {
    this.#weightsLoans++;
    try {
      await call;
    } finally {
      this.#weightsLoans--;
    }
  }

  /** What every call fails with once the thread is ending or gone. */
  #unavailable(): WorkerError | undefined {
    if (this.#state === 'closing') return new WorkerError('DTRAIN_WORKER_THREAD', 'compute thread disposed');
    return this.#gone;
  }

  /** A call the state does not allow; a thread that is ending or gone says so instead. */
  #refuse(what: string): Promise<never> {
    return Promise.reject(this.#unavailable() ?? new WorkerError('DTRAIN_WORKER_STATE', `compute thread: ${what}`));
  }

  #requireViews(): { readonly weights: Float32Array; readonly gradients: Float32Array } {
    if (this.#views === undefined) throw new WorkerError('DTRAIN_WORKER_STATE', 'compute thread: no model loaded; call load first');
    return this.#views;
  }
}
