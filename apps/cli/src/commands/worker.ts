import { readFileSync } from 'node:fs';
import { WorkerMetrics, createMetricsRegistry } from '@dtrain/metrics';
import { Worker, startMetricsServer, type MetricsServer, type WorkerOptions } from '@dtrain/worker';
import { BACKENDS, choiceFlag, intFlag, parseFlags, required } from '../args.js';
import { readToken } from '../token.js';
import { UsageError, UsageErrorCode } from '../usage-error.js';

/** `dtrain worker`: connect to a coordinator and compute until the job ends. */
export async function workerCommand(argv: readonly string[]): Promise<number> {
  const f = parseFlags('worker', argv, {
    coordinator: { type: 'string' },
    backend: { type: 'string' },
    'token-file': { type: 'string' },
    'tls-ca': { type: 'string' },
    'reconnect-timeout': { type: 'string' },
    'metrics-port': { type: 'string' },
    'metrics-host': { type: 'string' },
    quiet: { type: 'boolean' },
    linger: { type: 'boolean' },
    'simulate-compute-ms': { type: 'string' },
    record: { type: 'string' },
  });
  const url = required('worker', 'coordinator', f.coordinator);
  if (!/^wss?:\/\/[^/]+/.test(url)) throw new UsageError(UsageErrorCode.USAGE, `dtrain worker: --coordinator must be a ws:// or wss:// URL, got ${JSON.stringify(url)}`);
  const token = readToken('worker', f['token-file']);
  let ca: Buffer | undefined;
  if (f['tls-ca'] !== undefined) {
    try {
      ca = readFileSync(f['tls-ca']);
    } catch {
      throw new UsageError(UsageErrorCode.USAGE, `dtrain worker: --tls-ca: cannot read ${f['tls-ca']}`);
    }
  }
  const served = await serveWorkerMetrics(f['metrics-port'], f['metrics-host']);
  const line = (level: string) => (m: string) => process.stderr.write(`${new Date().toISOString()} worker ${level} ${m}\n`);
  const worker = newWorker(f.record, {
    linger: f.linger === true,
    coordinator: url,
    backend: choiceFlag('worker', 'backend', f.backend, BACKENDS, 'auto'),
    ...(token === undefined ? {} : { token }),
    ...(ca === undefined ? {} : { ca }),
    reconnectTimeoutMs: intFlag('worker', 'reconnect-timeout', f['reconnect-timeout'], 120, 1, 86_400) * 1000,
    log: { info: f.quiet === true ? () => undefined : line('info'), warn: line('warn'), error: line('error') },
    ...(served === undefined ? {} : { metrics: served.metrics }),
    ...(f['simulate-compute-ms'] === undefined ? {} : { simulateComputeMs: intFlag('worker', 'simulate-compute-ms', f['simulate-compute-ms'], 0, 0, 3_600_000) }),
    ...extraStep(),
  });
  const exit = await worker.run().finally(() => served?.server.close());
  if (exit.code !== 0) process.stderr.write(`dtrain worker: ${exit.reason}\n`);
  return exit.code;
}

/** The worker, with `--record FILE` opened: a file it cannot open is the user's mistake, named as such. */
function newWorker(record: string | undefined, options: WorkerOptions): Worker {
  if (record === undefined) return new Worker(options);
  if (record === '') throw new UsageError(UsageErrorCode.USAGE, 'dtrain worker: --record needs a file name');
  try {
    return new Worker({ ...options, recordPath: record });
  } catch (error) {
    throw new UsageError(UsageErrorCode.USAGE, `dtrain worker: --record: cannot open ${record}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * DTRAIN_TEST_EXTRA_STEP_MS: a test hook, not a flag: the compute thread
 * stays blocked this long after every step, as a slow model would keep it.
 */
function extraStep(): { extraStepMs?: number } {
  const raw = process.env['DTRAIN_TEST_EXTRA_STEP_MS'];
  if (raw === undefined || raw === '') return {};
  const ms = Number(raw);
  if (!Number.isSafeInteger(ms) || ms < 0) throw new UsageError(UsageErrorCode.USAGE, `dtrain worker: DTRAIN_TEST_EXTRA_STEP_MS must be a whole number of milliseconds, got ${JSON.stringify(raw)}`);
  return { extraStepMs: ms };
}

/**
 * `--metrics-port P [--metrics-host H]`: the worker's metrics (plus default
 * process metrics) on their own registry, served at http://H:P/metrics
 * (H default 0.0.0.0; P = 0 picks a free port). Off without the flag.
 */
async function serveWorkerMetrics(portFlag: string | undefined, hostFlag: string | undefined): Promise<{ metrics: WorkerMetrics; server: MetricsServer } | undefined> {
  if (portFlag === undefined) {
    if (hostFlag !== undefined) throw new UsageError(UsageErrorCode.USAGE, 'dtrain worker: --metrics-host needs --metrics-port');
    return undefined;
  }
  const port = intFlag('worker', 'metrics-port', portFlag, 0, 0, 65535);
  const host = hostFlag ?? '0.0.0.0';
  const registry = createMetricsRegistry({ defaultMetrics: true });
  const metrics = new WorkerMetrics(registry);
  let server: MetricsServer;
  try {
    server = await startMetricsServer(registry, { port, host });
  } catch (error) {
    throw new UsageError(UsageErrorCode.USAGE, `dtrain worker: --metrics-port ${port}: cannot listen on ${host}: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.stderr.write(`dtrain worker: metrics ${server.url}\n`);
  return { metrics, server };
}
