/** Stable error codes of the command line. Never rename one: scripts and tests match on them. */
export const UsageErrorCode = {
  /** A wrong command line (unknown or missing flag, a malformed value, an unreadable input file it names): printed as one line, exit code 2; the user fixes the command. */
  USAGE: 'DTRAIN_USAGE',
} as const;
export type UsageErrorCode = (typeof UsageErrorCode)[keyof typeof UsageErrorCode];

/** A wrong command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code: UsageErrorCode;

  constructor(code: UsageErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
