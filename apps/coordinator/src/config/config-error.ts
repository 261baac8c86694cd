/**
 * The job config's one error class. Every ConfigError is a user's mistake that
 * the user fixes in their config file: the CLI prints the message as one line
 * and exits 2, never a stack trace. Nothing is retried.
 */

/** Stable error codes. Never rename one: scripts and tests match on them. */
export const ConfigErrorCode = {
  /** A value of the wrong type or out of range, an unknown or missing key, or a missing file a field names: the user fixes that field. */
  INVALID: 'DTRAIN_CONFIG_INVALID',
  /** The config file is not valid YAML / JSON; the message starts with `file:line:col`: the user fixes the syntax there. */
  PARSE: 'DTRAIN_CONFIG_PARSE',
  /** The config file itself cannot be found or read: the user fixes the path or its permissions. */
  NOT_FOUND: 'DTRAIN_CONFIG_NOT_FOUND',
} as const;
export type ConfigErrorCode = (typeof ConfigErrorCode)[keyof typeof ConfigErrorCode];

/** Extra context for a {@link ConfigError}; `cause` as for any Error. */
export interface ConfigErrorOptions extends ErrorOptions {
  /** Dotted path of the offending field; undefined for file-level errors. */
  readonly field?: string;
  /** The config's source (file path, or a name for a config sent over the wire); undefined when unknown. */
  readonly source?: string;
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
  constructor(code: ConfigErrorCode, message: string, options: ConfigErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
    this.source = options.source;
  }
}

/** A DTRAIN_CONFIG_INVALID error for `field`: the message is `<field>: <detail>`. */
export function invalidField(field: string, detail: string): ConfigError {
  return new ConfigError(ConfigErrorCode.INVALID, `${field}: ${detail}`, { field });
}

export function isConfigError(error: unknown, code?: ConfigErrorCode): error is ConfigError {
  return error instanceof ConfigError && (code === undefined || error.code === code);
}
