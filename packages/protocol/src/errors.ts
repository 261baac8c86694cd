/**
 * The protocol's one error class. Every ProtocolError raised while decoding
 * means the peer cannot be trusted to speak the protocol any more, so the
 * caller does the same thing for every code: close that one connection
 * (CloseCode.protocolError) and keep serving the others. The codes exist for
 * logs, metrics labels and the peer's error message, not for branching.
 */

/** Stable error codes. Never rename one: dashboards and peers match on them. */
export const ProtocolErrorCode = {
  /** The frame is shorter than its prefix, header or tensor lengths say. */
  TRUNCATED: 'DTRAIN_PROTOCOL_TRUNCATED',
  /** Bad magic, undecodable header, or a field missing / of the wrong type / out of range. */
  MALFORMED: 'DTRAIN_PROTOCOL_MALFORMED',
  /** The frame is longer than the receiver's `maxBytes`. */
  OVERSIZED: 'DTRAIN_PROTOCOL_OVERSIZED',
  /** The frame's message type code is not one this build knows. */
  UNKNOWN_TYPE: 'DTRAIN_PROTOCOL_UNKNOWN_TYPE',
  /** The frame's (or hello's) protocol version is not PROTOCOL_VERSION. */
  VERSION: 'DTRAIN_PROTOCOL_VERSION',
  /** The host is big-endian; tensors travel as raw little-endian bytes. Fatal for the process. */
  BIG_ENDIAN_HOST: 'DTRAIN_PROTOCOL_BIG_ENDIAN_HOST',
  /** An error that was not a dtrain error, normalised by `toErrorMessage`. */
  INTERNAL: 'DTRAIN_PROTOCOL_INTERNAL',
} as const;
export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/**
 * Describes a received value for an error message: short, and never the
 * whole value (a wrong-typed field may be a megabyte string).
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string': {
      const quoted = JSON.stringify(value);
      return quoted.length > 42 ? `${quoted.slice(0, 40)}…" (${value.length} chars)` : quoted;
    }
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'object':
      if (Array.isArray(value)) return `an array of length ${value.length}`;
      if (ArrayBuffer.isView(value)) {
        return value instanceof DataView ? `a DataView of ${value.byteLength} bytes` : `a ${value.constructor.name} of length ${(value as Uint8Array).length}`;
      }
      return Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null
        ? 'an object'
        : `a ${(value as object).constructor?.name ?? 'object'}`;
    default:
      return `a ${typeof value}`;
  }
}

/** Throws MALFORMED in the shape every validator uses: `path: expected X, got Y`. */
export function malformed(path: string, expected: string, value: unknown): never {
  throw new ProtocolError(ProtocolErrorCode.MALFORMED, `${path}: expected ${expected}, got ${describeValue(value)}`);
}
