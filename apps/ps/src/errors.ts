/**
 * Failures of a shard process, with stable codes:
 * - `DTRAIN_SHARD_CONNECT`: no coordinator within the reconnect window; the process exits 1.
 * - `DTRAIN_SHARD_REJECTED`: the coordinator refused this shard (wrong token, an index
 *   another live shard holds, an index ≥ cluster.psShards); the process exits 3.
 * - `DTRAIN_SHARD_SETUP`: a setup that cannot be built (layout, range, optimizer
 *   state); reported to the coordinator, the connection closes.
 * - `DTRAIN_SHARD_STATE`: a control message the shard's state does not allow (prepare
 *   before setup, apply without prepare); reported to the coordinator.
 */
export type ShardErrorCode = 'DTRAIN_SHARD_CONNECT' | 'DTRAIN_SHARD_REJECTED' | 'DTRAIN_SHARD_SETUP' | 'DTRAIN_SHARD_STATE';

export class ShardError extends Error {
  readonly code: ShardErrorCode;

  constructor(code: ShardErrorCode, message: string) {
    super(message);
    this.name = 'ShardError';
    this.code = code;
  }
}
