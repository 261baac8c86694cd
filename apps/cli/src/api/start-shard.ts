import { hostname } from 'node:os';
import { ShardProcess, type ShardExit } from '@dtrain/ps';
import { UsageError, UsageErrorCode } from '../usage-error.js';
import { apiNaming, checkInt, checkWsUrl, messageOf, resolveLogger, type OptionNaming, type ServiceLogOption } from './start-worker-options.js';

/** Options of {@link startShard}: the flags of `dtrain ps`, typed. */
export interface StartShardOptions {
  /** ws:// or wss:// URL of the coordinator whose job has `cluster.psShards` > 0. Required. */
  readonly coordinator: string;
  /** Shared secret of the job: sent to the coordinator, required of workers. Default: none. */
  readonly token?: string;
  /** This shard's index, 0 … cluster.psShards − 1, or `'auto'`: the trailing -N of the host name (a StatefulSet pod's). Default 0. */
  readonly index?: number | 'auto';
  /** Interface the workers' data plane (and /metrics /healthz /readyz) listens on. Default `'0.0.0.0'`. */
  readonly host?: string;
  /** Port of the data plane; 0 picks a free one. Default 7100. */
  readonly port?: number;
  /** ws:// or wss:// URL workers dial; must stay the same across restarts. Default `ws://<host>:<bound port>` (the machine's host name when listening on every interface). */
  readonly advertise?: string;
  /** Give up after this long without reaching the coordinator, in milliseconds (1 s … 24 h). Default 120 000. */
  readonly reconnectTimeoutMs?: number;
  /** Stay up after the job finished (a StatefulSet would restart an exited pod) until `stop()`. Default false. */
  readonly linger?: boolean;
  /** Log lines: `'stderr'` (as the CLI), `'quiet'` (warnings and errors), `'silent'`, or a logger. Default `'stderr'`. */
  readonly log?: ServiceLogOption;
  /** Stop on SIGTERM and SIGINT (installs process handlers until the shard is done). Default false. */
  readonly handleSignals?: boolean;
}

/** A running parameter-server shard. */
export interface ShardHandle {
  /** Resolves when the shard is done: code 0 when the job ended or it was stopped, 1 when it lost the coordinator, 3 when refused. */
  readonly done: Promise<ShardExit>;
  /** The URL workers are told to dial. */
  readonly url: string;
  /** The shard index it registered as. */
  readonly index: number;
  /** Stops at once, as SIGTERM does: the coordinator pauses the job until a shard with this index is back. */
  stop(reason?: string): void;
}

/**
 * Starts a parameter-server shard in this process: it listens for the
 * workers' data plane, dials the coordinator and registers as shard `index`.
 * Resolves once it listens.
 *
 * @throws UsageError (`DTRAIN_USAGE`) naming the option for an invalid option
 *   or a port it cannot listen on.
 */
export function startShard(options: StartShardOptions): Promise<ShardHandle> {
  return launchShard(options, apiNaming('startShard'));
}

/** {@link startShard} with the command line's option names (not exported from the package). */
export async function launchShard(options: StartShardOptions, naming: OptionNaming): Promise<ShardHandle> {
  const coordinator = checkWsUrl(naming, 'coordinator', options.coordinator);
  if (options.advertise !== undefined) checkWsUrl(naming, 'advertise', options.advertise);
  const index = shardIndex(naming, options.index);
  const port = checkInt(naming, 'port', options.port, 7100, 0, 65535);
  const reconnectTimeoutMs = checkInt(naming, 'reconnectTimeoutMs', options.reconnectTimeoutMs, 120_000, 1_000, 86_400_000);
  const shard = new ShardProcess({
    coordinator,
    token: options.token ?? '',
    index,
    host: options.host ?? '0.0.0.0',
    port,
    ...(options.advertise === undefined ? {} : { advertise: options.advertise }),
    reconnectTimeoutMs,
    linger: options.linger === true,
    log: resolveLogger(options.log, 'ps'),
  });
  const onTerm = (): void => shard.stop('SIGTERM');
  const release = (): void => {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onTerm);
  };
  if (options.handleSignals === true) {
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onTerm);
    void shard.exited.then(release);
  }
  let url: string;
  try {
    url = await shard.start();
  } catch (error) {
    // Nothing listens or dials yet: there is nothing to stop, only the handlers to give back.
    release();
    throw new UsageError(UsageErrorCode.USAGE, `${naming.prefix}${naming.name('port')}: cannot listen: ${messageOf(error)}`, { cause: error });
  }
  return { done: shard.exited, url, index, stop: (reason = 'stop') => shard.stop(reason) };
}

/** An index, or `'auto'`: the ordinal at the end of the host name (`job-ps-2` → 2). */
export function shardIndex(naming: OptionNaming, index: number | 'auto' | undefined): number {
  if (index === 'auto') {
    const host = hostname();
    const match = /-(\d+)$/.exec(host);
    if (match === null) throw new UsageError(UsageErrorCode.USAGE, `${naming.prefix}${naming.name('index')} auto needs a host name ending in -N (a StatefulSet pod's), got ${JSON.stringify(host)}`);
    return Number(match[1]);
  }
  return checkInt(naming, 'index', index, 0, 0, 255);
}
