/**
 * `pnpm bench:storm`: a connection storm against a coordinator that is
 * training a job with 2 real workers (issue 11). 200 raw clients send half a
 * handshake (half an HTTP upgrade, or a completed upgrade and half a binary
 * frame) and vanish, in waves; a few more send half and stay silent, to see
 * the server close them; and a TCP proxy between the workers and the
 * coordinator cuts their connections 1,000 times, each reconnect made by the
 * worker's own backoff logic. The coordinator's RSS (VmRSS) and open fds are
 * sampled steady, during the storm (peak) and after it (settled, median),
 * and once more after the job is done (`--linger`).
 *
 * Run: `node dist/connection-storm.js [--short] [--json FILE] [--gc-probe]`.
 * `--short`: 300 reconnects instead of 1,000 and fewer silent
 * half-handshakes (a quick look). Run it without V8 heap flags (as `pnpm
 * bench:storm` does): its children inherit them, and the coordinator should
 * run as the container image runs it, with node's defaults; with
 * `--initial-old-space-size=256` garbage piles up to 256 MB before a full
 * GC and RSS after the storm measured 1.12x steady (1.05x without). `--gc-probe`: one more
 * row, after forcing a full GC in the coordinator (a heap snapshot).
 * `--default-malloc`: run the coordinator with glibc's default malloc
 * settings instead of GLIBC_RETURNS_MEMORY (see connection-storm-run.ts):
 * its RSS then includes what the allocator keeps in its arenas.
 * `--control SECONDS`: no storm at all, SECONDS of plain training where it
 * would be: how much the RSS drifts anyway (its verdict's reconnect and
 * half-handshake checks pass trivially). Exit 0 when the job completes, open
 * fds after the storm are at most steady + FD_SLACK, RSS after is at most
 * 1.10 x steady and every silent half-handshake was closed by the server;
 * 1 otherwise (or when the run breaks); 2 on a bad flag.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FULL_STORM, SHORT_STORM, runStorm, stormReport } from './connection-storm-run.js';
import { killWatchedChildren } from './watched-process.js';

let flags: { short?: boolean; json?: string; 'gc-probe'?: boolean; 'default-malloc'?: boolean; control?: string };
try {
  ({ values: flags } = parseArgs({ options: { short: { type: 'boolean' }, json: { type: 'string' }, 'gc-probe': { type: 'boolean' }, 'default-malloc': { type: 'boolean' }, control: { type: 'string' } } }));
} catch (error) {
  process.stderr.write(`connection-storm: ${error instanceof Error ? error.message : String(error)}\nusage: connection-storm [--short] [--json FILE] [--gc-probe] [--default-malloc] [--control SECONDS]\n`);
  process.exit(2);
}
const control = flags.control === undefined ? undefined : Number(flags.control);
if (control !== undefined && !(Number.isInteger(control) && control >= 1 && control <= 200)) {
  process.stderr.write(`connection-storm: --control: expected seconds from 1 to 200, got ${JSON.stringify(flags.control)}\n`);
  process.exit(2);
}
const base = flags.short === true ? SHORT_STORM : FULL_STORM;
const plan = {
  ...base,
  gcProbe: flags['gc-probe'] === true,
  defaultMalloc: flags['default-malloc'] === true,
  // The control: the same job and samples, no storm.
  ...(control === undefined ? {} : { label: `${base.label} control`, controlSeconds: control, halfClients: 0, reconnects: 0, lingerHttp: 0, lingerWs: 0 }),
};
const cli = join(resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..'), 'apps/cli/dist/main.js');
if (!existsSync(cli)) {
  process.stderr.write(`connection-storm: ${cli} is missing: build first (pnpm build)\n`);
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), 'dtrain-storm-'));
const cleanUp = (): void => {
  killWatchedChildren();
  rmSync(work, { recursive: true, force: true });
};
process.once('exit', cleanUp);
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    cleanUp();
    process.exit(code);
  });
}
// Every wait inside has its own limit; this bounds the whole.
setTimeout(() => {
  process.stdout.write(`*** THE CONNECTION STORM BROKE: still running after ${plan.timeoutMs / 1000 + 60} s ***\n`);
  process.exit(1);
}, plan.timeoutMs + 60_000).unref();

try {
  process.stderr.write(`connection storm (${plan.label}): ${plan.halfClients} half-handshake clients, ${plan.reconnects} worker reconnects, ${plan.workers} workers\n`);
  const result = await runStorm(plan, cli, work, (line) => void process.stderr.write(`connection storm: ${line}\n`));
  process.stdout.write(`${stormReport(result)}\n`);
  if (flags.json !== undefined) writeFileSync(flags.json, `${JSON.stringify(result, null, 2)}\n`);
  process.exit(result.failures.length === 0 ? 0 : 1);
} catch (error) {
  process.stdout.write(`*** THE CONNECTION STORM BROKE: ${error instanceof Error ? error.message : String(error)} ***\n`);
  if (flags.json !== undefined) writeFileSync(flags.json, `${JSON.stringify({ plan, error: error instanceof Error ? error.message : String(error) }, null, 2)}\n`);
  process.exit(1);
}
