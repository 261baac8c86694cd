import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { BACKENDS, choiceFlag, intFlag, parseFlags, required } from '../args.js';
import { LocalShards } from '../local-shards.js';
import { LocalWorkers } from '../local-workers.js';
import { serveJob } from '../serve-job.js';
import { generateToken } from '../token.js';
import { progressMode } from '../progress-mode.js';
import { UsageError, UsageErrorCode } from '../usage-error.js';

/** `dtrain train`: the coordinator in this process, N local worker processes, and K local shard processes with --ps-shards K (or cluster.psShards). */
export async function trainCommand(argv: readonly string[]): Promise<number> {
  const f = parseFlags('train', argv, {
    config: { type: 'string' },
    workers: { type: 'string' },
    out: { type: 'string' },
    backend: { type: 'string' },
    port: { type: 'string' },
    quiet: { type: 'boolean' },
    json: { type: 'boolean' },
    verbose: { type: 'boolean' },
    ledger: { type: 'string' },
    resume: { type: 'boolean' },
    'worker-metrics': { type: 'boolean' },
    'ps-shards': { type: 'string' },
    'record-dir': { type: 'string' },
    'no-report': { type: 'boolean' },
  });
  const configPath = required('train', 'config', f.config);
  const workers = intFlag('train', 'workers', f.workers, 2, 1, 256);
  const port = intFlag('train', 'port', f.port, 7070, 0, 65535);
  const backend = choiceFlag('train', 'backend', f.backend, BACKENDS, 'auto');
  const psShards = f['ps-shards'] === undefined ? undefined : intFlag('train', 'ps-shards', f['ps-shards'], 0, 0, 256);
  const recordDir = makeRecordDir(f['record-dir']);
  const token = generateToken();
  const local = new LocalWorkers();
  const shards = new LocalShards();
  let finished = false;
  let result: Awaited<ReturnType<typeof serveJob>>;
  try {
    result = await serveJob({
      configPath,
      outDir: f.out,
      port,
      host: '127.0.0.1',
      backend,
      token,
      progress: progressMode(f),
      verbose: f.verbose === true,
      resume: f.resume === true,
      ...(f.ledger === undefined ? {} : { ledgerPath: f.ledger }),
      ...(psShards === undefined ? {} : { psShards }),
      onListening: async (bound, shardCount) => {
        const url = `ws://127.0.0.1:${bound}`;
        if (shardCount > 0) await shards.start(shardCount, url, { token, verbose: f.verbose === true });
        local.start(workers, url, { backend, token, verbose: f.verbose === true, metrics: f['worker-metrics'] === true, ...(recordDir === undefined ? {} : { recordDir }) });
      },
    });
    finished = result.exitCode === 0 || result.exitCode === 1;
  } finally {
    await Promise.all([local.stop(5000, !finished), shards.stop(5000)]);
  }
  if (f['no-report'] !== true) {
    // serveJob's output folder: --out, else runs/<job name>. Loaded only now: vega stays out of the training process until the end.
    const { writeReportOrWarn } = await import('../report.js');
    await writeReportOrWarn(resolve(f.out ?? `runs/${result.summary.name}`), f.quiet === true || f.json === true);
  }
  return result.exitCode;
}

/** `--record-dir DIR`: created if need be; each local worker records its pushes there (for `dtrain audit`). */
function makeRecordDir(dir: string | undefined): string | undefined {
  if (dir === undefined) return undefined;
  if (dir === '') throw new UsageError(UsageErrorCode.USAGE, 'dtrain train: --record-dir needs a folder name');
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new UsageError(UsageErrorCode.USAGE, `dtrain train: --record-dir: cannot create ${dir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return dir;
}
