/**
 * @dtrain/ps — one parameter-server shard process (`dtrain ps`): it owns a
 * contiguous range of a job's flat weights, sums the workers' gradient
 * chunks, applies exactly the pushes the coordinator commits, and streams
 * the new weights to every worker.
 */
export { ShardProcess, type ShardProcessOptions, type ShardExit, type ShardLogger } from './shard-process.js';
export { ShardError, ShardErrorCode } from './errors.js';
