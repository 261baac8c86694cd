/**
 * Float32 arrays ⇄ the little-endian bytes that tfjs's weights.bin and the
 * optimizer's state file hold. On a little-endian host (every platform Node
 * and tfjs run on in practice) writing is a zero-copy view.
 */

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The array's bytes in little-endian order; a view of the same memory on little-endian hosts. */
export function float32ToLittleEndian(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.byteLength);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
  return bytes;
}

/**
 * A new, aligned Float32Array from little-endian bytes (a Buffer read from
 * disk may sit at any offset of a shared pool, so it is copied, not viewed).
 * `bytes.byteLength` must be a multiple of 4; callers check and name the file.
 */
export function float32FromLittleEndian(bytes: Uint8Array): Float32Array {
  const values = new Float32Array(bytes.byteLength / 4);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(values.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
  }
  return values;
}
