import { describe, expect, it } from 'vitest';
import { MAX_LISTED, audit, lineage, parseLedger, parsePushRecords, type AppliedBatch, type LedgerRecord, type PushRecord } from './audit-check.js';
import { UsageError } from './usage-error.js';

/**
 * A made-up run: every epoch a fresh random permutation of the samples, cut
 * into batches handed to two workers in turn, one batch each per step. The
 * ledger and the workers' records agree, as an honest run's do.
 */
function honestRun(samples: number, epochs: number, batchSize: number): { ledger: LedgerRecord[]; records: PushRecord[] } {
  const ledger: LedgerRecord[] = [];
  const records: PushRecord[] = [];
  let step = 0;
  let batchId = 0;
  for (let epoch = 0; epoch < epochs; epoch += 1) {
    const order = Array.from({ length: samples }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i -= 1) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (let start = 0; start < samples; step += 1) {
      for (const workerId of [0, 1]) {
        if (start >= samples) break;
        const sampleIds = order.slice(start, start + batchSize);
        start += batchSize;
        records.push({ step, epoch, version: step, batchId, workerId, sampleIds, finite: true });
        ledger.push({ applied: { epoch, step, batchId, workerId, sampleIds } });
        batchId += 1;
      }
    }
  }
  return { ledger, records };
}

const applied = (records: readonly LedgerRecord[]): AppliedBatch[] => records.flatMap((r) => ('applied' in r ? [r.applied] : []));

