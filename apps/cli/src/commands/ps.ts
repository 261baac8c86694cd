import { hostname } from 'node:os';
import { ShardProcess } from '@dtrain/ps';
import { intFlag, parseFlags, required } from '../args.js';
import { readToken } from '../token.js';
import { UsageError, UsageErrorCode } from '../usage-error.js';

/**
 * `dtrain ps`: one parameter-server shard. It dials the coordinator,
 * registers as shard `--index` (`auto`: the trailing -N of the host name,
 * as a StatefulSet names its pods), and serves the workers' data plane and
 * /metrics /healthz /readyz on `--port`.
 */
export async function psCommand(argv: readonly string[]): Promise<number> {
  const f = parseFlags('ps', argv, {
    coordinator: { type: 'string' },
    'token-file': { type: 'string' },
    index: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    advertise: { type: 'string' },
    'reconnect-timeout': { type: 'string' },
    linger: { type: 'boolean' },
    quiet: { type: 'boolean' },
  });
  const url = required('ps', 'coordinator', f.coordinator);
  if (!/^wss?:\/\/[^/]+/.test(url)) throw new UsageError(UsageErrorCode.USAGE, `dtrain ps: --coordinator must be a ws:// or wss:// URL, got ${JSON.stringify(url)}`);
  if (f.advertise !== undefined && !/^wss?:\/\/[^/]+/.test(f.advertise)) throw new UsageError(UsageErrorCode.USAGE, `dtrain ps: --advertise must be a ws:// or wss:// URL, got ${JSON.stringify(f.advertise)}`);
  const index = shardIndex(f.index ?? '0');
  const line = (level: string) => (m: string) => process.stderr.write(`${new Date().toISOString()} ps ${level} ${m}\n`);
  const shard = new ShardProcess({
    coordinator: url,
    token: readToken('ps', f['token-file']) ?? '',
    index,
    host: f.host ?? '0.0.0.0',
    port: intFlag('ps', 'port', f.port, 7100, 0, 65535),
    ...(f.advertise === undefined ? {} : { advertise: f.advertise }),
    reconnectTimeoutMs: intFlag('ps', 'reconnect-timeout', f['reconnect-timeout'], 120, 1, 86_400) * 1000,
    linger: f.linger === true,
    log: { info: f.quiet === true ? () => undefined : line('info'), warn: line('warn'), error: line('error') },
  });
  const onTerm = (): void => shard.stop('SIGTERM');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onTerm);
  try {
    const advertised = await shard.start();
    process.stderr.write(`dtrain ps: shard ${index} serving ${advertised}\n`);
  } catch (error) {
    throw new UsageError(UsageErrorCode.USAGE, `dtrain ps: --port: cannot listen: ${error instanceof Error ? error.message : String(error)}`);
  }
  const exit = await shard.exited;
  if (exit.code !== 0) process.stderr.write(`dtrain ps: ${exit.reason}\n`);
  return exit.code;
}

/** `--index N`, or `auto`: the ordinal at the end of the host name (`job-ps-2` → 2). */
function shardIndex(raw: string): number {
  if (raw === 'auto') {
    const host = hostname();
    const match = /-(\d+)$/.exec(host);
    if (match === null) throw new UsageError(UsageErrorCode.USAGE, `dtrain ps: --index auto needs a host name ending in -N (a StatefulSet pod's), got ${JSON.stringify(host)}`);
    return Number(match[1]);
  }
  return intFlag('ps', 'index', raw, 0, 0, 255);
}
