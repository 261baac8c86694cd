/**
 * `pnpm bench` (data plane): what synchronisation costs against what this
 * machine can move, every figure a ratio within one run.
 *
 * 1. Loopback floor: raw TCP from one Node process to another over
 *    127.0.0.1, 4 MiB writes, 3 rounds of 0.5 s before section 2 and 3 after
 *    it; the median of all rounds is the floor rate.
 * 2. Sync overhead: `dtrain coordinator` + 1 and 2 `dtrain worker
 *    --simulate-compute-ms` processes (a timer instead of tfjs, constant
 *    gradients through the real data plane) on dense MLPs of about 1 MB,
 *    64 MB and 368 MB of float32 weights, SGD, a handful of steps. Per row:
 *    bytes per step, mean sync overhead (step wall time − slowest worker's
 *    compute), the floor (bytes ÷ loopback rate), overhead ÷ floor (target
 *    ≤ 1.5x); every process's peak RSS beside the model's bytes.
 * 3. The 92M-parameter MLP 2048-8192-8192-1024-10 for real (wasm, batch 16,
 *    Adam): plain `trainOnBatch` in one process vs dtrain with 1 worker, time
 *    per step (target ≤ 1.3x), peak RSS of each process. 2–3 minutes on a
 *    busy 2-core machine; each process is killed after 3 minutes.
 *
 * Run: `node dist/data-plane-bench.js [--only floor|sync|large] [--json FILE]`
 * (`--json` also writes every figure printed). Env: BENCH_SIM_MS (simulated
 * compute per step, default 50); BENCH_LARGE=0 skips section 3.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MB, type BenchContext } from './bench-context.js';
import { runLargeMlp } from './large-mlp.js';
import { measureLoopbackFloor, medianRate, type LoopbackRound } from './loopback-floor.js';
import { SYNC_TARGET, reportSync, runSyncCases } from './sync-overhead.js';
import { formatTable, num } from './table.js';
import { killWatchedChildren } from './watched-process.js';

const SECTIONS = ['floor', 'sync', 'large'] as const;
type Section = (typeof SECTIONS)[number];

const { values: flags } = parseArgs({ options: { json: { type: 'string' }, only: { type: 'string' } } });
if (flags.only !== undefined && !(SECTIONS as readonly string[]).includes(flags.only)) {
  process.stderr.write(`--only: expected one of ${SECTIONS.join(', ')}, got ${JSON.stringify(flags.only)}\n`);
  process.exit(2);
}
const runs = (s: Section): boolean => flags.only === undefined || flags.only === s;
const simulateMs = Number(process.env.BENCH_SIM_MS ?? 50);
if (!Number.isInteger(simulateMs) || simulateMs < 0) {
  process.stderr.write(`BENCH_SIM_MS: expected a whole number of milliseconds, got ${JSON.stringify(process.env.BENCH_SIM_MS)}\n`);
  process.exit(2);
}
const dist = fileURLToPath(new URL('.', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'dtrain-data-plane-'));
const ctx: BenchContext = {
  cli: join(resolve(dist, '../../..'), 'apps/cli/dist/main.js'),
  dist,
  work,
  say: (text) => process.stdout.write(`${text}\n`),
};
/** Every figure printed, by section, for --json. */
const figures: Record<string, unknown> = {};

const cleanUp = (): void => {
  killWatchedChildren();
  rmSync(work, { recursive: true, force: true });
};
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    cleanUp();
    process.exit(code);
  });
}

try {
  ctx.say(`dtrain data-plane benchmark: every figure is a ratio within this run (${process.env.BENCH_SIM_MS === undefined ? 'default ' : ''}${simulateMs} ms simulated compute per step in section 2)\n`);
  let floorRate: number | undefined;
  if (runs('floor') || runs('sync')) {
    // Measured around section 2, not only before it: other load on the machine moves the floor too.
    const before = (await measureLoopbackFloor()).rounds;
    const syncRuns = runs('sync') ? await runSyncCases(ctx, simulateMs) : undefined;
    const after = syncRuns === undefined ? [] : (await measureLoopbackFloor()).rounds;
    floorRate = reportFloor(before, after);
    if (syncRuns !== undefined) figures.sync = { simulatedComputeMs: simulateMs, floorBytesPerSecond: floorRate, target: SYNC_TARGET, rows: reportSync(ctx, syncRuns, floorRate, simulateMs) };
  }
  if (runs('large')) {
    if (process.env.BENCH_LARGE === '0') {
      ctx.say('3. The 92M-parameter MLP for real: *** SKIPPED (BENCH_LARGE=0); unset it to measure dtrain against plain tfjs on the large model. ***\n');
      figures.large = { skipped: 'BENCH_LARGE=0' };
    } else {
      const started = performance.now();
      try {
        figures.large = await runLargeMlp(ctx, floorRate);
      } catch (error) {
        // Sections 1 and 2 stand on their own: print what failed, write the rest, exit non-zero.
        const message = error instanceof Error ? error.message : String(error);
        ctx.say(`3. The 92M-parameter MLP for real: *** FAILED: ${message} ***\n`);
        figures.large = { failed: message };
        process.exitCode = 1;
      }
      ctx.say(`(section 3 took ${num((performance.now() - started) / 1000, 0)} s; BENCH_LARGE=0 skips it)`);
    }
  }
} finally {
  cleanUp();
}
if (flags.json !== undefined) writeFileSync(flags.json, `${JSON.stringify(figures, null, 2)}\n`);

function reportFloor(before: readonly LoopbackRound[], after: readonly LoopbackRound[]): number {
  const all = [...before, ...after];
  const rate = medianRate(all);
  ctx.say('1. Loopback floor: raw TCP over 127.0.0.1, one Node process to another (child), 4 MiB writes');
  ctx.say(
    formatTable(
      ['round', 'when', 'MB', 'seconds', 'MB/s'],
      all.map((r, i) => [String(i + 1), i < before.length ? (after.length === 0 ? '' : 'before section 2') : 'after section 2', num(r.bytes / MB, 0), num(r.seconds, 2), num(r.bytesPerSecond / MB, 0)]),
    ),
  );
  ctx.say(`floor rate (median of ${all.length} rounds): ${num(rate / MB, 0)} MB/s (the architecture notes expect about 1,600 MB/s on an idle machine of this kind)\n`);
  figures.loopback = { rounds: all.map((r, i) => ({ ...r, afterSync: i >= before.length })), bytesPerSecond: rate };
  return rate;
}
