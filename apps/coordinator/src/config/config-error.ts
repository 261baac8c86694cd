/**
 * The job config's one error class. Every ConfigError is a user's mistake that
 * the user fixes in their config file: the CLI prints the message as one line
 * and exits 2, never a stack trace. Nothing is retried.
 */

/** Stable error codes. Never rename one: scripts and tests match on them. */
export type ConfigErrorCode =
  /** A value of the wrong type or out of range, an unknown or missing key, or a missing file a field names. */
  | 'DTRAIN_CONFIG_INVALID'
  /** The config file is not valid YAML / JSON; the message starts with `file:line:col`. */
  | 'DTRAIN_CONFIG_PARSE'
  /** The config file itself cannot be found or read. */
  | 'DTRAIN_CONFIG_NOT_FOUND';

export interface ConfigErrorOptions {
  /** Default 'DTRAIN_CONFIG_INVALID'. */
  readonly code?: ConfigErrorCode;
  /** The config's source (file path, or a name for a config sent over the wire); undefined when unknown. */
  readonly source?: string;
  readonly cause?: unknown;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code: ConfigErrorCode;
  /** Dotted path of the offending field (`training.optimizer.beta1`, `model.layers[2]`); undefined for file-level errors. */
  readonly field: string | undefined;
  /** Where the config came from, so a caller juggling several configs can say which one. */
  readonly source: string | undefined;

  /**
   * @param message the whole one-line message, field included
   *   (`training.batchSize: expected a positive integer, got -3`).
   */
  constructor(message: string, field?: string, options: ConfigErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'DTRAIN_CONFIG_INVALID';
    this.field = field;
    this.source = options.source;
  }
}

/** A DTRAIN_CONFIG_INVALID error for `field`: the message is `<field>: <detail>`. */
export function invalidField(field: string, detail: string): ConfigError {
  return new ConfigError(`${field}: ${detail}`, field);
}

export function isConfigError(error: unknown, code?: ConfigErrorCode): error is ConfigError {
  return error instanceof ConfigError && (code === undefined || error.code === code);
}
