import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { dtrain, tempDir, writeJob } from './harness.js';
import { exactlyOnceViolation, lineage, readRecords } from './ledger.js';
import { Cluster, elasticJob, logMatch } from './cluster.js';

const NUM_TRAIN = 8000 - 400;

/**
 * The synthetic job of the fault tests (no dropout: a batch's gradient is a
 * function of the weights and the batch alone), cut into 16 KiB chunks so
 * its ~100k parameters make 25 chunks for up to 3 shards. Two workers from
 * the start: every step takes the next two batches of the plan, whichever
 * worker computes which.
 */
function shardJob(name: string, psShards: number, epochs: number): Record<string, unknown> {
  const job = elasticJob(name, { minWorkers: 2, chunkBytes: 16_384, psShards }, { epochs });
  return job;
}

function weightsHash(outDir: string): string {
  return createHash('sha256').update(readFileSync(join(outDir, 'model', 'weights.bin'))).digest('hex');
}

interface Summary {
  state: string;
  steps: number;
  history: { appliedMin: number; appliedMax: number }[];
}

function summaryOf(outDir: string): Summary {
  return JSON.parse(readFileSync(join(outDir, 'summary.json'), 'utf8')) as Summary;
}

describe('parameter-server shard processes (dtrain ps)', () => {
  let cluster: Cluster | undefined;
  let cleanup: (() => void) | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
    cleanup?.();
  });

  it('1, 2 and 3 shard processes train to the same bits as the shard inside the coordinator', async () => {
    const tmp = tempDir('ps-equal');
    cleanup = tmp.cleanup;
    const hashes: string[] = [];
    for (const k of [0, 1, 2, 3]) {
      const config = writeJob(tmp.dir, shardJob('equal', 0, 2), `job-${k}.yaml`);
      const out = join(tmp.dir, `out-${k}`);
      const run = dtrain(['train', '--config', config, '--workers', '2', '--ps-shards', String(k), '--backend', 'wasm', '--out', out, '--quiet']);
      expect(await run.exited, run.stderr).toEqual({ code: 0, signal: null });
      expect(summaryOf(out).history.map((h) => [h.appliedMin, h.appliedMax])).toEqual([[1, 1], [1, 1]]);
      hashes.push(weightsHash(out));
    }
    // Each shard applies the optimizer to its range only, with the same float64 sums: the split changes no bit.
    expect(new Set(hashes).size, hashes.join('\n')).toBe(1);
  });

  it('SIGKILL a shard mid-epoch: the job pauses, every shard rolls back to the last checkpoint when it is back, and every sample is applied exactly once in the final lineage', async () => {
    const tmp = tempDir('ps-kill');
    cleanup = tmp.cleanup;
    const epochs = 4;
    const c = (cluster = new Cluster(writeJob(tmp.dir, shardJob('kill-shard', 2, epochs)), tmp.dir));
    await c.startCoordinator();
    await c.startShard(0);
    await c.startShard(1);
    const workers = [c.startWorker(), c.startWorker()];
    const before = await c.until('mid-epoch 1, past a checkpoint', (s) => s.epoch >= 1 && s.step % 10 >= 4, 90_000);
    const killedAt = Date.now();
    c.shards[1]!.child.kill('SIGKILL');
    await c.shards[1]!.exited;
    const paused = await c.until('paused without shard 1', (s) => s.state === 'paused', 20_000);
    expect(paused.step).toBeGreaterThanOrEqual(before.step);
    expect(before.shards.map((s) => s.state)).toEqual(['connected', 'connected']);
    expect(paused.shards.map((s) => s.state)).toEqual(['connected', 'missing']);
    expect(paused.shards[1]!.url).toBeNull();
    expect(paused.shards[0]!.start).toBe(0);
    expect(paused.shards[0]!.end).toBe(paused.shards[1]!.start);
    await c.startShard(1);
    const resumed = await c.until('a step after the rollback', (s) => s.state === 'running' && s.step > paused.step - (paused.step % 10) && s.lastLoss !== null, 60_000);
    console.log(`[measure] shard SIGKILL → restarted shard → training again: ${Date.now() - killedAt} ms`);
    expect(resumed.version).toBeGreaterThan(paused.version);
    // A worker joining now is welcomed with the shards' URLs, takes its weights from them and gets work.
    workers.push(c.startWorker());
    const joined = await c.until('the third worker applied steps', (s) => s.workers.length === 3 && s.workers.every((w) => w.stepsApplied > 0), 60_000);
    expect(['running', 'checkpointing', 'evaluating']).toContain(joined.state);
    expect(await c.coordinator.exited, c.coordinator.stderr).toEqual({ code: 0, signal: null });
    for (const w of workers) expect(await w.exited).toEqual({ code: 0, signal: null });
    const rolled = logMatch(c.coordinator, /rolled back from step (\d+) to step (\d+)/);
    expect(rolled, c.coordinator.stderr).toBeDefined();
    const { kept, rollbacks } = lineage(readRecords(c.ledger));
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]!.toStep).toBe(Number(rolled![2]));
    expect(rollbacks[0]!.toStep % 10).toBe(0);
    expect(exactlyOnceViolation(kept, NUM_TRAIN, epochs)).toBeUndefined();
    expect(summaryOf(c.out).history.map((h) => [h.appliedMin, h.appliedMax])).toEqual(Array(epochs).fill([1, 1]));
  });

  it('workers that connect before the shards wait with their heartbeats answered, not dropped, and train once the shards are up', async () => {
    const tmp = tempDir('ps-late');
    cleanup = tmp.cleanup;
    const c = (cluster = new Cluster(writeJob(tmp.dir, shardJob('late-shards', 1, 1)), tmp.dir));
    await c.startCoordinator();
    const workers = [c.startWorker(), c.startWorker()];
    await c.until('both workers waiting', () => (c.coordinator.stderr.match(/waits for the parameter-server shards/g) ?? []).length >= 2, 30_000);
    // Six heartbeat intervals (500 ms): each ping of a waiting worker is answered by a pong, which must not count as a message before hello.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(c.coordinator.stderr).not.toMatch(/expected hello first/);
    expect(c.coordinator.stderr).not.toMatch(/worker \d+ disconnected/);
    await c.startShard(0);
    expect(await c.coordinator.exited, c.coordinator.stderr).toEqual({ code: 0, signal: null });
    for (const w of workers) {
      expect(await w.exited, w.stderr).toEqual({ code: 0, signal: null });
      expect(w.stderr).not.toMatch(/DTRAIN_PROTOCOL_MALFORMED/);
    }
    expect((c.coordinator.stderr.match(/connection \d+ from/g) ?? []).length).toBe(3);
  });

  it('a checkpoint written with 2 shards resumes with 3, to the same bits as an uninterrupted run with 1', async () => {
    const tmp = tempDir('ps-resume');
    cleanup = tmp.cleanup;
    const epochs = 2;
    const reference = join(tmp.dir, 'reference');
    const run = dtrain(['train', '--config', writeJob(tmp.dir, shardJob('resume', 1, epochs), 'reference.yaml'), '--workers', '2', '--backend', 'wasm', '--out', reference, '--quiet']);
    expect(await run.exited, run.stderr).toEqual({ code: 0, signal: null });

    const config = writeJob(tmp.dir, shardJob('resume', 2, epochs));
    const c = (cluster = new Cluster(config, tmp.dir));
    await c.startCoordinator();
    await c.startShard(0);
    await c.startShard(1);
    c.startWorker();
    c.startWorker();
    await c.until('mid-epoch 1', (s) => s.epoch >= 1 && s.step % 10 >= 3, 90_000);
    c.coordinator.child.kill('SIGTERM');
    expect(await c.coordinator.exited, c.coordinator.stderr).toEqual({ code: 143, signal: null });
    const stoppedAt = logMatch(c.coordinator, /job stopped at step (\d+)/);
    expect(stoppedAt, c.coordinator.stderr).toBeDefined();

    writeFileSync(config, stringify(shardJob('resume', 3, epochs)));
    await c.startCoordinator();
    // Shards 0 and 1 kept running and dial the new coordinator; shard 2 is new.
    await c.startShard(2);
    const resumed = logMatch(c.coordinator, /resuming from checkpoint .*: epoch (\d+), step (\d+)/);
    expect(resumed, c.coordinator.stderr).toBeDefined();
    expect(Number(resumed![2])).toBe(Number(stoppedAt![1]));
    expect(await c.coordinator.exited, c.coordinator.stderr).toEqual({ code: 0, signal: null });
    expect(summaryOf(c.out).history.map((h) => [h.appliedMin, h.appliedMax])).toEqual(Array(epochs).fill([1, 1]));
    expect(weightsHash(c.out)).toBe(weightsHash(reference));
    for (const shard of c.shards) expect(await shard.exited).toEqual({ code: 0, signal: null });
  });
});
