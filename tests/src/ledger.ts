import { readFileSync } from 'node:fs';

/** One line of the coordinator's `--ledger` audit file. */
export interface LedgerLine {
  readonly epoch: number;
  readonly step: number;
  readonly batchId: number;
  readonly workerId: number;
  readonly sampleIds: number[];
}

/** A rollback record: the batches applied at steps [toStep, fromStep) are not in the final weights' lineage. */
export interface RollbackLine {
  readonly rolledBack: { readonly fromStep: number; readonly toStep: number; readonly epoch: number; readonly reason: string };
}

/** A diverged step's batches, skipped (done, not applied). */
export interface SkippedLine {
  readonly skipped: { readonly epoch: number; readonly step: number; readonly batchIds: readonly number[] };
}

/** A coordinator started from the checkpoint of `step`: what an earlier process applied at `step` or later is not in the lineage. */
export interface ResumedLine {
  readonly resumed: { readonly step: number; readonly epoch: number };
}

/** Every applied batch, in order (rollback, resume and skip records left out: see `lineage`). */
export function readLedger(path: string): LedgerLine[] {
  return readRecords(path).filter((r): r is LedgerLine => !('rolledBack' in r));
}

/** Applied batches and rollbacks, in order; a resume is read as a rollback to its step. */
export function readRecords(path: string): (LedgerLine | RollbackLine)[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as LedgerLine | RollbackLine | SkippedLine | ResumedLine)
    .filter((r): r is LedgerLine | RollbackLine | ResumedLine => !('skipped' in r))
    .map((r) => ('resumed' in r ? { rolledBack: { fromStep: r.resumed.step, toStep: r.resumed.step, epoch: r.resumed.epoch, reason: 'resumed' } } : r));
}

/** The skip records of a ledger. */
export function readSkipped(path: string): SkippedLine['skipped'][] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Partial<SkippedLine>)
    .flatMap((r) => (r.skipped === undefined ? [] : [r.skipped]));
}

/**
 * The batches in the lineage of the final weights, worked out here from the
 * records alone: each rollback drops the batches applied at or after the
 * step it went back to.
 */
export function lineage(records: readonly (LedgerLine | RollbackLine)[]): { kept: LedgerLine[]; rollbacks: RollbackLine['rolledBack'][] } {
  let kept: LedgerLine[] = [];
  const rollbacks: RollbackLine['rolledBack'][] = [];
  for (const record of records) {
    if ('rolledBack' in record) {
      rollbacks.push(record.rolledBack);
      kept = kept.filter((line) => line.step < record.rolledBack.toStep);
    } else kept.push(record);
  }
  return { kept, rollbacks };
}

/** How many times each training sample id was applied, per epoch (counted here, independently of the coordinator). */
export function countsPerEpoch(lines: readonly LedgerLine[], numSamples: number): Map<number, Uint32Array> {
  const counts = new Map<number, Uint32Array>();
  for (const line of lines) {
    let c = counts.get(line.epoch);
    if (c === undefined) {
      c = new Uint32Array(numSamples);
      counts.set(line.epoch, c);
    }
    for (const id of line.sampleIds) c[id] = (c[id] ?? 0) + 1;
  }
  return counts;
}

/** Asserts every sample 0..n-1 was applied exactly once in every epoch 0..epochs-1; returns a description of the first violation. */
export function exactlyOnceViolation(lines: readonly LedgerLine[], numSamples: number, epochs: number): string | undefined {
  const counts = countsPerEpoch(lines, numSamples);
  for (let e = 0; e < epochs; e += 1) {
    const c = counts.get(e);
    if (c === undefined) return `epoch ${e}: no applied batches`;
    const bad = c.findIndex((n) => n !== 1);
    if (bad >= 0) return `epoch ${e}: sample ${bad} applied ${c[bad]} times`;
  }
  return undefined;
}
