/**
 * Copies between float32 tensors and flat arrays without going through
 * `dataSync` copies or new tensors where the active backend allows it. The
 * worker's per-step I/O (gradients out, weights in) is the only user; all
 * knowledge of backend internals lives here, behind one API with a generic
 * path (`dataSync` + `set` out, a new tensor in) that is correct on any
 * backend, tfjs-node's 'tensorflow' included.
 *
 * Backend internals read, as of tfjs 4.22:
 * - wasm: `backend.dataIdMap.get(dataId)` → `{ id, memoryOffset, refCount }`;
 *   values are float32s at `memoryOffset` in `backend.wasm.HEAPF32` (a view
 *   replaced whenever the heap grows, so it is looked up on every call).
 *   XNNPACK caches operators built from a weight tensor's values (packed
 *   matmul and conv weights), keyed by the tensor's `id` and dropped when that
 *   id is disposed; an in-place write therefore re-registers the id, or the
 *   next forward pass would still use the old weights.
 * - cpu: `backend.data.get(dataId)` → `{ values, refCount }`; `values` is the
 *   tensor's own typed array.
 * Anything that does not look like that takes the generic path.
 */

import * as tf from '@tensorflow/tfjs-core';
import { EngineError, EngineErrorCode } from './engine-error.js';

type DataId = object;

/** The parts of tfjs-backend-wasm's `BackendWasm` used here. */
interface WasmBackendInternals {
  readonly wasm: {
    readonly HEAPF32: Float32Array;
    readonly tfjs: {
      registerTensor(id: number, size: number, memoryOffset: number): void;
      disposeData(id: number): void;
    };
  };
  readonly dataIdMap: {
    has(dataId: DataId): boolean;
    get(dataId: DataId): { readonly id: number; readonly memoryOffset: number; readonly refCount: number };
  };
}

/** The parts of tfjs-backend-cpu's `MathBackendCPU` used here. */
interface CpuBackendInternals {
  readonly data: {
    has(dataId: DataId): boolean;
    get(dataId: DataId): { readonly values?: unknown; readonly refCount: number };
  };
}

/** How one kind of backend reads and writes a float32 tensor's values. */
export interface TensorMemory {
  /** 'wasm', 'cpu' or 'generic': which access this is, for tests and logs. */
  readonly kind: 'wasm' | 'cpu' | 'generic';
  /** Copies the tensor's values into `target[offset, offset + size)`. */
  read(tensor: tf.Tensor, target: Float32Array, offset: number): void;
  /**
   * Overwrites `variable`'s values from `variableOffset` on with `values`, in
   * its own memory; false (nothing written) when that memory is or may be
   * seen by another tensor, or is out of reach.
   */
  overwrite(variable: tf.Tensor, values: Float32Array, variableOffset: number): boolean;
  /** Whether a tensor made from an array keeps that array as its memory (so the caller must not reuse it). */
  readonly keepsWrittenArrays: boolean;
  /** Called with a tensor whose memory the engine allocated and hands to no one else. */
  adopt(tensor: tf.Tensor): void;
}

function isWasmBackend(backend: unknown): backend is WasmBackendInternals {
  const candidate = backend as Partial<WasmBackendInternals> | undefined;
  return (
    candidate?.wasm?.HEAPF32 instanceof Float32Array &&
    typeof candidate.wasm.tfjs?.registerTensor === 'function' &&
    typeof candidate.wasm.tfjs.disposeData === 'function' &&
    typeof candidate.dataIdMap?.get === 'function' &&
    typeof candidate.dataIdMap.has === 'function'
  );
}

function isCpuBackend(backend: unknown): backend is CpuBackendInternals {
  const candidate = backend as Partial<CpuBackendInternals> | undefined;
  return typeof candidate?.data?.get === 'function' && typeof candidate.data.has === 'function';
}

/** Correct on every backend: one `dataSync` copy out, a new tensor in. */
export const GENERIC_MEMORY: TensorMemory = {
  kind: 'generic',
  read(tensor, target, offset) {
    target.set(tensor.dataSync() as Float32Array, offset);
  },
  overwrite: () => false,
  // tfjs-node keeps the array until the tensor is first used; cpu keeps it for good.
  keepsWrittenArrays: true,
  adopt: () => undefined,
};

