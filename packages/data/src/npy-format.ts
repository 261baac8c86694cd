import { dataErrorAt } from './data-error.js';
import type { DataPosition } from './data-error.js';

/**
 * The NumPy .npy format (numpy.lib.format, versions 1.0, 2.0 and 3.0): the
 * magic `\x93NUMPY`, a major and minor version byte, the header length
 * (uint16 LE in 1.0, uint32 LE in 2.0/3.0), a Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }`
 * padded with spaces to a multiple of 64 bytes, then the elements.
 */

/** The element types read, by the descr's kind and size (e.g. 'f4'). */
export const NPY_DTYPES = {
  u1: { name: 'uint8', bytes: 1 },
  i1: { name: 'int8', bytes: 1 },
  u2: { name: 'uint16', bytes: 2 },
  i2: { name: 'int16', bytes: 2 },
  u4: { name: 'uint32', bytes: 4 },
  i4: { name: 'int32', bytes: 4 },
  i8: { name: 'int64', bytes: 8 },
  f4: { name: 'float32', bytes: 4 },
  f8: { name: 'float64', bytes: 8 },
} as const satisfies Record<string, { name: string; bytes: number }>;

export type NpyDtype = keyof typeof NPY_DTYPES;

/** One decoded .npy array: its shape and every element as float32, in C order. */
export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /** Bytes before the first element; element i sits at dataOffset + i * elementBytes. */
  readonly dataOffset: number;
  readonly elementBytes: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function isDtype(code: string): code is NpyDtype {
  return Object.hasOwn(NPY_DTYPES, code);
}

/**
 * Decodes a .npy file. Errors name the file and byte: MAGIC, TRUNCATED,
 * TRAILING, or NPY for a header that is malformed or describes what this
 * reader cannot take (Fortran order, big-endian, other dtypes, an int64
 * beyond ±2^53, a 0-d array).
 * @param gunzipped says the bytes were decompressed, so offsets say so.
 */
export function parseNpy(bytes: Uint8Array, file: string, gunzipped = false): NpyArray {
  const header = parseNpyHeader(bytes, file, bytes.length, gunzipped);
  const count = header.shape.reduce((a, b) => a * b, 1);
  const data = decodeNpyElements(bytes, header.dataOffset, count, header, file, gunzipped ? { gunzipped } : {});
  return { ...header, data };
}

/** A .npy header: what the elements are and where they start. */
export interface NpyHeader {
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  /** Bytes before the first element; element i sits at dataOffset + i * elementBytes. */
  readonly dataOffset: number;
  readonly elementBytes: number;
}

/**
 * Decodes a .npy header from the file's first bytes (all of the preamble and
 * header, when the file has them) and checks the file's size against it, so
 * a truncated file is found without reading its body.
 * @param fileSize the size of the whole file (of the gunzipped bytes when `gunzipped`).
 */
export function parseNpyHeader(bytes: Uint8Array, file: string, fileSize: number, gunzipped = false): NpyHeader {
  const at = (byteOffset: number): DataPosition => ({ byteOffset, ...(gunzipped ? { gunzipped } : {}) });
  const fail = (code: Parameters<typeof dataErrorAt>[0], byteOffset: number, what: string): never => {
    throw dataErrorAt(code, file, at(byteOffset), what);
  };
  const magicOk = MAGIC.every((b, i) => i >= bytes.length || bytes[i] === b);
  if (!magicOk) fail('DTRAIN_DATA_MAGIC', 0, 'expected the .npy magic number \\x93NUMPY; this is not a NumPy .npy file');
  if (bytes.length < 10) fail('DTRAIN_DATA_TRUNCATED', bytes.length, `file ends inside the .npy preamble (${bytes.length} bytes)`);
  const major = bytes[6] as number;
  if (major < 1 || major > 3) fail('DTRAIN_DATA_NPY', 6, `.npy format version ${major}.${bytes[7] as number} is not supported; expected 1.0, 2.0 or 3.0`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail('DTRAIN_DATA_TRUNCATED', bytes.length, 'file ends inside the .npy header length');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthBytes;
  const dataOffset = headerStart + headerLength;
  if (bytes.length < dataOffset) {
    fail('DTRAIN_DATA_TRUNCATED', bytes.length, `file ends inside the .npy header (declared ${headerLength} bytes, found ${bytes.length - headerStart})`);
  }
  // 1.0/2.0 headers are latin-1 (ASCII in practice); 3.0 allows UTF-8 field names.
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataOffset));
  const { dtype, shape } = parseHeader(header, (what) => fail('DTRAIN_DATA_NPY', headerStart, what));

  const elementBytes = NPY_DTYPES[dtype].bytes;
  const count = shape.reduce((a, b) => a * b, 1);
  const bodyBytes = count * elementBytes;
  const available = fileSize - dataOffset;
  if (available < bodyBytes) {
    fail('DTRAIN_DATA_TRUNCATED', fileSize, `file ends early: shape (${shape.join(', ')}) of ${NPY_DTYPES[dtype].name} needs ${bodyBytes} bytes of data, found ${available}; the file is truncated`);
  }
  if (available > bodyBytes) {
    fail('DTRAIN_DATA_TRAILING', dataOffset + bodyBytes, `${available - bodyBytes} bytes after the array's ${bodyBytes} bytes of data; expected the file to end there`);
  }
  return { dtype, shape, dataOffset, elementBytes };
}

