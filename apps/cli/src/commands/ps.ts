import { launchShard, shardIndex } from '../api/start-shard.js';
import { checkWsUrl, cliNaming } from '../api/start-worker-options.js';
import { intFlag, parseFlags, required } from '../args.js';
import { readToken } from '../token.js';

/** startShard's options as this command's flags, for its messages. */
const NAMING = cliNaming('ps', { reconnectTimeoutMs: 'reconnect-timeout' });

/**
 * `dtrain ps`: one parameter-server shard. It dials the coordinator,
 * registers as shard `--index` (`auto`: the trailing -N of the host name,
 * as a StatefulSet names its pods), and serves the workers' data plane and
 * /metrics /healthz /readyz on `--port`. Flags become startShard's options.
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
  const url = checkWsUrl(NAMING, 'coordinator', required('ps', 'coordinator', f.coordinator));
  if (f.advertise !== undefined) checkWsUrl(NAMING, 'advertise', f.advertise);
  const index = f.index === 'auto' ? shardIndex(NAMING, 'auto') : intFlag('ps', 'index', f.index ?? '0', 0, 0, 255);
  const token = readToken('ps', f['token-file']);
  const shard = await launchShard(
    {
      coordinator: url,
      ...(token === undefined ? {} : { token }),
      index,
      ...(f.host === undefined ? {} : { host: f.host }),
      port: intFlag('ps', 'port', f.port, 7100, 0, 65535),
      ...(f.advertise === undefined ? {} : { advertise: f.advertise }),
      reconnectTimeoutMs: intFlag('ps', 'reconnect-timeout', f['reconnect-timeout'], 120, 1, 86_400) * 1000,
      linger: f.linger === true,
      log: f.quiet === true ? 'quiet' : 'stderr',
      handleSignals: true,
    },
    NAMING,
  );
  process.stderr.write(`dtrain ps: shard ${shard.index} serving ${shard.url}\n`);
  const exit = await shard.done;
  if (exit.code !== 0) process.stderr.write(`dtrain ps: ${exit.reason}\n`);
  return exit.code;
}
