/**
 * Issue 11: a connection storm while a job runs. The storm itself lives in
 * tools/bench (connection-storm-run.ts, `pnpm bench:storm`); this test runs
 * that benchmark's built command once, full size, and checks its JSON.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, tempDir } from './harness.js';

const STORM = join(REPO, 'tools/bench/dist/connection-storm.js');
/** The bench bounds itself (290 s + 60 s at most); this is the test's own backstop. */
const LIMIT_MS = 380_000;

/** The parts of the bench's --json output checked here (see StormResult in tools/bench/src/connection-storm-run.ts). */
interface StormJson {
  plan: { halfClients: number; reconnects: number; lingerHttp: number; lingerWs: number };
  steady: { rssMB: number; fds: number };
  peak: { rssMB: number; fds: number };
  after: { rssMB: number; fds: number; jobState: string };
  afterDone: { rssMB: number; fds: number };
  halfClients: { total: number; sentHalf: number };
  lingerers: { total: number; closedByServer: number };
  reconnects: number;
  job: { state: string; workerExits: (number | null)[] };
  failures: string[];
  error?: string;
}

function runBench(json: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // No V8 heap flags: the coordinator runs with node's defaults, as the container image runs it
    // (--initial-old-space-size=256, which the pnpm scripts pass, lets garbage pile up to 256 MB before a full GC).
    const child = spawn(process.execPath, [STORM, '--json', json], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const limit = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(limit);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('connection storm', () => {
  it(
    '200 half-handshake clients (150 half HTTP upgrades, 50 upgraded + half a frame) and 1,000 worker reconnects while a job trains: ' +
      'the job completes, silent half-handshakes are closed by the server, fds return to steady, RSS within 10%',
    async () => {
      expect(existsSync(STORM), `${STORM} is missing: build first`).toBe(true);
      const { dir, cleanup } = tempDir('storm');
      try {
        const json = join(dir, 'storm.json');
        const run = await runBench(json);
        // The table and the counts, for whoever reads the test log.
        process.stdout.write(`${run.stdout}\n`);
        expect(existsSync(json), `no JSON written; stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(true);
        const r = JSON.parse(readFileSync(json, 'utf8')) as StormJson;
        expect(r.error, run.stderr).toBeUndefined();

        expect(r.plan.halfClients).toBe(200);
        expect(r.plan.reconnects).toBe(1000);
        // Every raw client got its half out before vanishing.
        expect(r.halfClients).toMatchObject({ total: 200, sentHalf: 200 });
        // The silent ones were closed by the server (408 from the server's 10 s headersTimeout, heartbeat eviction after a 101).
        expect(r.lingerers.total).toBe(r.plan.lingerHttp + r.plan.lingerWs);
        expect(r.lingerers.closedByServer).toBe(r.lingerers.total);
        expect(r.reconnects).toBeGreaterThanOrEqual(1000);

        // The job completed, workers included.
        expect(r.job.state).toBe('done');
        expect(r.job.workerExits).toEqual([0, 0]);
        // Sampled while still training, as the steady state was.
        expect(['running', 'paused', 'evaluating', 'checkpointing']).toContain(r.after.jobState);

        // Nothing kept: open fds back to steady (small slack), after the storm and after the job.
        expect(r.after.fds).toBeLessThanOrEqual(r.steady.fds + 5);
        expect(r.afterDone.fds).toBeLessThanOrEqual(r.steady.fds + 5);
        // The storm did reach the coordinator (sockets were open at its peak).
        expect(r.peak.fds).toBeGreaterThan(r.steady.fds);
        // RSS returns to within 10% of its steady state.
        expect(r.after.rssMB).toBeLessThanOrEqual(1.1 * r.steady.rssMB);

        expect(r.failures).toEqual([]);
        expect(run.code).toBe(0);
      } finally {
        cleanup();
      }
    },
    LIMIT_MS + 10_000,
  );
});
