import { readFileSync } from 'node:fs';
import { Worker } from '@dtrain/worker';
import { BACKENDS, choiceFlag, intFlag, parseFlags, required } from '../args.js';
import { readToken } from '../token.js';
import { UsageError } from '../usage-error.js';

/** `dtrain worker`: connect to a coordinator and compute until the job ends. */
export async function workerCommand(argv: readonly string[]): Promise<number> {
  const f = parseFlags('worker', argv, {
    coordinator: { type: 'string' },
    backend: { type: 'string' },
    'token-file': { type: 'string' },
    'tls-ca': { type: 'string' },
    'reconnect-timeout': { type: 'string' },
    quiet: { type: 'boolean' },
  });
  const url = required('worker', 'coordinator', f.coordinator);
  if (!/^wss?:\/\/[^/]+/.test(url)) throw new UsageError(`dtrain worker: --coordinator must be a ws:// or wss:// URL, got ${JSON.stringify(url)}`);
  const token = readToken('worker', f['token-file']);
  let ca: Buffer | undefined;
  if (f['tls-ca'] !== undefined) {
    try {
      ca = readFileSync(f['tls-ca']);
    } catch {
      throw new UsageError(`dtrain worker: --tls-ca: cannot read ${f['tls-ca']}`);
    }
  }
  const line = (level: string) => (m: string) => process.stderr.write(`${new Date().toISOString()} worker ${level} ${m}\n`);
  const worker = new Worker({
    coordinator: url,
    backend: choiceFlag('worker', 'backend', f.backend, BACKENDS, 'auto'),
    ...(token === undefined ? {} : { token }),
    ...(ca === undefined ? {} : { ca }),
    reconnectTimeoutMs: intFlag('worker', 'reconnect-timeout', f['reconnect-timeout'], 120, 1, 86_400) * 1000,
    log: { info: f.quiet === true ? () => undefined : line('info'), warn: line('warn'), error: line('error') },
  });
  const exit = await worker.run();
  if (exit.code !== 0) process.stderr.write(`dtrain worker: ${exit.reason}\n`);
  return exit.code;
}
