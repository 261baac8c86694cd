/**
 * Loads and activates the tfjs backend a process computes with. This is the
 * engine's entry point: call `initBackend` once at start (again is safe) and
 * use the engine's `tf` export afterwards.
 *
 * tfjs-node and tfjs-node-gpu need libtensorflow, which this project's build
 * machines cannot download, so they are never dependencies: they are found
 * at run time through a computed `import()` specifier and may fail to load,
 * in which case the next candidate is tried and the failure kept in `reason`.
 */

import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import {
  BACKEND_REQUESTS,
  BackendPackage,
  chooseBackend,
  type BackendInfo,
  type BackendName,
  type BackendProbe,
  type BackendRequest,
} from './backend-choice.js';
import { EngineError, EngineErrorCode, errorText } from './engine-error.js';
import { visibleGpuDevices } from './gpu-probe.js';
import { registerWasmKernels } from './register-wasm-kernels.js';

const requireFromHere = createRequire(import.meta.url);

let active: { readonly request: BackendRequest; readonly info: BackendInfo } | undefined;
let queue: Promise<unknown> = Promise.resolve();

function isResolvable(specifier: string): boolean {
  try {
    requireFromHere.resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

async function activate(choice: BackendInfo): Promise<void> {
  // A variable specifier keeps bundlers and tsc from resolving optional packages.
  const specifier: string = choice.package;
  await import(specifier);
  if (tf.findBackendFactory(choice.name) === null) {
    throw new EngineError(EngineErrorCode.BACKEND, `${choice.package} loaded but registered no '${choice.name}' backend with this @tensorflow/tfjs-core`);
  }
  // setBackend reports an initialisation failure (e.g. a missing .wasm file)
  // as false plus a console warning, not as an exception.
  if (!(await tf.setBackend(choice.name))) {
    throw new EngineError(EngineErrorCode.BACKEND, `tfjs could not initialise the '${choice.name}' backend`);
  }
  if (choice.name === 'wasm') registerWasmKernels();
}

/**
 * Asks `chooseBackend`, tries to activate its answer, and asks again with the
 * failure recorded until one activates. Separate from the real probing so the
 * fall-through is testable with a fake `activate`.
 */
export async function activateFirstWorking(
  probe: Omit<BackendProbe, 'failed'>,
  activateChoice: (choice: BackendInfo) => Promise<void>,
): Promise<BackendInfo> {
  const failed = new Map<string, string>();
  for (;;) {
    const choice = chooseBackend({ ...probe, failed });
    try {
      await activateChoice(choice);
      return choice;
    } catch (error) {
      failed.set(choice.package, errorText(error));
    }
  }
}

async function initialise(request: BackendRequest): Promise<BackendInfo> {
  if (active !== undefined && active.request === request && tf.getBackend() === active.info.name) {
    return active.info;
  }
  // Training needs tfjs-core's gradient functions, which only register as a
  // side effect of loading tfjs-layers (its bundle carries
  // register_all_gradients); say so here rather than rely on some other
  // module happening to import it.
  await import('@tensorflow/tfjs-layers');
  const resolvable = new Set(Object.values(BackendPackage).filter(isResolvable));
  const gpuDevices = resolvable.has(BackendPackage.nodeGpu) ? visibleGpuDevices() : [];
  const info = await activateFirstWorking({ request, resolvable, gpuDevices }, activate);
  active = { request, info };
  return info;
}

/**
 * Chooses, loads and activates a tfjs backend. 'auto' (default) tries
 * tfjs-node-gpu (when a GPU is visible), tfjs-node, wasm, then cpu; a named
 * request that cannot be met throws `DTRAIN_ENGINE_BACKEND`. Registers the
 * engine's wasm kernels when wasm is chosen. Concurrent and repeated calls
 * are safe: they run one after the other and a repeat is answered from cache.
 */
export function initBackend(request: BackendRequest = 'auto'): Promise<BackendInfo> {
  if (!BACKEND_REQUESTS.includes(request)) {
    return Promise.reject(
      new EngineError(
        EngineErrorCode.BACKEND,
        `backend: expected one of ${BACKEND_REQUESTS.join(', ')}, got ${JSON.stringify(request)}`,
      ),
    );
  }
  const result = queue.then(() => initialise(request));
  queue = result.catch(() => undefined);
  return result;
}

/**
 * The backends that load and initialise here, fastest first, e.g.
 * ['wasm', 'cpu']: for test suites that run one contract over every backend.
 * Leaves the backend that was active before (if any) active again.
 */
export async function availableBackends(): Promise<BackendName[]> {
  const previous = active?.request;
  const names: BackendName[] = [];
  for (const request of ['tensorflow', 'wasm', 'cpu'] as const) {
    try {
      names.push((await initBackend(request)).name);
    } catch {
      // Not available here; the reason is not the caller's concern.
    }
  }
  if (previous !== undefined) await initBackend(previous);
  return names;
}
