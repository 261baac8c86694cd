/**
 * Which tfjs backend a process should use, decided from injected facts so the
 * policy is testable on a machine that has neither a GPU nor libtensorflow.
 * `initBackend` gathers the facts, asks `chooseBackend`, tries to load the
 * answer, and asks again with the load failure recorded until one loads.
 */

import { EngineError, EngineErrorCode } from './engine-error.js';

/** What a caller may ask for; 'auto' picks the fastest that works. */
export type BackendRequest = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/** tfjs backend names as `tf.getBackend()` reports them. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export const BACKEND_REQUESTS: readonly BackendRequest[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

/** The npm packages that provide each backend. The first two are optional and never dependencies. */
export const BackendPackage = {
  nodeGpu: '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
} as const;

/** The backend a process runs on, as reported to the coordinator and in logs. */
export interface BackendInfo {
  readonly name: BackendName;
  /** The npm package that provides the backend. */
  readonly package: string;
  /** True only for tfjs-node-gpu with a visible GPU. */
  readonly gpu: boolean;
  /** Devices the backend computes on, e.g. ['gpu:0', 'gpu:1'] or ['cpu']. */
  readonly devices: readonly string[];
  /** Why this backend: what was requested, and what was skipped or failed on the way. */
  readonly reason: string;
}

/** The facts `chooseBackend` decides from. */
export interface BackendProbe {
  readonly request: BackendRequest;
  /** Packages that resolve from the engine's location (installed). */
  readonly resolvable: ReadonlySet<string>;
  /** GPUs the CUDA runtime would see, e.g. ['gpu:0']; empty when none. */
  readonly gpuDevices: readonly string[];
  /** Packages already tried in this decision that failed to load, with why. */
  readonly failed: ReadonlyMap<string, string>;
}

interface Candidate {
  readonly name: BackendName;
  readonly package: string;
  readonly needsGpu: boolean;
}

const CANDIDATES: Readonly<Record<BackendRequest, readonly Candidate[]>> = {
  auto: [
    { name: 'tensorflow', package: BackendPackage.nodeGpu, needsGpu: true },
    { name: 'tensorflow', package: BackendPackage.node, needsGpu: false },
    { name: 'wasm', package: BackendPackage.wasm, needsGpu: false },
    { name: 'cpu', package: BackendPackage.cpu, needsGpu: false },
  ],
  tensorflow: [
    { name: 'tensorflow', package: BackendPackage.nodeGpu, needsGpu: true },
    { name: 'tensorflow', package: BackendPackage.node, needsGpu: false },
  ],
  wasm: [{ name: 'wasm', package: BackendPackage.wasm, needsGpu: false }],
  cpu: [{ name: 'cpu', package: BackendPackage.cpu, needsGpu: false }],
};

/**
 * Picks the first candidate for the request that is installed, has the GPU it
 * needs, and has not already failed to load. Throws `DTRAIN_ENGINE_BACKEND`
 * when none is left; the message lists why each was passed over.
 */
export function chooseBackend(probe: BackendProbe): BackendInfo {
  const candidates = CANDIDATES[probe.request] as readonly Candidate[] | undefined;
  if (candidates === undefined) {
    throw new EngineError(
      EngineErrorCode.BACKEND,
      `backend: expected one of ${BACKEND_REQUESTS.join(', ')}, got ${JSON.stringify(probe.request)}`,
    );
  }
  const skipped: string[] = [];
  for (const candidate of candidates) {
    const failure = probe.failed.get(candidate.package);
    if (!probe.resolvable.has(candidate.package)) {
      skipped.push(`${candidate.package} not installed`);
    } else if (candidate.needsGpu && probe.gpuDevices.length === 0) {
      skipped.push(`${candidate.package} installed but no GPU visible`);
    } else if (failure !== undefined) {
      skipped.push(`${candidate.package} failed to load (${failure})`);
    } else {
      const gpu = candidate.needsGpu;
      const devices = gpu ? [...probe.gpuDevices] : ['cpu'];
      const chosen = gpu ? `${candidate.package} on ${devices.join(', ')}` : candidate.package;
      return {
        name: candidate.name,
        package: candidate.package,
        gpu,
        devices,
        reason: [`${probe.request} requested`, ...skipped, `chose ${chosen}`].join('; '),
      };
    }
  }
  throw new EngineError(
    EngineErrorCode.BACKEND,
    `backend '${probe.request}' is not available here: ${skipped.join('; ')}`,
  );
}