function wasmMemory(backend: WasmBackendInternals): TensorMemory {
  const location = (tensor: tf.Tensor): { id: number; index: number; refCount: number } | undefined => {
    // has() first: get() of an id this backend lacks moves the data here from another backend.
    if (tensor.dtype !== 'float32' || !backend.dataIdMap.has(tensor.dataId)) return undefined;
    const data = backend.dataIdMap.get(tensor.dataId);
    if (data.memoryOffset % 4 !== 0) return undefined;
    return { id: data.id, index: data.memoryOffset / 4, refCount: data.refCount };
  };
  return {
    kind: 'wasm',
    read(tensor, target, offset) {
      const at = location(tensor);
      if (at === undefined) return GENERIC_MEMORY.read(tensor, target, offset);
      target.set(backend.wasm.HEAPF32.subarray(at.index, at.index + tensor.size), offset);
    },
    overwrite(variable, values, variableOffset) {
      const at = location(variable);
      // Each wasm data id has its own malloc'd block, so its refCount is the whole truth about sharing.
      if (at === undefined || at.refCount !== 1) return false;
      backend.wasm.HEAPF32.set(values, at.index + variableOffset);
      // Drop XNNPACK's operators packed from the old values (see the file comment).
      backend.wasm.tfjs.disposeData(at.id);
      backend.wasm.tfjs.registerTensor(at.id, variable.size, at.index * 4);
      return true;
    },
    // `write` copies the array into the wasm heap at once.
    keepsWrittenArrays: false,
    adopt: () => undefined,
  };
}

/**
 * Data ids whose cpu memory the engine allocated itself. The cpu backend
 * keeps the array a tensor is made from (the caller's, perhaps) and a
 * contiguous `slice` is a view of its input's array under a new data id with
 * its own refCount, so refCount alone cannot show that memory is unshared:
 * writes in place go only to arrays the engine made and gave to no one.
 */
const engineOwnedCpuData = new WeakSet<DataId>();

function cpuMemory(backend: CpuBackendInternals): TensorMemory {
  const valuesOf = (tensor: tf.Tensor): { values: Float32Array; refCount: number } | undefined => {
    if (tensor.dtype !== 'float32' || !backend.data.has(tensor.dataId)) return undefined;
    const data = backend.data.get(tensor.dataId);
    if (!(data.values instanceof Float32Array) || data.values.length !== tensor.size) return undefined;
    return { values: data.values, refCount: data.refCount };
  };
  return {
    kind: 'cpu',
    read(tensor, target, offset) {
      const data = valuesOf(tensor);
      if (data === undefined) return GENERIC_MEMORY.read(tensor, target, offset);
      target.set(data.values, offset);
    },
    overwrite(variable, values, variableOffset) {
      const data = valuesOf(variable);
      if (data === undefined || data.refCount !== 1 || !engineOwnedCpuData.has(variable.dataId)) return false;
      data.values.set(values, variableOffset);
      return true;
    },
    keepsWrittenArrays: true,
    adopt(tensor) {
      engineOwnedCpuData.add(tensor.dataId);
    },
  };
}

const memories = new WeakMap<object, TensorMemory>();

/** The memory access for the active backend: direct on wasm and cpu, generic elsewhere. */
export function tensorMemory(): TensorMemory {
  const backend: unknown = tf.backend();
  const known = memories.get(backend as object);
  if (known !== undefined) return known;
  let memory = GENERIC_MEMORY;
  const name = tf.getBackend();
  if (name === 'wasm' && isWasmBackend(backend)) memory = wasmMemory(backend);
  if (name === 'cpu' && isCpuBackend(backend)) memory = cpuMemory(backend);
  memories.set(backend as object, memory);
  return memory;
}

function assertFits(what: string, size: number, offset: number, length: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + size > length) {
    throw new EngineError(
      EngineErrorCode.SHAPE,
      `${what}: ${size} values at offset ${offset} do not fit in ${length}`,
    );
  }
}

/** Copies a float32 tensor's values into `target` from `offset` on (default 0). */
export function readTensorInto(tensor: tf.Tensor, target: Float32Array, offset = 0, memory = tensorMemory()): void {
  assertFits('readTensorInto', tensor.size, offset, target.length);
  memory.read(tensor, target, offset);
}

/**
 * Overwrites `variable`'s values from `variableOffset` on with `values` in
 * its own memory, when no other tensor can see that memory; false (nothing
 * written) otherwise, and the caller writes a new tensor instead.
 */
export function overwriteInPlace(variable: tf.Tensor, values: Float32Array, variableOffset = 0, memory = tensorMemory()): boolean {
  assertFits('overwriteInPlace', values.length, variableOffset, variable.size);
  return values.length === 0 || memory.overwrite(variable, values, variableOffset);
}

/**
 * A new tensor of `like`'s shape holding `values` from `offset` on and
 * `like`'s own values elsewhere: the fallback when a write cannot go in place.
 */
export function tensorFromValues(like: tf.Tensor, values: Float32Array, offset = 0, memory = tensorMemory()): tf.Tensor {
  assertFits('tensorFromValues', values.length, offset, like.size);
  let full = values;
  if (values.length !== like.size) {
    full = new Float32Array(like.size);
    memory.read(like, full, 0);
    full.set(values, offset);
  } else if (memory.keepsWrittenArrays) {
    // slice, not the view: the backend would keep the caller's memory.
    full = values.slice();
  }
  const tensor = tf.tensor(full, like.shape, 'float32');
  memory.adopt(tensor);
  return tensor;
}
