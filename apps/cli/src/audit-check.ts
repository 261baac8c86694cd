import { UsageError, UsageErrorCode } from './usage-error.js';

/**
 * The pure part of `dtrain audit`: parsing the coordinator's ledger and the
 * workers' push records, working out the lineage of the final weights, and
 * checking it. No files, no printing: the command does those.
 */

/** An applied batch, as the coordinator's ledger has it. */
export interface AppliedBatch {
  readonly epoch: number;
  readonly step: number;
  readonly batchId: number;
  readonly workerId: number;
  readonly sampleIds: readonly number[];
}

export interface Rollback {
  readonly fromStep: number;
  readonly toStep: number;
  readonly epoch: number;
  readonly reason: string;
}

export interface SkippedStep {
  readonly epoch: number;
  readonly step: number;
  readonly batchIds: readonly number[];
}

export type LedgerRecord = { readonly applied: AppliedBatch } | { readonly rolledBack: Rollback } | { readonly skipped: SkippedStep };

/** A push a worker sent, as its `--record` file has it. */
export interface PushRecord {
  readonly step: number;
  readonly epoch: number;
  readonly version: number;
  readonly batchId: number;
  readonly workerId: number;
  readonly sampleIds: readonly number[];
  readonly finite: boolean;
}

/** How many violations a report lists; the rest are only counted. */
export const MAX_LISTED = 10;

/** Parses a ledger's text; a line that is not a ledger record is a UsageError naming `file:line`. */
export function parseLedger(text: string, file: string): LedgerRecord[] {
  return jsonLines(text, file, (value, where) => {
    if ('rolledBack' in value) {
      const r = object(value['rolledBack'], where, 'rolledBack');
      return { rolledBack: { fromStep: int(r, 'fromStep', where), toStep: int(r, 'toStep', where), epoch: int(r, 'epoch', where), reason: typeof r['reason'] === 'string' ? r['reason'] : '' } };
    }
    if ('resumed' in value) {
      // A coordinator started from a checkpoint: like a rollback to its step (a killed predecessor may have applied more).
      const r = object(value['resumed'], where, 'resumed');
      const step = int(r, 'step', where);
      return { rolledBack: { fromStep: step, toStep: step, epoch: int(r, 'epoch', where), reason: 'the coordinator resumed from a checkpoint' } };
    }
    if ('skipped' in value) {
      const s = object(value['skipped'], where, 'skipped');
      return { skipped: { epoch: int(s, 'epoch', where), step: int(s, 'step', where), batchIds: ints(s, 'batchIds', where) } };
    }
    return { applied: { epoch: int(value, 'epoch', where), step: int(value, 'step', where), batchId: int(value, 'batchId', where), workerId: int(value, 'workerId', where), sampleIds: ints(value, 'sampleIds', where) } };
  });
}

/** Parses a worker's push record; a line that is not one is a UsageError naming `file:line`. */
export function parsePushRecords(text: string, file: string): PushRecord[] {
  return jsonLines(text, file, (value, where) => {
    const finite = value['finite'];
    if (typeof finite !== 'boolean') throw new UsageError(UsageErrorCode.USAGE, `dtrain audit: ${where}: "finite" must be true or false`);
    return {
      step: int(value, 'step', where),
      epoch: int(value, 'epoch', where),
      version: int(value, 'version', where),
      batchId: int(value, 'batchId', where),
      workerId: int(value, 'workerId', where),
      sampleIds: ints(value, 'sampleIds', where),
      finite,
    };
  });
}

/** The final weights' lineage: what a ledger's rollbacks leave of its applied batches and skipped steps. */
export interface Lineage {
  readonly applied: AppliedBatch[];
  readonly skipped: SkippedStep[];
  readonly rollbacks: Rollback[];
  /** Applied batches dropped by rollbacks (computed again later). */
  readonly rolledBackBatches: number;
}

/**
 * Each rollback drops what was recorded at or after the step it went back
 * to: those steps are computed again, so the records that follow it are the
 * ones that count.
 */
export function lineage(records: readonly LedgerRecord[]): Lineage {
  let applied: AppliedBatch[] = [];
  let skipped: SkippedStep[] = [];
  const rollbacks: Rollback[] = [];
  let rolledBackBatches = 0;
  for (const record of records) {
    if ('rolledBack' in record) {
      const { toStep } = record.rolledBack;
      rollbacks.push(record.rolledBack);
      const before = applied.length;
      applied = applied.filter((b) => b.step < toStep);
      rolledBackBatches += before - applied.length;
      skipped = skipped.filter((s) => s.step < toStep);
    } else if ('skipped' in record) skipped.push(record.skipped);
    else applied.push(record.applied);
  }
  return { applied, skipped, rollbacks, rolledBackBatches };
}

export interface AuditOptions {
  /** Training samples: with `epochs`, every id 0..samples-1 must be applied or skipped exactly once per epoch. */
  readonly samples?: number;
  readonly epochs?: number;
}

export interface AuditReport {
  readonly ok: boolean;
  readonly appliedBatches: number;
  readonly rolledBackBatches: number;
  readonly rollbacks: number;
  readonly skippedBatches: number;
  readonly skippedSamples: number;
  readonly pushRecords: number;
  /** Applied batches that match a push record of the worker credited with them. */
  readonly matchedBatches: number;
  /** Whether the per-epoch sample check ran (`samples` and `epochs` given). */
  readonly samplesChecked: boolean;
  readonly violationCount: number;
  /** The first MAX_LISTED violations, one line each. */
  readonly violations: string[];
}

/**
 * Checks the lineage against the workers' records and, given `samples` and
 * `epochs`, that every sample is accounted for exactly once per epoch.
 */
