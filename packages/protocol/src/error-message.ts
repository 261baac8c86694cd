import type { ErrorMessage } from './messages.js';
import { ProtocolError, ProtocolErrorCode } from './errors.js';

/**
 * Longest `message` an ErrorMessage carries, in UTF-16 code units. An error
 * can quote a whole input; the peer only needs enough to log it.
 */
export const MAX_ERROR_MESSAGE_CHARS = 1000;

/** dtrain codes of other packages (DTRAIN_CONFIG_INVALID, …) are passed through as they are. */
const DTRAIN_CODE = /^DTRAIN_[A-Z0-9_]+$/;

/**
 * Turns anything thrown into the `error` message sent to a peer before the
 * connection closes. Known dtrain errors keep their code; everything else
 * becomes DTRAIN_PROTOCOL_INTERNAL, with the error's name and message so the
 * peer's log says what went wrong.
 */
export function toErrorMessage(error: unknown): ErrorMessage {
  if (error instanceof ProtocolError) {
    return { type: 'error', code: error.code, message: clip(error.message) };
  }
  if (error instanceof Error) {
    const code: unknown = (error as Error & { code?: unknown }).code;
    if (typeof code === 'string' && DTRAIN_CODE.test(code)) {
      return { type: 'error', code, message: clip(error.message) };
    }
    return { type: 'error', code: ProtocolErrorCode.INTERNAL, message: clip(`${error.name}: ${error.message}`) };
  }
  return { type: 'error', code: ProtocolErrorCode.INTERNAL, message: clip(`non-error thrown: ${safeString(error)}`) };
}

function clip(message: string): string {
  return message.length > MAX_ERROR_MESSAGE_CHARS ? `${message.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…` : message;
}

/** String() can itself throw (a hostile toString, a Symbol.toPrimitive); the boundary must not. */
function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? JSON.stringify(value) : String(value);
  } catch {
    return `a value of type ${typeof value}`;
  }
}
