import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dtrain, tempDir, writeJob } from './harness.js';
import { Cluster, elasticJob } from './cluster.js';

/**
 * `dtrain audit` on a real faulty run: the coordinator's ledger is checked
 * against what the workers themselves recorded sending (`--record`), a
 * source the coordinator did not write.
 */
const NUM_TRAIN = 8000 - 400;
const EPOCHS = 6;

interface AuditJson {
  ok: boolean;
  appliedBatches: number;
  matchedBatches: number;
  pushRecords: number;
  samplesChecked: boolean;
  violationCount: number;
  violations: string[];
}

describe('dtrain audit', () => {
  let cluster: Cluster | undefined;
  let cleanup: (() => void) | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cleanup?.();
  });

  it('a worker SIGKILLed mid-epoch and replaced: the ledger and the records agree; a tampered record fails the audit naming its batch', async () => {
    const tmp = tempDir('audit');
    cleanup = tmp.cleanup;
    const c = new Cluster(writeJob(tmp.dir, elasticJob('audit', { stepTimeoutMs: 3000 }, { epochs: EPOCHS })), tmp.dir);
    cluster = c;
    const records = [0, 1, 2].map((i) => join(tmp.dir, `worker-${i}.jsonl`));
    await c.startCoordinator();
    c.startWorker('wasm', records[0]);
    const victim = c.startWorker('wasm', records[1]);
    // Killed only once both workers have a push credited (a worker still loading its data when killed would leave an empty record).
    const before = await c.until('2 workers with pushes applied in epoch 0', (s) => c.activeCount(s) === 2 && s.workers.every((w) => w.stepsApplied > 0) && s.step > 5 && s.epoch === 0);
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    const replacement = c.startWorker('wasm', records[2]);
    await c.until('the replacement active', (s) => c.activeCount(s) === 2 && s.step > before.step, 30_000);
    expect(await c.coordinator.exited, c.coordinator.stderr).toEqual({ code: 0, signal: null });
    expect(await replacement.exited, replacement.stderr).toEqual({ code: 0, signal: null });

    const run = async (files: readonly string[], json = false): Promise<{ code: number | null; stdout: string; stderr: string }> => {
      const p = dtrain(['audit', '--ledger', c.ledger, '--records', ...files, '--samples', String(NUM_TRAIN), '--epochs', String(EPOCHS), ...(json ? ['--json'] : [])]);
      const { code } = await p.exited;
      return { code, stdout: p.stdout, stderr: p.stderr };
    };

    const text = await run(records);
    expect(text.code, text.stdout + text.stderr).toBe(0);
    expect(text.stdout).toMatch(/\nOK\n$/);
    const report = JSON.parse((await run(records, true)).stdout) as AuditJson;
    expect(report, JSON.stringify(report)).toMatchObject({ ok: true, samplesChecked: true, violationCount: 0 });
    expect(report.matchedBatches).toBe(report.appliedBatches);
    // Every worker, the killed one included, pushed batches the coordinator credited.
    const ledger = readFileSync(c.ledger, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { step?: number; batchId?: number; workerId?: number });
    type Push = { step: number; epoch: number; batchId: number; workerId: number; sampleIds: number[] };
    const credited = (p: Push): boolean => ledger.some((l) => l.step === p.step && l.batchId === p.batchId && l.workerId === p.workerId);
    const pushes = (file: string): Push[] => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Push);
    for (const file of records) expect(pushes(file).filter(credited).length, file).toBeGreaterThan(0);

    // Without the killed worker's record, its credited batches have no evidence.
    const missing = await run([records[0] as string, records[2] as string]);
    expect(missing.code, missing.stdout + missing.stderr).toBe(1);
    expect(missing.stdout).toMatch(/credited to worker \d+, which has no record of pushing it/);

    // One sample id changed in the line of one credited push in the surviving worker's record.
    const lines = readFileSync(records[0] as string, 'utf8').split('\n');
    const at = lines.findIndex((l) => l !== '' && credited(JSON.parse(l) as Push));
    expect(at).toBeGreaterThanOrEqual(0);
    const push = JSON.parse(lines[at] as string) as Push;
    push.sampleIds[0] = ((push.sampleIds[0] as number) + 1) % NUM_TRAIN;
    lines[at] = JSON.stringify(push);
    const tampered = join(tmp.dir, 'tampered.jsonl');
    writeFileSync(tampered, lines.join('\n'));
    const bad = await run([tampered, records[1] as string, records[2] as string]);
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    expect(bad.stdout).toContain(`step ${push.step} batch ${push.batchId} (epoch ${push.epoch}): credited to worker ${push.workerId}, whose record of it has other sample ids`);
    expect(bad.stdout).toMatch(/FAILED: 1 violation\(s\)/);

    // A malformed line is bad input: exit 2, naming file:line.
    writeFileSync(tampered, `${lines.slice(0, 2).join('\n')}\n{"step":\n`);
    const malformed = await run([tampered]);
    expect(malformed.code, malformed.stdout + malformed.stderr).toBe(2);
    expect(malformed.stderr.trim()).toBe(`dtrain: dtrain audit: ${tampered}:3: not a JSON line`);
  }, 240_000);
});