describe('audit', () => {
  it('passes an honest run, every batch matched and every sample once per epoch', () => {
    const { ledger, records } = honestRun(100, 3, 8);
    const report = audit(ledger, records, { samples: 100, epochs: 3 });
    expect(report).toMatchObject({ ok: true, violationCount: 0, violations: [], samplesChecked: true, pushRecords: records.length });
    expect(report.matchedBatches).toBe(report.appliedBatches);
    expect(report.appliedBatches).toBe(ledger.length);
  });

  it('names the batch whose worker recorded other sample ids', () => {
    const { ledger, records } = honestRun(64, 2, 8);
    const victim = records[5] as PushRecord;
    const ids = [...victim.sampleIds];
    ids[3] = ((ids[3] as number) + 1) % 64;
    records[5] = { ...victim, sampleIds: ids };
    const report = audit(ledger, records, { samples: 64, epochs: 2 });
    expect(report.ok).toBe(false);
    expect(report.violationCount).toBe(1);
    expect(report.violations[0]).toBe(
      `step ${victim.step} batch ${victim.batchId} (epoch ${victim.epoch}): credited to worker ${victim.workerId}, whose record of it has other sample ids (at index 3: recorded ${ids[3]}, ledger ${victim.sampleIds[3]})`,
    );
  });

  it('fails a batch credited to a worker that did not push it, or that nobody pushed', () => {
    const { ledger, records } = honestRun(32, 1, 8);
    const first = applied(ledger)[0] as AppliedBatch;
    ledger[0] = { applied: { ...first, workerId: 7 } };
    const dropped = records.splice(2, 1)[0] as PushRecord;
    const report = audit(ledger, records);
    expect(report.samplesChecked).toBe(false);
    expect(report.violations).toEqual([
      `step ${first.step} batch ${first.batchId} (epoch 0): credited to worker 7, which has no record of pushing it`,
      `step ${dropped.step} batch ${dropped.batchId} (epoch 0): credited to worker ${dropped.workerId}, which has no record of pushing it`,
    ]);
  });

  it('fails a batch applied from a push its worker recorded as non-finite', () => {
    const { ledger, records } = honestRun(16, 1, 8);
    records[1] = { ...(records[1] as PushRecord), finite: false };
    expect(audit(ledger, records).violations).toEqual([expect.stringMatching(/^step 0 batch 1 \(epoch 0\): applied, but worker 1 recorded its push as non-finite$/)]);
  });

  it('finds a sample applied twice and one never applied', () => {
    const { ledger, records } = honestRun(16, 1, 4);
    const b = applied(ledger)[0] as AppliedBatch;
    const twice = b.sampleIds[0] as number;
    const lost = b.sampleIds[1] as number;
    const ids = [twice, twice, ...b.sampleIds.slice(2)];
    ledger[0] = { applied: { ...b, sampleIds: ids } };
    records[0] = { ...(records[0] as PushRecord), sampleIds: ids };
    const report = audit(ledger, records, { samples: 16, epochs: 1 });
    expect(report.violations).toEqual([`epoch 0: sample ${Math.min(twice, lost)} ${twice < lost ? 'applied 2 times' : 'never applied'}`, `epoch 0: sample ${Math.max(twice, lost)} ${twice < lost ? 'never applied' : 'applied 2 times'}`]);
  });

  it('drops what a rollback undid: the steps computed again count, the first attempt does not', () => {
    const { ledger, records } = honestRun(40, 1, 4);
    // Steps 2.. were applied once, rolled back to step 2, and applied again (by the other worker).
    const again = applied(ledger).filter((b) => b.step >= 2);
    const redo: LedgerRecord[] = again.map((b) => ({ applied: { ...b, workerId: 1 - b.workerId } }));
    const redoRecords: PushRecord[] = again.map((b) => ({ ...b, version: 100 + b.step, workerId: 1 - b.workerId, finite: true }));
    const full = [...ledger, { rolledBack: { fromStep: 5, toStep: 2, epoch: 0, reason: 'shard 0 lost' } }, ...redo];
    const report = audit(full, [...records, ...redoRecords], { samples: 40, epochs: 1 });
    expect(report).toMatchObject({ ok: true, rollbacks: 1, rolledBackBatches: again.length, appliedBatches: ledger.length });
    // Without the rollback record, the same batches count twice.
    const noRollback = audit([...ledger, ...redo], [...records, ...redoRecords], { samples: 40, epochs: 1 });
    expect(noRollback.ok).toBe(false);
    expect(noRollback.violations[0]).toMatch(/^epoch 0: sample \d+ applied 2 times$/);
  });

  it('counts a skipped step’s batches as accounted for but not applied, and reports them apart', () => {
    const { ledger, records } = honestRun(24, 1, 4);
    const skippedStep = 1;
    const kept = ledger.filter((r) => !('applied' in r) || r.applied.step !== skippedStep);
    const skippedBatches = applied(ledger).filter((b) => b.step === skippedStep);
    const withSkip: LedgerRecord[] = [...kept, { skipped: { epoch: 0, step: skippedStep, batchIds: skippedBatches.map((b) => b.batchId) } }];
    const nonFinite = records.map((r) => (r.step === skippedStep ? { ...r, finite: false } : r));
    const report = audit(withSkip, nonFinite, { samples: 24, epochs: 1 });
    expect(report).toMatchObject({ ok: true, skippedBatches: 2, skippedSamples: 8, appliedBatches: ledger.length - 2 });
    // A skipped batch nobody recorded cannot be accounted for.
    const unrecorded = audit(withSkip, nonFinite.filter((r) => r.step !== skippedStep), { samples: 24, epochs: 1 });
    expect(unrecorded.ok).toBe(false);
    expect(unrecorded.violations[0]).toBe(`step ${skippedStep} batch ${skippedBatches[0]?.batchId} (epoch 0): skipped, but no worker has a record of it (its samples cannot be accounted for)`);
  });

  it('lists at most MAX_LISTED violations and counts them all', () => {
    const { ledger } = honestRun(40, 2, 4);
    const report = audit(ledger, [], { samples: 40, epochs: 3 });
    expect(report.violations).toHaveLength(MAX_LISTED);
    // 20 uncredited batches and 40 samples of epoch 2 never applied.
    expect(report.violationCount).toBe(20 + 40);
  });

  it('flags sample ids outside --samples and epochs outside --epochs', () => {
    const ledger: LedgerRecord[] = [{ applied: { epoch: 1, step: 0, batchId: 0, workerId: 0, sampleIds: [0, 9] } }];
    const records: PushRecord[] = [{ step: 0, epoch: 1, version: 0, batchId: 0, workerId: 0, sampleIds: [0, 9], finite: true }];
    expect(audit(ledger, records, { samples: 4, epochs: 2 }).violations).toEqual([
      'epoch 1: sample id 9 is not a training sample (--samples 4)',
      'epoch 0: sample 0 never applied',
      'epoch 0: sample 1 never applied',
      'epoch 0: sample 2 never applied',
      'epoch 0: sample 3 never applied',
      'epoch 1: sample 1 never applied',
      'epoch 1: sample 2 never applied',
      'epoch 1: sample 3 never applied',
    ]);
    expect(audit(ledger, records, { samples: 10, epochs: 1 }).violations[0]).toBe('epoch 1: applied batch(es) outside epochs 0..0');
  });
});

