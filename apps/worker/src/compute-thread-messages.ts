/**
 * What crosses between the main thread and the compute thread (see
 * compute-thread.ts): the start data, requests with their answers, and
 * errors, which do not survive `postMessage` as themselves (structured clone
 * keeps an Error's message but not its class or `code`).
 */

import { DataError, type DataErrorCode } from '@dtrain/data';
import { EngineError, type BackendInfo, type BackendRequest, type EngineErrorCode } from '@dtrain/engine';
import type { AssignmentMessage, DataChunkMessage, WelcomeMessage } from '@dtrain/protocol';
import type { ReadSamples } from './compute.js';
import { WorkerError, type WorkerErrorCode } from './errors.js';

/** `workerData` of the thread. */
export interface ThreadStart {
  readonly backend: BackendRequest;
  /** Milliseconds the thread stays blocked after each step, as if it computed longer (tests); default 0. */
  readonly extraStepMs?: number;
}

/** The thread's first message: the backend is up, or it is not (and the thread ends). */
export type ThreadStartReport = { readonly kind: 'ready'; readonly backend: BackendInfo } | { readonly kind: 'failed'; readonly error: ThreadErrorData };

/** tfjs memory in the thread after a step, as `WorkerMetrics.tfjsMemory` takes it. */
export interface ThreadTfjsMemory {
  readonly numTensors: number;
  readonly numBytes: number;
}

/** One step's result; the gradients themselves are in the shared `gradients` buffer. */
export interface ThreadComputeResult {
  /** Mean loss of the batch plus regularisation losses. */
  readonly loss: number;
  /** Fraction of the batch predicted right (training mode); undefined for regression losses. */
  readonly accuracy: number | undefined;
  /** Seconds in the thread from taking the assignment to the gradients being in shared memory. */
  readonly seconds: number;
  /** Of which gathering the batch from the chunk cache, seconds. */
  readonly dataSeconds: number;
  /** Of which the forward and backward pass, seconds. */
  readonly stepSeconds: number;
  /** The loss is finite (the gradients' values are checked by the shards, fused with their sum). */
  readonly finite: boolean;
  readonly tfjsMemory: ThreadTfjsMemory;
}

/**
 * Requests, answered in the order sent. `load` builds the model; the two
 * SharedArrayBuffers are the flat weights the main thread writes and the
 * gradients the thread writes, `layout.totalSize` float32 values each.
 */
export type ThreadRequest =
  | {
      readonly kind: 'load';
      readonly welcome: WelcomeMessage;
      readonly weights: SharedArrayBuffer;
      readonly gradients: SharedArrayBuffer;
      /** The shared weights already hold `welcome.version` (else they come with a later `weights` request). */
      readonly hasWeights: boolean;
    }
  | { readonly kind: 'chunk'; readonly chunk: DataChunkMessage }
  | { readonly kind: 'weights'; readonly version: number }
  | { readonly kind: 'compute'; readonly assignment: AssignmentMessage; readonly read?: ReadSamples }
  | { readonly kind: 'dispose' };

/** What each request kind resolves with. */
export interface ThreadAnswers {
  readonly load: undefined;
  readonly chunk: undefined;
  readonly weights: undefined;
  readonly compute: ThreadComputeResult;
  readonly dispose: undefined;
}

export type ThreadRequestEnvelope = ThreadRequest & { readonly id: number };

export type ThreadReply =
  | { readonly id: number; readonly ok: true; readonly value: ThreadAnswers[keyof ThreadAnswers] }
  | { readonly id: number; readonly ok: false; readonly error: ThreadErrorData };

/** An error, flattened for `postMessage`. */
export interface ThreadErrorData {
  readonly name: string;
  readonly message: string;
  readonly code: string | undefined;
  readonly stack: string | undefined;
}

export function threadErrorData(error: unknown): ThreadErrorData {
  if (error instanceof Error) {
    const code: unknown = (error as Error & { code?: unknown }).code;
    return { name: error.name, message: error.message, code: typeof code === 'string' ? code : undefined, stack: error.stack };
  }
  return { name: 'Error', message: `non-error thrown: ${typeof error === 'string' ? error : typeof error}`, code: undefined, stack: undefined };
}

/**
 * The error the caller would have seen had the computation run on its own
 * thread: dtrain errors come back as their own class with their code, so
 * ComputeThread and WorkerCompute fail alike; anything else becomes
 * `DTRAIN_WORKER_COMPUTE` naming the original. The stack is the thread's.
 */
export function rebuildThreadError(data: ThreadErrorData): Error {
  // The codes were read off instances of these classes in the thread.
  const error =
    data.code === undefined
      ? undefined
      : data.name === 'WorkerError'
        ? new WorkerError(data.code as WorkerErrorCode, data.message)
        : data.name === 'EngineError'
          ? new EngineError(data.code as EngineErrorCode, data.message)
          : data.name === 'DataError'
            ? new DataError(data.code as DataErrorCode, data.message)
            : undefined;
  const result = error ?? new WorkerError('DTRAIN_WORKER_COMPUTE', `${data.name}: ${data.message}`);
  if (data.stack !== undefined) result.stack = data.stack;
  return result;
}
