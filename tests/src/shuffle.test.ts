import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dtrain, syntheticJob, tempDir, writeJob } from './harness.js';
import { exactlyOnceViolation, readLedger } from './ledger.js';

/** training.shuffle: false hands the samples out in order, every epoch, still each exactly once (fit's shuffle: false). */
describe('training.shuffle', () => {
  const tmp = tempDir('shuffle');
  afterAll(() => tmp.cleanup());

  it.each([
    [false, true],
    [true, false],
  ] as const)('shuffle %s: batches in sample order is %s', async (shuffle, ordered) => {
    const config = writeJob(tmp.dir, syntheticJob(`shuffle-${String(shuffle)}`, { dataset: { numSamples: 400, validationSplit: 0 }, training: { epochs: 2, shuffle } }), `shuffle-${String(shuffle)}.yaml`);
    const ledger = join(tmp.dir, `ledger-${String(shuffle)}.jsonl`);
    const run = dtrain(['train', '--config', config, '--workers', '1', '--backend', 'cpu', '--out', join(tmp.dir, `out-${String(shuffle)}`), '--ledger', ledger, '--quiet', '--no-report']);
    expect(await run.exited, run.stderr).toEqual({ code: 0, signal: null });
    const lines = readLedger(ledger);
    expect(exactlyOnceViolation(lines, 400, 2)).toBeUndefined();
    for (const epoch of [0, 1]) {
      const order = lines.filter((l) => l.epoch === epoch).sort((a, b) => a.step - b.step).flatMap((l) => l.sampleIds);
      expect(order.every((id, i) => id === i)).toBe(ordered);
    }
  }, 120_000);
});
