import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dtrain, syntheticJob, tempDir, writeJob } from './harness.js';

function job(name: string, training: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...syntheticJob(name, { training: { epochs: 1, ...training } }), checkpoint: { everySteps: 10, keep: 3 } };
}

async function train(config: string, out: string, resume: boolean): Promise<{ code: number | null; stderr: string }> {
  const run = dtrain(['train', '--config', config, '--workers', '1', '--backend', 'wasm', '--out', out, '--quiet', ...(resume ? ['--resume'] : [])]);
  const exit = await run.exited;
  return { code: exit.code, stderr: run.stderr };
}

describe('checkpoints are checked before they are trusted', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  it('a bit flipped in the newest checkpoint: said in one line, the previous one resumed, the job finishes', async () => {
    const tmp = tempDir('ckpt-flip');
    cleanup = tmp.cleanup;
    const out = join(tmp.dir, 'out');
    const first = await train(writeJob(tmp.dir, job('flip')), out, false);
    expect(first.code, first.stderr).toBe(0);
    const checkpoints = join(out, 'checkpoints');
    const newest = readFileSync(join(checkpoints, 'LATEST'), 'utf8').trim();
    const older = readdirSync(checkpoints).filter((n) => n.startsWith('ckpt-') && n !== newest).sort().at(-1);
    expect(older).toBeDefined();
    const weights = join(checkpoints, newest, 'weights.bin');
    const bytes = readFileSync(weights);
    bytes[9] = (bytes[9] ?? 0) ^ 0x01;
    writeFileSync(weights, bytes);

    const resumed = await train(writeJob(tmp.dir, job('flip', { epochs: 2 })), out, true);
    expect(resumed.code, resumed.stderr).toBe(0);
    const lines = resumed.stderr.split('\n');
    expect(lines.filter((l) => l.includes('is not usable, trying an older one'))).toEqual([
      expect.stringContaining(`checkpoint ${join(checkpoints, newest)} is not usable, trying an older one: ${weights}: its sha256 differs from the one training.json recorded`),
    ]);
    const step = Number(/ckpt-0*(\d+)/.exec(older as string)?.[1]);
    expect(resumed.stderr).toMatch(new RegExp(`resuming from checkpoint .*: epoch \\d+, step ${step},`));
  });

  it.each([
    ['name', (j: Record<string, unknown>) => ({ ...j, name: 'other-job' }), 'name is "trust" there, "other-job" here'],
    ['the optimizer', (j: Record<string, unknown>) => ({ ...j, training: { ...(j['training'] as object), optimizer: { name: 'sgd', learningRate: 0.1 } } }), 'training.optimizer.name is "adam" there, "sgd" here'],
    ['the batch size', (j: Record<string, unknown>) => ({ ...j, training: { ...(j['training'] as object), batchSize: 64 } }), 'training.batchSize is 32 there, 64 here'],
  ])('a checkpoint of another job (%s differs) is refused with exit 2, naming the field', async (_what, change, detail) => {
    const tmp = tempDir('ckpt-other');
    cleanup = tmp.cleanup;
    const out = join(tmp.dir, 'out');
    const first = await train(writeJob(tmp.dir, job('trust', { epochs: 1 })), out, false);
    expect(first.code, first.stderr).toBe(0);
    // The newest checkpoint is the epoch's end, which has no data cursor; an older one (every 10 steps) is mid-epoch
    // and has one, so the batch size is checked too: LATEST is pointed at it.
    const checkpoints = join(out, 'checkpoints');
    const mid = readdirSync(checkpoints).filter((n) => n.startsWith('ckpt-')).sort()[0] as string;
    writeFileSync(join(checkpoints, 'LATEST'), `${mid}\n`);
    const other = await train(writeJob(tmp.dir, change(job('trust', { epochs: 2 }))), out, true);
    expect(other.code, other.stderr).toBe(2);
    expect(other.stderr).toContain(`checkpoint.dir: ${checkpoints} holds a checkpoint of another job (${detail}); use another folder or delete it`);
  });
});
