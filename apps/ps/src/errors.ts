/**
 * Failures of a shard process. The code says what the caller does next: the
 * process exits (CONNECT, REJECTED) or the coordinator is told and the
 * connection closes (SETUP, STATE).
 */

/** Stable error codes. Never rename one: scripts and tests match on them. */
export const ShardErrorCode = {
  /** No coordinator within the reconnect window: the process exits 1; check the coordinator address and restart the shard. */
  CONNECT: 'DTRAIN_SHARD_CONNECT',
  /** The coordinator refused this shard (wrong token, an index another live shard holds, an index ≥ cluster.psShards): the process exits 3; fix the flags. */
  REJECTED: 'DTRAIN_SHARD_REJECTED',
  /** A setup that cannot be built (layout, range, optimizer state): reported to the coordinator, the connection closes. */
  SETUP: 'DTRAIN_SHARD_SETUP',
  /** A control message the shard's state does not allow (prepare before setup, apply without prepare): reported to the coordinator, a bug on one side. */
  STATE: 'DTRAIN_SHARD_STATE',
} as const;
export type ShardErrorCode = (typeof ShardErrorCode)[keyof typeof ShardErrorCode];

export class ShardError extends Error {
  override readonly name = 'ShardError';
  readonly code: ShardErrorCode;

  constructor(code: ShardErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
