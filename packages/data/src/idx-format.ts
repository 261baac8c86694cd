import { dataErrorAt } from './data-error.js';

/** The element types of the IDX format, by type code (the magic number's third byte). */
export const IDX_TYPES = {
  0x08: { name: 'ubyte', bytes: 1 },
  0x09: { name: 'byte', bytes: 1 },
  0x0b: { name: 'short', bytes: 2 },
  0x0c: { name: 'int', bytes: 4 },
  0x0d: { name: 'float', bytes: 4 },
  0x0e: { name: 'double', bytes: 8 },
} as const satisfies Record<number, { name: string; bytes: number }>;

export type IdxTypeCode = keyof typeof IDX_TYPES;

/** One decoded IDX file: its dimensions and every element as float32. */
export interface IdxArray {
  readonly typeCode: IdxTypeCode;
  readonly dims: readonly number[];
  /** Elements in file order (row-major), converted to float32. */
  readonly data: Float32Array;
  /** Size of the header in bytes; element i sits at headerBytes + i * elementBytes. */
  readonly headerBytes: number;
  readonly elementBytes: number;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function isTypeCode(code: number): code is IdxTypeCode {
  return Object.hasOwn(IDX_TYPES, code);
}

const EXPECTED_MAGIC = 'an IDX magic number (00 00, type 08/09/0b/0c/0d/0e, dimension count ≥ 1)';

/** An IDX header: what the elements are and where they start. */
export interface IdxHeader {
  readonly typeCode: IdxTypeCode;
  readonly dims: readonly number[];
  /** Size of the header in bytes; element i sits at headerBytes + i * elementBytes. */
  readonly headerBytes: number;
  readonly elementBytes: number;
}

/**
 * Decodes an IDX file (the MNIST family): a 4-byte magic `00 00 <type> <ndims>`,
 * ndims big-endian uint32 sizes, then the elements big-endian.
 * @param file names the file in error messages.
 * @param gunzipped says the bytes were decompressed, so offsets say so.
 */
export function parseIdx(bytes: Uint8Array, file: string, gunzipped = false): IdxArray {
  const header = parseIdxHeader(bytes, file, bytes.length, gunzipped);
  const count = header.dims.reduce((a, b) => a * b, 1);
  return { ...header, data: decodeIdxElements(bytes, header.typeCode, header.headerBytes, count) };
}

/**
 * Decodes an IDX header from the file's first bytes (all of the header, when
 * the file has it: at most 4 + 4 × 255 bytes) and checks the file's size
 * against it, so a truncated file is found without reading its body.
 * @param fileSize the size of the whole file (of the gunzipped bytes when `gunzipped`).
 */
export function parseIdxHeader(bytes: Uint8Array, file: string, fileSize: number, gunzipped = false): IdxHeader {
  const at = (byteOffset: number) => ({ byteOffset, ...(gunzipped ? { gunzipped } : {}) });
  const head = bytes.subarray(0, 4);
  const typeCode = bytes[2];
  const badZeros = (bytes.length > 0 && bytes[0] !== 0) || (bytes.length > 1 && bytes[1] !== 0);
  if (badZeros) {
    throw dataErrorAt('DTRAIN_DATA_MAGIC', file, at(0), `expected ${EXPECTED_MAGIC}, found ${hex(head)}`);
  }
  if (typeCode !== undefined && !isTypeCode(typeCode)) {
    throw dataErrorAt('DTRAIN_DATA_MAGIC', file, at(2), `unknown IDX element type 0x${hex(bytes.subarray(2, 3))}; expected ${EXPECTED_MAGIC}, found ${hex(head)}`);
  }
  if (bytes[3] === 0) {
    throw dataErrorAt('DTRAIN_DATA_MAGIC', file, at(3), `IDX dimension count is 0; expected ${EXPECTED_MAGIC}, found ${hex(head)}`);
  }
  if (bytes.length < 4 || typeCode === undefined) {
    throw dataErrorAt('DTRAIN_DATA_TRUNCATED', file, at(bytes.length), `file ends inside the IDX magic number; expected 4 bytes, found ${bytes.length}`);
  }
  const ndims = bytes[3] as number;
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw dataErrorAt(
      'DTRAIN_DATA_TRUNCATED',
      file,
      at(bytes.length),
      `file ends inside the IDX header; expected ${headerBytes} header bytes for ${ndims} dimensions, found ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let d = 0; d < ndims; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    dims.push(size);
    count *= size;
  }
  const type = IDX_TYPES[typeCode];
  const expected = headerBytes + count * type.bytes;
  const described = `${dims.join('×')} ${type.name}`;
  if (fileSize < expected) {
    throw dataErrorAt(
      'DTRAIN_DATA_TRUNCATED',
      file,
      at(fileSize),
      `file ends inside the data; expected ${expected} bytes for ${described}, found ${fileSize}`,
    );
  }
  if (fileSize > expected) {
    throw dataErrorAt(
      'DTRAIN_DATA_TRAILING',
      file,
      at(expected),
      `${fileSize - expected} bytes after the data; expected the file to end at byte ${expected} for ${described}`,
    );
  }
  return { typeCode, dims, headerBytes, elementBytes: type.bytes };
}

/** The longest IDX header: 4 magic bytes and 255 dimension sizes. */
export const IDX_MAX_HEADER_BYTES = 4 + 4 * 255;

/** `count` elements of `typeCode` from `bytes` at `offset`, as float32 (into `out` when given). */
export function decodeIdxElements(
  bytes: Uint8Array,
  typeCode: IdxTypeCode,
  offset: number,
  count: number,
  out: Float32Array = new Float32Array(count),
): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Single-byte types convert in one native TypedArray.set; wider ones are big-endian, so DataView.
  switch (typeCode) {
    case 0x08:
      out.set(bytes.subarray(offset, offset + count));
      break;
    case 0x09:
      out.set(new Int8Array(bytes.buffer, bytes.byteOffset + offset, count));
      break;
    case 0x0b:
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      break;
    case 0x0c:
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      break;
    case 0x0d:
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      break;
    case 0x0e:
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      break;
  }
  return out;
}

/**
 * Encodes an IDX file; the inverse of {@link parseIdx}, for tests and dataset
 * conversion tools. Values are written as the given type (truncated to it).
 */
export function encodeIdx(typeCode: IdxTypeCode, dims: readonly number[], values: ArrayLike<number>): Uint8Array {
  const type = IDX_TYPES[typeCode];
  const headerBytes = 4 + 4 * dims.length;
  const out = new Uint8Array(headerBytes + values.length * type.bytes);
  const view = new DataView(out.buffer);
  out[2] = typeCode;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    const o = headerBytes + i * type.bytes;
    if (typeCode === 0x08) view.setUint8(o, v);
    else if (typeCode === 0x09) view.setInt8(o, v);
    else if (typeCode === 0x0b) view.setInt16(o, v, false);
    else if (typeCode === 0x0c) view.setInt32(o, v, false);
    else if (typeCode === 0x0d) view.setFloat32(o, v, false);
    else view.setFloat64(o, v, false);
  }
  return out;
}
