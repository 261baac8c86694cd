/**
 * The one msgpackr instance of the protocol, for frame headers only.
 *
 * Options, and why:
 * - `useRecords: false`: records make a frame depend on structures sent in
 *   earlier frames; every frame here must decode on its own.
 * - `mapsAsObjects: true`: headers are plain objects the validators read by key.
 * - `int64AsType: 'number'`: a peer encoder may write large integers (ms
 *   timestamps) as int64; validators expect numbers, not BigInts.
 *
 * Extension table: none registered. Tensors never pass through msgpack (they
 * are framed as raw bytes beside the header), so there is nothing to extend;
 * a future extension gets its type code here, in this table, and nowhere else.
 */
import { Packr } from 'msgpackr';
import { ProtocolError, ProtocolErrorCode } from './errors.js';

/** msgpack extension type codes the protocol uses (0–127 are application-defined). Empty by design. */
export const HEADER_EXTENSION_CODES = {} as const satisfies Record<string, number>;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** The msgpack bytes of a header. The result may share memory with the packer: copy it before the next call. */
export function packHeader(header: unknown): Uint8Array {
  return packr.pack(header);
}

/** Decodes exactly `bytes` (trailing bytes are an error) into a header value. */
export function unpackHeader(bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ProtocolError(ProtocolErrorCode.MALFORMED, `frame header: undecodable msgpack (${reason})`, { cause: error });
  }
}
