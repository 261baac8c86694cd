import type { NpyDtype } from './npy-format.js';

/*
 * Writes .npy bytes by hand, per numpy.lib.format, for tests: the reader is
 * checked against the spec rather than against itself.
 */

export interface EncodeNpyOptions {
  /** Format version: 1 (uint16 header length), 2 or 3 (uint32). Default 1. */
  readonly version?: 1 | 2 | 3;
  /** Byte-order character of the descr. Default '<' ('|' for 1-byte types). */
  readonly order?: '<' | '>' | '|';
  readonly fortranOrder?: boolean;
}

const WRITERS: Record<NpyDtype, { bytes: number; write: (view: DataView, at: number, value: number, little: boolean) => void }> = {
  u1: { bytes: 1, write: (v, at, x) => v.setUint8(at, x) },
  i1: { bytes: 1, write: (v, at, x) => v.setInt8(at, x) },
  u2: { bytes: 2, write: (v, at, x, le) => v.setUint16(at, x, le) },
  i2: { bytes: 2, write: (v, at, x, le) => v.setInt16(at, x, le) },
  u4: { bytes: 4, write: (v, at, x, le) => v.setUint32(at, x, le) },
  i4: { bytes: 4, write: (v, at, x, le) => v.setInt32(at, x, le) },
  i8: { bytes: 8, write: (v, at, x, le) => v.setBigInt64(at, BigInt(x), le) },
  f4: { bytes: 4, write: (v, at, x, le) => v.setFloat32(at, x, le) },
  f8: { bytes: 8, write: (v, at, x, le) => v.setFloat64(at, x, le) },
};

export function encodeNpy(dtype: NpyDtype, shape: readonly number[], values: readonly number[], options: EncodeNpyOptions = {}): Uint8Array {
  const version = options.version ?? 1;
  const { bytes, write } = WRITERS[dtype];
  const order = options.order ?? (bytes === 1 ? '|' : '<');
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${order}${dtype}', 'fortran_order': ${options.fortranOrder === true ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const preamble = version === 1 ? 10 : 12;
  // Pad with spaces and end with a newline so the data starts on a 64-byte boundary, as numpy does.
  const padded = dict.padEnd(Math.ceil((preamble + dict.length + 1) / 64) * 64 - preamble - 1, ' ') + '\n';
  const header = new TextEncoder().encode(padded);
  const out = new Uint8Array(preamble + header.length + values.length * bytes);
  const view = new DataView(out.buffer);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(header, preamble);
  values.forEach((value, i) => write(view, preamble + header.length + i * bytes, value, order !== '>'));
  return out;
}
