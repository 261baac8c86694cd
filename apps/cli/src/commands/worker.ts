import { readFileSync } from 'node:fs';
import { launchWorker } from '../api/start-worker.js';
import { checkWsUrl, cliNaming } from '../api/start-worker-options.js';
import { BACKENDS, choiceFlag, intFlag, parseFlags, required } from '../args.js';
import { readToken } from '../token.js';
import { UsageError, UsageErrorCode } from '../usage-error.js';

/** startWorker's options as this command's flags, for its messages. */
const NAMING = cliNaming('worker', { metricsPort: 'metrics-port', metricsHost: 'metrics-host', recordPath: 'record', reconnectTimeoutMs: 'reconnect-timeout' });

/**
 * `dtrain worker`: connect to a coordinator and compute until the job ends.
 * Flags become startWorker's options; `--metrics-port P [--metrics-host H]`
 * serves the worker's metrics at http://H:P/metrics (H default 0.0.0.0;
 * P = 0 picks a free port).
 */
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
  const url = checkWsUrl(NAMING, 'coordinator', required('worker', 'coordinator', f.coordinator));
  const token = readToken('worker', f['token-file']);
  let ca: Buffer | undefined;
  if (f['tls-ca'] !== undefined) {
    try {
      ca = readFileSync(f['tls-ca']);
    } catch {
      throw new UsageError(UsageErrorCode.USAGE, `dtrain worker: --tls-ca: cannot read ${f['tls-ca']}`);
    }
  }
  const metricsPort = f['metrics-port'] === undefined ? undefined : intFlag('worker', 'metrics-port', f['metrics-port'], 0, 0, 65535);
  const worker = await launchWorker(
    {
      coordinator: url,
      backend: choiceFlag('worker', 'backend', f.backend, BACKENDS, 'auto'),
      ...(token === undefined ? {} : { token }),
      ...(ca === undefined ? {} : { ca }),
      reconnectTimeoutMs: intFlag('worker', 'reconnect-timeout', f['reconnect-timeout'], 120, 1, 86_400) * 1000,
      ...(metricsPort === undefined ? {} : { metricsPort }),
      ...(f['metrics-host'] === undefined ? {} : { metricsHost: f['metrics-host'] }),
      linger: f.linger === true,
      ...(f.record === undefined ? {} : { recordPath: f.record }),
      log: f.quiet === true ? 'quiet' : 'stderr',
      handleSignals: true,
    },
    {
      naming: NAMING,
      ...(f['simulate-compute-ms'] === undefined ? {} : { simulateComputeMs: intFlag('worker', 'simulate-compute-ms', f['simulate-compute-ms'], 0, 0, 3_600_000) }),
      ...extraStep(),
    },
  );
  if (worker.metricsUrl !== undefined) process.stderr.write(`dtrain worker: metrics ${worker.metricsUrl}\n`);
  const exit = await worker.done;
  if (exit.code !== 0) process.stderr.write(`dtrain worker: ${exit.reason}\n`);
  return exit.code;
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
