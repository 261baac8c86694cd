import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../usage-error.js';
import { startShard, type StartShardOptions } from './start-shard.js';

async function rejection(options: StartShardOptions): Promise<unknown> {
  return startShard(options).then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('startShard', () => {
  it('names the option of an invalid value, in code terms', async () => {
    const cases: [StartShardOptions, string][] = [
      [{ coordinator: 'tcp://x' }, 'startShard: options.coordinator must be a ws:// or wss:// URL, got "tcp://x"'],
      [{ coordinator: 'ws://x', advertise: 'x:1' }, 'startShard: options.advertise must be a ws:// or wss:// URL, got "x:1"'],
      [{ coordinator: 'ws://x', index: 256 }, 'startShard: options.index must be an integer in [0, 255], got 256'],
      [{ coordinator: 'ws://x', port: -1 }, 'startShard: options.port must be an integer in [0, 65535], got -1'],
      [{ coordinator: 'ws://x', reconnectTimeoutMs: 1.5e3 + 0.5 }, 'startShard: options.reconnectTimeoutMs must be an integer in [1000, 86400000], got 1500.5'],
    ];
    for (const [options, message] of cases) {
      const error = await rejection(options);
      expect(error).toBeInstanceOf(UsageError);
      expect(error).toMatchObject({ code: 'DTRAIN_USAGE', message });
    }
  });

  it('a port in use is named', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const error = await rejection({ coordinator: 'ws://127.0.0.1:1', host: '127.0.0.1', port, log: 'silent' });
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(/^startShard: options\.port: cannot listen: .*EADDRINUSE/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('listens, advertises its URL, serves /healthz, and stop() ends it with code 0', async () => {
    const shard = await startShard({ coordinator: 'ws://127.0.0.1:1', index: 3, host: '127.0.0.1', port: 0, log: 'silent' });
    expect(shard.index).toBe(3);
    expect(shard.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${shard.url.replace('ws:', 'http:')}/healthz`);
    expect(res.status).toBe(200);
    shard.stop('test');
    await expect(shard.done).resolves.toEqual({ code: 0, reason: 'test' });
  });
});