export function audit(ledger: readonly LedgerRecord[], records: readonly PushRecord[], options: AuditOptions = {}): AuditReport {
  const { applied, skipped, rollbacks, rolledBackBatches } = lineage(ledger);
  const violations: string[] = [];
  let violationCount = 0;
  const violation = (line: string): void => {
    violationCount += 1;
    if (violations.length < MAX_LISTED) violations.push(line);
  };

  const pushes = new Map<string, PushRecord[]>();
  for (const r of records) {
    const key = `${r.step}:${r.batchId}`;
    const list = pushes.get(key);
    if (list === undefined) pushes.set(key, [r]);
    else list.push(r);
  }

  let matchedBatches = 0;
  for (const b of applied) {
    const name = `step ${b.step} batch ${b.batchId} (epoch ${b.epoch})`;
    const mine = (pushes.get(`${b.step}:${b.batchId}`) ?? []).filter((r) => r.workerId === b.workerId);
    const same = mine.filter((r) => sameIds(r.sampleIds, b.sampleIds));
    if (mine.length === 0) violation(`${name}: credited to worker ${b.workerId}, which has no record of pushing it`);
    else if (same.length === 0) violation(`${name}: credited to worker ${b.workerId}, whose record of it has other sample ids (${firstDifference(mine[0]?.sampleIds ?? [], b.sampleIds)})`);
    else if (!same.some((r) => r.finite)) violation(`${name}: applied, but worker ${b.workerId} recorded its push as non-finite`);
    else matchedBatches += 1;
  }

  // A skip record names batches; their sample ids come from the pushes of that step.
  let skippedBatches = 0;
  const skippedIds: { epoch: number; sampleIds: readonly number[] }[] = [];
  for (const s of skipped) {
    for (const batchId of s.batchIds) {
      skippedBatches += 1;
      const push = pushes.get(`${s.step}:${batchId}`)?.[0];
      if (push === undefined) violation(`step ${s.step} batch ${batchId} (epoch ${s.epoch}): skipped, but no worker has a record of it (its samples cannot be accounted for)`);
      else skippedIds.push({ epoch: s.epoch, sampleIds: push.sampleIds });
    }
  }

  const { samples, epochs } = options;
  const samplesChecked = samples !== undefined && epochs !== undefined;
  if (samplesChecked) checkSamples(applied, skippedIds, samples, epochs, violation);

  return {
    ok: violationCount === 0,
    appliedBatches: applied.length,
    rolledBackBatches,
    rollbacks: rollbacks.length,
    skippedBatches,
    skippedSamples: skippedIds.reduce((n, s) => n + s.sampleIds.length, 0),
    pushRecords: records.length,
    matchedBatches,
    samplesChecked,
    violationCount,
    violations,
  };
}

/** Every sample 0..samples-1 applied or skipped exactly once in every epoch 0..epochs-1, and nothing else. */
function checkSamples(
  applied: readonly AppliedBatch[],
  skipped: readonly { epoch: number; sampleIds: readonly number[] }[],
  samples: number,
  epochs: number,
  violation: (line: string) => void,
): void {
  const counts = Array.from({ length: epochs }, () => new Uint32Array(samples));
  const tally = (epoch: number, ids: readonly number[], what: string): void => {
    const c = counts[epoch];
    if (c === undefined) {
      violation(`epoch ${epoch}: ${what} batch(es) outside epochs 0..${epochs - 1}`);
      return;
    }
    for (const id of ids) {
      if (id < samples) c[id] = (c[id] ?? 0) + 1;
      else violation(`epoch ${epoch}: sample id ${id} is not a training sample (--samples ${samples})`);
    }
  };
  for (const b of applied) tally(b.epoch, b.sampleIds, 'applied');
  for (const s of skipped) tally(s.epoch, s.sampleIds, 'skipped');
  for (let e = 0; e < epochs; e += 1) {
    const c = counts[e] as Uint32Array;
    c.forEach((n, id) => {
      if (n !== 1) violation(`epoch ${e}: sample ${id} ${n === 0 ? 'never applied' : `applied ${n} times`}`);
    });
  }
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

function firstDifference(record: readonly number[], ledger: readonly number[]): string {
  const i = record.findIndex((id, k) => id !== ledger[k]);
  if (i < 0 || i >= ledger.length) return `${record.length} ids recorded, ${ledger.length} in the ledger`;
  return `at index ${i}: recorded ${record[i]}, ledger ${ledger[i]}`;
}

type Json = Record<string, unknown>;

function jsonLines<T>(text: string, file: string, parse: (value: Json, where: string) => T): T[] {
  const out: T[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] ?? '';
    if (line.trim() === '') continue;
    const where = `${file}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new UsageError(UsageErrorCode.USAGE, `dtrain audit: ${where}: not a JSON line`);
    }
    out.push(parse(object(value, where, 'the line'), where));
  }
  return out;
}

function object(value: unknown, where: string, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(UsageErrorCode.USAGE, `dtrain audit: ${where}: ${what} must be a JSON object`);
  return value as Json;
}

function int(value: Json, key: string, where: string): number {
  const n = value[key];
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new UsageError(UsageErrorCode.USAGE, `dtrain audit: ${where}: "${key}" must be a non-negative integer`);
  return n;
}

function ints(value: Json, key: string, where: string): number[] {
  const list = value[key];
  if (!Array.isArray(list) || !list.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) {
    throw new UsageError(UsageErrorCode.USAGE, `dtrain audit: ${where}: "${key}" must be an array of non-negative integers`);
  }
  return list as number[];
}
