import type { MessageKind } from './messages.js';

/** Element types a tensor field can have on the wire; both are 4 bytes per element. */
export type TensorDtype = 'float32' | 'uint32';

export interface TensorField {
  readonly name: string;
  readonly dtype: TensorDtype;
}

export const TENSOR_BYTES_PER_ELEMENT = 4;

/**
 * Which fields of each message travel as raw tensor bytes instead of inside
 * the msgpack header, in the order the encoder writes them. Adding a typed
 * array field to a message means adding it here (and bumping nothing else:
 * the descriptor list names it).
 */
export const TENSOR_FIELDS: { readonly [K in MessageKind]: readonly TensorField[] } = {
  hello: [],
  welcome: [],
  assignment: [{ name: 'sampleIds', dtype: 'uint32' }],
  heartbeat: [],
  leave: [],
  error: [],
  dataChunk: [
    { name: 'features', dtype: 'float32' },
    { name: 'labels', dtype: 'float32' },
  ],
  standby: [],
  shutdown: [],
  pushReport: [],
  dataHello: [],
  shardHello: [],
  shardSetup: [],
  shardState: [{ name: 'values', dtype: 'float32' }],
  shardSetupDone: [],
  shardReady: [],
  shardPush: [],
  shardPrepare: [],
  shardPrepared: [],
  shardDecide: [],
  shardApplied: [],
  shardSnapshot: [],
  shardSnapshotDone: [],
  prefetch: [{ name: 'sampleIds', dtype: 'uint32' }],
  readFailure: [],
};

/** A view of `count` elements at `byteOffset` of `buffer`; the offset must be 4-aligned. */
export function viewTensor(dtype: TensorDtype, buffer: ArrayBufferLike, byteOffset: number, count: number): Float32Array | Uint32Array {
  return dtype === 'float32' ? new Float32Array(buffer, byteOffset, count) : new Uint32Array(buffer, byteOffset, count);
}

/** A fresh, aligned copy of raw little-endian tensor bytes (for frames received at a misaligned offset). */
export function copyTensor(dtype: TensorDtype, bytes: Uint8Array): Float32Array | Uint32Array {
  const count = bytes.byteLength / TENSOR_BYTES_PER_ELEMENT;
  const tensor = dtype === 'float32' ? new Float32Array(count) : new Uint32Array(count);
  new Uint8Array(tensor.buffer).set(bytes);
  return tensor;
}
