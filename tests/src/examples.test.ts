import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, waitFor } from './harness.js';

/**
 * The TypeScript examples as programs: each runs as a user would run it
 * (`npx tsx examples/NAME.ts` from the repository root; here `node --import
 * tsx`, the same loader without npx), must end with its result lines, reach
 * its stated held-back accuracy, and leave no process behind. Assumes the
 * workspace is built (the examples import the `dtrain` package's dist/).
 */

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  /** Every process seen below the example's while it ran. */
  readonly descendants: ReadonlySet<number>;
}

/** Parent pid of every live process, from /proc. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      map.set(Number(entry), ppid);
    } catch {
      // It exited while we looked.
    }
  }
  return map;
}

function descendantsOf(root: number): number[] {
  const byParent = parents();
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop() as number;
    for (const [child, parent] of byParent) {
      if (parent === pid) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function runExample(name: string): Promise<Run> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join('examples', name)], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const descendants = new Set<number>();
  const watch = setInterval(() => {
    if (child.pid !== undefined) for (const pid of descendantsOf(child.pid)) descendants.add(pid);
  }, 100);
  const kill = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearInterval(watch);
  clearTimeout(kill);
  const ms = performance.now() - started;
  const result = /^test accuracy: .*$/m.exec(stdout)?.[0] ?? 'no test accuracy line';
  console.log(`[measure] examples/${name}: ${(ms / 1000).toFixed(1)} s, ${result} (exit ${code}, ${descendants.size} child processes)`);
  return { code, stdout, stderr, ms, descendants };
}

/** The example's last `test accuracy: X` line, as a number. */
function testAccuracy(run: Run): number {
  const match = /^test accuracy: (\d\.\d+) \(\d+ held-back images\)$/m.exec(run.stdout);
  expect(match, `no test accuracy line in:\n${run.stdout}\n${run.stderr}`).not.toBeNull();
  return Number(match?.[1]);
}

function history(run: Run): Record<string, number[]> {
  const line = run.stdout.split('\n').find((l) => l.startsWith('history: '));
  expect(line, `no history line in:\n${run.stdout}\n${run.stderr}`).toBeDefined();
  return JSON.parse((line ?? '').slice('history: '.length)) as Record<string, number[]>;
}

/** No process started by the example outlives it (a worker process fit started, a stray thread host). */
async function expectNoLeftovers(run: Run): Promise<void> {
  await waitFor('the example\'s child processes to exit', () => ([...run.descendants].some(alive) ? undefined : true), 5_000).catch(() => undefined);
  expect([...run.descendants].filter(alive), 'child processes left running').toEqual([]);
}

describe('examples as programs', () => {
  it('mnist-mlp-fit.ts: fit with 2 local workers, 3 epochs with validation, ≥ 0.80 accuracy on 1,000 held-back images', async () => {
    const run = await runExample('mnist-mlp-fit.ts');
    expect(run.code, run.stderr).toBe(0);
    const h = history(run);
    for (const key of ['loss', 'acc', 'val_loss', 'val_acc']) expect(h[key], key).toHaveLength(3);
    expect(h['loss']?.[2]).toBeLessThan(h['loss']?.[0] ?? Number.NaN);
    expect(run.stdout).toMatch(/^epoch 3: loss \d\.\d{4} val_acc \d\.\d{4}$/m);
    expect(testAccuracy(run)).toBeGreaterThanOrEqual(0.8);
    // fit's workers are processes: seen while it ran, gone after.
    expect(run.descendants.size).toBeGreaterThanOrEqual(2);
    await expectNoLeftovers(run);
  });

  it('cnn-fit-dataset.ts: fitDataset over a tf.data generator, 3 epochs, ≥ 0.75 accuracy on 500 held-back images', async () => {
    const run = await runExample('cnn-fit-dataset.ts');
    expect(run.code, run.stderr).toBe(0);
    const h = history(run);
    expect(h['loss']).toHaveLength(3);
    expect(h['acc']).toHaveLength(3);
    expect(h['loss']?.[2]).toBeLessThan(h['loss']?.[0] ?? Number.NaN);
    expect(testAccuracy(run)).toBeGreaterThanOrEqual(0.75);
    expect(run.descendants.size).toBeGreaterThanOrEqual(2);
    await expectNoLeftovers(run);
  });

  it('serve-remote-workers.ts: fit listening, 2 workers from startWorker join, both end with the job, ≥ 0.80 held-back accuracy', async () => {
    const run = await runExample('serve-remote-workers.ts');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^coordinator listening on ws:\/\/127\.0\.0\.1:\d+; starting 2 workers$/m);
    expect(run.stdout).toMatch(/^workers exited: 0 \(training complete\), 0 \(training complete\)$/m);
    const h = history(run);
    for (const key of ['loss', 'acc', 'val_loss', 'val_acc']) expect(h[key], key).toHaveLength(3);
    expect(testAccuracy(run)).toBeGreaterThanOrEqual(0.8);
    await expectNoLeftovers(run);
  });
});
