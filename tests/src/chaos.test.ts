import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, tempDir } from './harness.js';

/**
 * The chaos soak's short version (`pnpm bench:chaos --short`, about a
 * minute): a coordinator, 4 workers and 2 shard processes train the MNIST
 * MLP while a seeded driver SIGKILLs, SIGSTOPs and SIGTERMs workers and
 * SIGKILLs and restarts the coordinator every 4 s on average, plus a burst
 * of garbage frames and a worker with the wrong token. The job must finish
 * and `dtrain audit` must find every sample applied exactly once per epoch,
 * each applied batch in the record of the worker credited with it. The
 * throughput and accuracy figures are the full benchmark's business.
 */
interface SoakJson {
  runs: {
    label: string;
    done: boolean;
    failure?: string;
    epochs: number;
    faults: { kind: string; detail: string }[];
    coordinatorStarts: number;
    audit: { ok: boolean; appliedBatches: number; matchedBatches: number; rollbacks: number; violations: string[]; records: number };
    garbage?: { connections: number; closedByServer: number; shardConnections: number; shardConnectionsClosed: number };
    wrongTokenExit?: number | null;
  }[];
}

describe('chaos soak (short)', () => {
  it('through SIGKILL/SIGSTOP/SIGTERM of workers, coordinator restarts, garbage frames and a wrong token: the job finishes and the audit is exact', async () => {
    const tmp = tempDir('chaos');
    try {
      const json = join(tmp.dir, 'chaos.json');
      const child = spawn(process.execPath, ['--initial-old-space-size=256', join(REPO, 'tools/bench/dist/chaos-soak.js'), '--short', '--json', json], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      expect(code, output).toBe(0);
      const [run] = (JSON.parse(readFileSync(json, 'utf8')) as SoakJson).runs;
      expect(run, output).toBeDefined();
      if (run === undefined) return;
      expect(run.done, run.failure).toBe(true);
      expect(run.epochs).toBe(30);
      expect(run.audit.violations).toEqual([]);
      expect(run.audit.ok).toBe(true);
      expect(run.audit.matchedBatches).toBe(run.audit.appliedBatches);
      // 9,000 training samples in batches of up to 64 per worker: at least 141 batches an epoch.
      expect(run.audit.appliedBatches).toBeGreaterThanOrEqual(30 * 141);
      // The deck deals every recurring kind within four faults; the once-faults come after the 2nd and 4th.
      const kinds = new Set(run.faults.map((f) => f.kind));
      for (const kind of ['kill-worker', 'stop-worker', 'term-worker', 'restart-coordinator', 'garbage-frames', 'wrong-token']) expect(kinds, output).toContain(kind);
      expect(run.coordinatorStarts).toBeGreaterThanOrEqual(2);
      // Every coordinator restart resumed from a checkpoint: the ledger says so and the audit dropped what the killed one applied past it.
      expect(run.audit.rollbacks).toBe(run.coordinatorStarts - 1);
      expect(run.garbage).toMatchObject({ connections: 20, closedByServer: 20, shardConnections: 2, shardConnectionsClosed: 2 });
      expect(run.wrongTokenExit).toBe(3);
    } finally {
      tmp.cleanup();
    }
  }, 600_000);
});
