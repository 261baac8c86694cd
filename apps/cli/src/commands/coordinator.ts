import { readFileSync } from 'node:fs';
import { BACKENDS, choiceFlag, intFlag, parseFlags, required } from '../args.js';
import { progressMode } from '../progress-mode.js';
import { serveJob } from '../serve-job.js';
import { readToken } from '../token.js';
import { UsageError, UsageErrorCode } from '../usage-error.js';

/** `dtrain coordinator`: serve one job to workers that connect from elsewhere. */
export async function coordinatorCommand(argv: readonly string[]): Promise<number> {
  const f = parseFlags('coordinator', argv, {
    config: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    out: { type: 'string' },
    backend: { type: 'string' },
    'token-file': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    quiet: { type: 'boolean' },
    json: { type: 'boolean' },
    verbose: { type: 'boolean' },
    ledger: { type: 'string' },
    linger: { type: 'boolean' },
    report: { type: 'boolean' },
  });
  const configPath = required('coordinator', 'config', f.config);
  if ((f['tls-cert'] === undefined) !== (f['tls-key'] === undefined)) {
    throw new UsageError(UsageErrorCode.USAGE, 'dtrain coordinator: --tls-cert and --tls-key go together');
  }
  const read = (flag: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch {
      throw new UsageError(UsageErrorCode.USAGE, `dtrain coordinator: --${flag}: cannot read ${path}`);
    }
  };
  const tls = f['tls-cert'] === undefined || f['tls-key'] === undefined ? undefined : { cert: read('tls-cert', f['tls-cert']), key: read('tls-key', f['tls-key']) };
  const { exitCode } = await serveJob({
    configPath,
    outDir: f.out,
    port: intFlag('coordinator', 'port', f.port, 7070, 0, 65535),
    host: f.host ?? '0.0.0.0',
    backend: choiceFlag('coordinator', 'backend', f.backend, BACKENDS, 'auto'),
    token: readToken('coordinator', f['token-file']),
    progress: progressMode(f),
    verbose: f.verbose !== false && f.quiet !== true,
    // A restarted coordinator (Kubernetes, crash) continues its job.
    resume: true,
    linger: f.linger === true,
    ...(tls === undefined ? {} : { tls }),
    ...(f.ledger === undefined ? {} : { ledgerPath: f.ledger }),
    // As soon as the job ends: with --linger the process may serve /status for days before its SIGTERM.
    ...(f.report === true
      ? {
          onEnded: async (_summary: unknown, outDir: string) => {
            const { writeReportOrWarn } = await import('../report.js');
            await writeReportOrWarn(outDir, f.quiet === true || f.json === true);
          },
        }
      : {}),
  });
  return exitCode;
}
