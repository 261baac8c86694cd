/**
 * Entry of the compute thread (see compute-thread.ts), and nothing else: it
 * runs on import. Activates the tfjs backend in this thread (the engine's
 * wasm kernels register here, with this thread's tfjs), reports it, then
 * answers the main thread's requests one at a time in the order sent.
 */

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { initBackend, tf } from '@dtrain/engine';
import { WorkerCompute } from './compute.js';
import {
  threadErrorData,
  type ThreadAnswers,
  type ThreadReply,
  type ThreadRequest,
  type ThreadRequestEnvelope,
  type ThreadStart,
  type ThreadStartReport,
} from './compute-thread-messages.js';
import { WorkerError } from './errors.js';

interface Loaded {
  readonly compute: WorkerCompute;
  /** Views of the shared buffers: written by the main thread, written by this one. */
  readonly weights: Float32Array;
  readonly gradients: Float32Array;
  /** False until the shared weights have held a version the model was set from. */
  hasWeights: boolean;
}

function threadPort(): MessagePort {
  if (parentPort === null) throw new WorkerError('DTRAIN_WORKER_INTERNAL', 'compute-thread-main.js is the entry of a worker thread, not a module to import');
  return parentPort;
}

const port = threadPort();
const start = workerData as ThreadStart;
let loaded: Loaded | undefined;

function requireLoaded(): Loaded {
  // ComputeThread sends nothing before `load`, but a `load` can fail.
  if (loaded === undefined) throw new WorkerError('DTRAIN_WORKER_STATE', 'compute thread: no model loaded');
  return loaded;
}

async function answer(request: ThreadRequest): Promise<ThreadAnswers[keyof ThreadAnswers]> {
  switch (request.kind) {
    case 'load': {
      loaded?.compute.dispose();
      loaded = undefined;
      const weights = new Float32Array(request.weights);
      // Without initial weights the buffer holds nothing yet (zeros, or chunks being written): compute waits for a `weights` request.
      const compute = await WorkerCompute.fromWelcome(request.welcome, weights);
      loaded = { compute, weights, gradients: new Float32Array(request.gradients), hasWeights: request.hasWeights };
      return undefined;
    }
    case 'chunk':
      requireLoaded().compute.addChunk(request.chunk);
      return undefined;
    case 'weights': {
      const current = requireLoaded();
      // writeWeights keeps no reference to the array it reads: the main thread may write the next version once this answers.
      current.compute.setWeights(request.version, current.weights);
      current.hasWeights = true;
      return undefined;
    }
    case 'compute': {
      const current = requireLoaded();
      if (!current.hasWeights) {
        throw new WorkerError('DTRAIN_WORKER_VERSION', `assignment for version ${request.assignment.version} but no weights have been set yet`);
      }
      const started = performance.now();
      // Straight into shared memory: no model-sized copy between the threads.
      const result = current.compute.compute(request.assignment, current.gradients, request.read);
      // Blocks this thread, as a long computation does (see ComputeThreadOptions.extraStepMs).
      if ((start.extraStepMs ?? 0) > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, start.extraStepMs);
      const { numTensors, numBytes } = tf.memory();
      return {
        loss: result.loss,
        accuracy: result.accuracy,
        seconds: (performance.now() - started) / 1000,
        dataSeconds: result.dataSeconds,
        stepSeconds: result.stepSeconds,
        // The gradients' values are checked by the shards, fused with their sum: a pass over the model less here (0.2 s a step on a 92M-parameter model).
        finite: Number.isFinite(result.loss),
        tfjsMemory: { numTensors, numBytes },
      };
    }
    case 'dispose':
      loaded?.compute.dispose();
      loaded = undefined;
      return undefined;
  }
}

let queue: Promise<void> = Promise.resolve();

function serve(envelope: ThreadRequestEnvelope): void {
  queue = queue.then(async () => {
    let reply: ThreadReply;
    try {
      reply = { id: envelope.id, ok: true, value: await answer(envelope) };
    } catch (error) {
      reply = { id: envelope.id, ok: false, error: threadErrorData(error) };
    }
    port.postMessage(reply);
    // Nothing is left to do: let the thread end on its own (ComputeThread terminates it too).
    if (envelope.kind === 'dispose') port.close();
  });
}

try {
  const backend = await initBackend(start.backend);
  port.on('message', serve);
  port.postMessage({ kind: 'ready', backend } satisfies ThreadStartReport);
} catch (error) {
  port.postMessage({ kind: 'failed', error: threadErrorData(error) } satisfies ThreadStartReport);
  port.close();
}
