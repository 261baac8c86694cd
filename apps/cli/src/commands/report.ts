import { parseArgs } from 'node:util';
import { writeReport } from '../report.js';
import { UsageError, UsageErrorCode } from '../usage-error.js';

/** `dtrain report RUN_DIR`: report.svg, report.png and report.html from a run's summary.json (and history.json). */
export async function reportCommand(argv: readonly string[]): Promise<number> {
  let positionals: string[];
  try {
    ({ positionals } = parseArgs({ args: [...argv], options: {}, strict: true, allowPositionals: true }));
  } catch (error) {
    throw new UsageError(UsageErrorCode.USAGE, `dtrain report: ${error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)}`);
  }
  const [runDir, ...extra] = positionals;
  if (runDir === undefined || runDir === '' || extra.length > 0) throw new UsageError(UsageErrorCode.USAGE, 'dtrain report: expected one RUN_DIR (the --out folder of a run, holding summary.json)');
  const { files, notes } = await writeReport(runDir);
  for (const note of notes) process.stderr.write(`dtrain report: note: ${note}\n`);
  process.stdout.write(`${files.join('\n')}\n`);
  return 0;
}
