/**
 * The engine's one error class. The code says what the caller does next:
 * `BACKEND` and `MODEL_SPEC` / `MODEL_FILE` are a user's or a machine's setup
 * mistake (fail the job or the worker with the one-line message), `SHAPE` is
 * a batch that does not fit the model (a bug or a corrupt assignment: fail
 * the step), `KERNEL` is a compute kernel asked for something it does not
 * implement, `INTERNAL` is a bug in the engine.
 */

/** Stable error codes. Never rename one: logs and peers match on them. */
export const EngineErrorCode = {
  /** The requested tfjs backend cannot be loaded or initialised here (or lacks a kernel the engine needs): fail the worker; pick another backend. */
  BACKEND: 'DTRAIN_ENGINE_BACKEND',
  /** A model spec or topology is invalid; the message names layer and field: the user fixes the model config. */
  MODEL_SPEC: 'DTRAIN_ENGINE_MODEL_SPEC',
  /** A saved model directory is missing a file or holds a malformed one: the user fixes or re-saves the model. */
  MODEL_FILE: 'DTRAIN_ENGINE_MODEL_FILE',
  /** A flat array or batch does not match the model's shapes or weight layout: fail the step. */
  SHAPE: 'DTRAIN_ENGINE_SHAPE',
  /** An engine-registered kernel was called with attributes it does not support: fail the step. */
  KERNEL: 'DTRAIN_ENGINE_KERNEL',
  /** A bug in the engine (a kernel it registered was called without an input it needs): fail the step and report it. */
  INTERNAL: 'DTRAIN_ENGINE_INTERNAL',
} as const;
export type EngineErrorCode = (typeof EngineErrorCode)[keyof typeof EngineErrorCode];

export class EngineError extends Error {
  override readonly name = 'EngineError';
  readonly code: EngineErrorCode;

  constructor(code: EngineErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** A short description of a received value for one-line error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const quoted = JSON.stringify(value);
    return quoted.length > 42 ? `${quoted.slice(0, 40)}…"` : quoted;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    const text = JSON.stringify(value);
    return text.length <= 40 ? text : `an array of length ${value.length}`;
  }
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/** The message of anything thrown, for `reason` strings and wrapped errors. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.message;
  return String(error);
}