describe('lineage', () => {
  it('keeps skips before the step a rollback went back to and drops the later ones', () => {
    const records: LedgerRecord[] = [
      { skipped: { epoch: 0, step: 1, batchIds: [2] } },
      { skipped: { epoch: 0, step: 3, batchIds: [6] } },
      { applied: { epoch: 0, step: 4, batchId: 8, workerId: 0, sampleIds: [1] } },
      { rolledBack: { fromStep: 5, toStep: 2, epoch: 0, reason: 'r' } },
    ];
    expect(lineage(records)).toEqual({ applied: [], skipped: [{ epoch: 0, step: 1, batchIds: [2] }], rollbacks: [{ fromStep: 5, toStep: 2, epoch: 0, reason: 'r' }], rolledBackBatches: 1 });
  });
});

describe('parsing', () => {
  it('reads the four kinds of ledger line and skips blank lines', () => {
    const text = [
      '{"epoch":0,"step":3,"batchId":5,"workerId":1,"sampleIds":[4,2]}',
      '',
      '{"rolledBack":{"fromStep":4,"toStep":2,"epoch":0,"reason":"shard 1 lost"}}',
      '{"skipped":{"epoch":0,"step":2,"batchIds":[3,4]}}',
      '{"resumed":{"step":2,"epoch":0}}',
      '',
    ].join('\n');
    expect(parseLedger(text, 'l.jsonl')).toEqual([
      { applied: { epoch: 0, step: 3, batchId: 5, workerId: 1, sampleIds: [4, 2] } },
      { rolledBack: { fromStep: 4, toStep: 2, epoch: 0, reason: 'shard 1 lost' } },
      { skipped: { epoch: 0, step: 2, batchIds: [3, 4] } },
      { rolledBack: { fromStep: 2, toStep: 2, epoch: 0, reason: 'the coordinator resumed from a checkpoint' } },
    ]);
    expect(parsePushRecords('{"step":1,"epoch":0,"version":1,"batchId":2,"workerId":0,"sampleIds":[7],"finite":false}\n', 'w.jsonl')).toEqual([
      { step: 1, epoch: 0, version: 1, batchId: 2, workerId: 0, sampleIds: [7], finite: false },
    ]);
  });

  it.each([
    ['ledger', '{"epoch":0,"step":0,"batchId":0,"workerId":0,"sampleIds":[1]}\n{"epoch":0,', 'dtrain audit: f.jsonl:2: not a JSON line'],
    ['ledger', '[1,2]', 'dtrain audit: f.jsonl:1: the line must be a JSON object'],
    ['ledger', '\n\n{"epoch":0,"step":-1,"batchId":0,"workerId":0,"sampleIds":[]}', 'dtrain audit: f.jsonl:3: "step" must be a non-negative integer'],
    ['ledger', '{"epoch":0,"step":1,"batchId":0,"workerId":0,"sampleIds":[1.5]}', 'dtrain audit: f.jsonl:1: "sampleIds" must be an array of non-negative integers'],
    ['ledger', '{"rolledBack":7}', 'dtrain audit: f.jsonl:1: rolledBack must be a JSON object'],
    ['ledger', '{"resumed":{"epoch":0}}', 'dtrain audit: f.jsonl:1: "step" must be a non-negative integer'],
    ['records', '{"step":1,"epoch":0,"version":1,"batchId":2,"workerId":0,"sampleIds":[7]}', 'dtrain audit: f.jsonl:1: "finite" must be true or false'],
  ])('a bad %s line is a UsageError naming file:line (%#)', (kind, text, message) => {
    const parse = (): unknown => (kind === 'ledger' ? parseLedger(text, 'f.jsonl') : parsePushRecords(text, 'f.jsonl'));
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(expect.objectContaining({ code: 'DTRAIN_USAGE', message }));
  });
});
