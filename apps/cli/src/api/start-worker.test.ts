import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../usage-error.js';
import { startWorker, type StartWorkerOptions } from './start-worker.js';

/** Rejects with a UsageError DTRAIN_USAGE carrying exactly this message. */
async function expectUsage(options: StartWorkerOptions, message: string): Promise<void> {
  const error: unknown = await startWorker(options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  expect(error).toMatchObject({ code: 'DTRAIN_USAGE', message });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

describe('startWorker', () => {
  it('names the option of an invalid value, in code terms', async () => {
    await expectUsage({ coordinator: 'http://x' }, 'startWorker: options.coordinator must be a ws:// or wss:// URL, got "http://x"');
    await expectUsage({ coordinator: 'ws://x', backend: 'gpu' as 'cpu' }, 'startWorker: options.backend must be one of auto, tensorflow, wasm, cpu, got "gpu"');
    await expectUsage({ coordinator: 'ws://x', reconnectTimeoutMs: 10 }, 'startWorker: options.reconnectTimeoutMs must be an integer in [1000, 86400000], got 10');
    await expectUsage({ coordinator: 'ws://x', metricsHost: '127.0.0.1' }, 'startWorker: options.metricsHost needs options.metricsPort');
    await expectUsage({ coordinator: 'ws://x', metricsPort: 70000 }, 'startWorker: options.metricsPort must be an integer in [0, 65535], got 70000');
    await expectUsage({ coordinator: 'ws://x', recordPath: '' }, 'startWorker: options.recordPath needs a file name');
  });

  it('an unopenable record file is named, and the metrics server it had opened is closed again', async () => {
    const port = await freePort();
    const error: unknown = await startWorker({ coordinator: 'ws://127.0.0.1:1', metricsPort: port, metricsHost: '127.0.0.1', recordPath: '/nonexistent/dir/record.jsonl', log: 'silent' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/^startWorker: options\.recordPath: cannot open \/nonexistent\/dir\/record\.jsonl: /);
    // The port is free again: listening on it succeeds.
    const again = createServer();
    await new Promise<void>((resolve, reject) => again.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise((resolve) => again.close(resolve));
  });

  it('serves its metrics, logs through the given logger, and stop() leaves with code 0 and closes the metrics server', async () => {
    const lines: string[] = [];
    let started!: () => void;
    const backendLogged = new Promise<void>((resolve) => (started = resolve));
    const worker = await startWorker({
      // Nothing listens on port 1: the worker keeps retrying until stopped.
      coordinator: 'ws://127.0.0.1:1',
      backend: 'cpu',
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      log: {
        info: (m) => {
          lines.push(m);
          if (m.startsWith('backend ')) started();
        },
        warn: (m) => lines.push(m),
        error: (m) => lines.push(m),
      },
    });
    expect(worker.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(worker.metricsUrl ?? '');
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^# HELP /m);
    await backendLogged;
    expect(lines[0]).toMatch(/^backend cpu /);
    worker.stop();
    await expect(worker.done).resolves.toEqual({ code: 0, reason: 'left: stop' });
    await expect(fetch(worker.metricsUrl ?? '')).rejects.toThrow();
  }, 30_000);

  it('stop() at once, before the compute thread is up: done resolves and the process exits by itself (no thread left running)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dtrain-early-stop-'));
    try {
      const script = join(dir, 'early-stop.mts');
      const module = fileURLToPath(new URL('./start-worker.ts', import.meta.url));
      writeFileSync(
        script,
        `import { startWorker } from ${JSON.stringify(module)};
const worker = await startWorker({ coordinator: 'ws://127.0.0.1:1', backend: 'cpu', log: 'silent' });
worker.stop();
console.log(JSON.stringify(await worker.done));
`,
      );
      // A leaked thread would keep the process alive until the timeout kills it.
      const run = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8', timeout: 30_000 });
      expect(run.signal, run.stderr).toBeNull();
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout.trim()).toBe('{"code":0,"reason":"left: stop"}');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
