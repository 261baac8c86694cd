import { readFileSync } from 'node:fs';
import { MAX_LISTED, audit, parseLedger, parsePushRecords, type AuditReport } from '../audit-check.js';
import { intFlag, parseFlags, required } from '../args.js';
import { UsageError, UsageErrorCode } from '../usage-error.js';

/**
 * `dtrain audit --ledger LEDGER --records F [F …] [--samples N --epochs E] [--json]`:
 * checks the coordinator's ledger against the workers' own push records.
 * Exit 0 when every check passes, 1 when one fails, 2 on bad usage or input.
 */
export async function auditCommand(argv: readonly string[]): Promise<number> {
  const { records: recordFiles, rest } = takeRecords(argv);
  const f = parseFlags('audit', rest, {
    ledger: { type: 'string' },
    samples: { type: 'string' },
    epochs: { type: 'string' },
    json: { type: 'boolean' },
  });
  const ledgerFile = required('audit', 'ledger', f.ledger);
  if (recordFiles.length === 0) throw new UsageError(UsageErrorCode.USAGE, 'dtrain audit: --records is required (one or more worker --record files)');
  if ((f.samples === undefined) !== (f.epochs === undefined)) throw new UsageError(UsageErrorCode.USAGE, 'dtrain audit: --samples and --epochs go together');
  const samples = intFlag('audit', 'samples', f.samples, 0, 1, 2 ** 31);
  const epochs = intFlag('audit', 'epochs', f.epochs, 0, 1, 1_000_000);
  const ledger = parseLedger(read('ledger', ledgerFile), ledgerFile);
  const records = recordFiles.flatMap((file) => parsePushRecords(read('records', file), file));
  const report = audit(ledger, records, f.samples === undefined ? {} : { samples, epochs });
  process.stdout.write(f.json === true ? `${JSON.stringify(report)}\n` : describe(report, recordFiles.length, samples, epochs));
  return report.ok ? 0 : 1;
}

/**
 * `--records` takes every argument up to the next flag (`--records a b c`),
 * which node's parseArgs cannot express; it may also be repeated.
 */
function takeRecords(argv: readonly string[]): { records: string[]; rest: string[] } {
  const records: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg.startsWith('--records=')) records.push(arg.slice('--records='.length));
    else if (arg === '--records') {
      while (i + 1 < argv.length && !(argv[i + 1] as string).startsWith('--')) records.push(argv[++i] as string);
    } else rest.push(arg);
  }
  return { records: records.filter((r) => r !== ''), rest };
}

function read(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new UsageError(UsageErrorCode.USAGE, `dtrain audit: --${flag}: cannot read ${file} (${reason})`);
  }
}

function describe(r: AuditReport, files: number, samples: number, epochs: number): string {
  const lines = [
    `ledger: ${r.appliedBatches} applied batch(es) in the final lineage (${r.rolledBackBatches} dropped by ${r.rollbacks} rollback(s)); ${r.skippedBatches} skipped batch(es), ${r.skippedSamples} samples`,
    `records: ${r.pushRecords} push(es) in ${files} file(s); ${r.matchedBatches} of ${r.appliedBatches} applied batches match a push of the worker credited with them`,
    r.samplesChecked ? `samples: ${samples} training samples × ${epochs} epoch(s) checked for exactly once` : 'samples: not checked (give --samples and --epochs)',
  ];
  if (r.ok) lines.push('OK');
  else {
    lines.push(`FAILED: ${r.violationCount} violation(s)${r.violationCount > MAX_LISTED ? `, the first ${MAX_LISTED}` : ''}:`);
    for (const v of r.violations) lines.push(`  ${v}`);
  }
  return `${lines.join('\n')}\n`;
}