/** Where decoded elements go and where they came from, for {@link decodeNpyElements}. */
export interface DecodeNpyOptions {
  /** Output array; default a new one of `count` elements. */
  readonly out?: Float32Array;
  /** Index in the file's array of the first element decoded (a range read); default 0. */
  readonly firstElement?: number;
  /** The file was gzip-compressed, so offsets say so. */
  readonly gunzipped?: boolean;
}

/**
 * `count` elements of the header's dtype from `bytes` at `offset`, as
 * float32. An int64 beyond ±2^53 is DTRAIN_DATA_NPY naming `file`, the
 * element and its byte in the file.
 */
export function decodeNpyElements(
  bytes: Uint8Array,
  offset: number,
  count: number,
  header: NpyHeader,
  file: string,
  options: DecodeNpyOptions = {},
): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = options.firstElement ?? 0;
  return decodeElements(view, offset, count, header.dtype, options.out ?? new Float32Array(count), (index) => {
    const element = first + index;
    const byteOffset = header.dataOffset + element * header.elementBytes;
    throw dataErrorAt(
      'DTRAIN_DATA_NPY',
      file,
      { byteOffset, ...(options.gunzipped === true ? { gunzipped: true } : {}) },
      `int64 element ${element} is beyond ±2^53 and cannot be held exactly; expected smaller values`,
    );
  });
}

function parseHeader(header: string, fail: (what: string) => never): { dtype: NpyDtype; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    return fail(`malformed .npy header ${JSON.stringify(header.trim())}; expected 'descr', 'fortran_order' and 'shape'`);
  }
  if (fortran === 'True') {
    return fail('array is in Fortran (column-major) order; expected C order (save it with numpy.ascontiguousarray first)');
  }
  const order = descr[0];
  const code = descr.slice(1);
  if (!isDtype(code) || !(order === '<' || order === '|' || (order === '>' && NPY_DTYPES[code].bytes === 1))) {
    const known = Object.values(NPY_DTYPES).map((t) => t.name).join(', ');
    return fail(`dtype ${JSON.stringify(descr)} is not supported; expected little-endian ${known}`);
  }
  const dims = shapeText.split(',').map((d) => d.trim()).filter((d) => d !== '');
  const shape = dims.map((d) => (/^\d+$/.test(d) ? Number(d) : Number.NaN));
  if (shape.some((d) => !Number.isSafeInteger(d))) return fail(`malformed shape (${shapeText}) in the .npy header`);
  if (shape.length === 0) return fail('array is 0-dimensional; expected samples along the first axis');
  return { dtype: code, shape };
}

function decodeElements(view: DataView, offset: number, count: number, dtype: NpyDtype, out: Float32Array, tooBig: (index: number) => never): Float32Array {
  const step = NPY_DTYPES[dtype].bytes;
  const read: (byte: number) => number = {
    u1: (b: number) => view.getUint8(b),
    i1: (b: number) => view.getInt8(b),
    u2: (b: number) => view.getUint16(b, true),
    i2: (b: number) => view.getInt16(b, true),
    u4: (b: number) => view.getUint32(b, true),
    i4: (b: number) => view.getInt32(b, true),
    i8: (b: number) => {
      const value = view.getBigInt64(b, true);
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) tooBig((b - offset) / 8);
      return Number(value);
    },
    f4: (b: number) => view.getFloat32(b, true),
    f8: (b: number) => view.getFloat64(b, true),
  }[dtype];
  for (let i = 0; i < count; i++) out[i] = read(offset + i * step);
  return out;
}
