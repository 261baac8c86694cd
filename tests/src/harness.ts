import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

/** The built CLI entry point. */
export const CLI = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../apps/cli/dist/main.js');
export const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** A child process with its output collected. */
export interface Proc {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs `dtrain ARGS…` as a real process; with `wrap`, as the last arguments
 * of that command (`unshare …`: the same CLI in another mount namespace).
 */
export function dtrain(args: readonly string[], env: Record<string, string> = {}, wrap: readonly string[] = []): Proc {
  const [command, ...prefix] = [...wrap, process.execPath];
  const child = spawn(command as string, [...prefix, CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
  };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (proc.stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (proc.stderr += d));
  return proc;
}

/** A temporary folder removed by `cleanup`. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `dtrain-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a job config as YAML into `dir` and returns its path. */
export function writeJob(dir: string, job: Record<string, unknown>, file = 'job.yaml'): string {
  const path = join(dir, file);
  writeFileSync(path, stringify(job));
  return path;
}

/** Polls until `probe` returns a value (not undefined) or the time runs out. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** GET a JSON document. */
export async function getJson<T>(url: string, token?: string): Promise<T> {
  const res = await fetch(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/** A small synthetic classification job (fast on 2 cores). */
export function syntheticJob(name: string, overrides: { training?: Record<string, unknown>; cluster?: Record<string, unknown>; dataset?: Record<string, unknown>; model?: unknown } = {}): Record<string, unknown> {
  return {
    name,
    model: overrides.model ?? {
      layers: [
        { type: 'dense', units: 32, activation: 'relu', inputShape: [16], kernelInitializer: 'heNormal' },
        { type: 'dense', units: 4, activation: 'softmax' },
      ],
    },
    dataset: { format: 'synthetic', numSamples: 2000, featureShape: [16], numClasses: 4, seed: 3, validationSplit: 0.1, ...overrides.dataset },
    training: {
      epochs: 3,
      batchSize: 32,
      optimizer: { name: 'adam', learningRate: 0.01 },
      loss: 'sparseCategoricalCrossentropy',
      seed: 11,
      ...overrides.training,
    },
    cluster: { minWorkers: 1, stepTimeoutMs: 20_000, ...overrides.cluster },
  };
}
