/** A wrong command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  readonly code = 'DTRAIN_USAGE';

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
