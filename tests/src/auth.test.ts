import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dtrain, freePort, syntheticJob, tempDir, waitFor, writeJob, type Proc } from './harness.js';
import { get, upgrade } from './auth-probe.js';

/**
 * Workers authenticate with a shared token on the WebSocket upgrade: a
 * missing or wrong one gets HTTP 401 and no socket; /status needs it,
 * /healthz, /readyz and /metrics do not. Local mode makes its own token.
 * Optionally the same over TLS (wss://, https://).
 */
const TOKEN = 'the-right-token-0123456789';
const job = (name: string, epochs = 2): Record<string, unknown> =>
  syntheticJob(name, { training: { epochs }, dataset: { numSamples: 1200 }, cluster: { minWorkers: 1, stepTimeoutMs: 10_000 } });
const running = (p: Proc): boolean => p.child.exitCode === null && p.child.signalCode === null;

async function stopAll(procs: readonly (Proc | undefined)[]): Promise<void> {
  for (const p of procs) if (p !== undefined && running(p)) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p?.exited));
}

describe('auth: the worker token on the upgrade and on /status', () => {
  const tmp = tempDir('auth');
  let port: number;
  let coordinator: Proc;
  const workers: Proc[] = [];
  const base = (): string => `http://127.0.0.1:${port}`;

  beforeAll(async () => {
    port = await freePort();
    const tokenFile = join(tmp.dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    coordinator = dtrain(['coordinator', '--config', writeJob(tmp.dir, job('auth')), '--port', String(port), '--host', '127.0.0.1', '--out', join(tmp.dir, 'out'), '--token-file', tokenFile, '--backend', 'wasm']);
    await waitFor('coordinator /readyz', async () => ((await get(`${base()}/readyz`).catch(() => undefined))?.status === 200 ? true : undefined));
  });
  afterAll(async () => {
    await stopAll([coordinator, ...workers]);
    tmp.cleanup();
  });

  it.each([
    ['no token', undefined],
    ['a wrong token', 'the-wrong-token-0123456789'],
    ['a prefix of the token', TOKEN.slice(0, 10)],
    ['the token plus a character', `${TOKEN}x`],
  ])('an upgrade with %s gets HTTP 401, and the server closes the connection without a socket', async (_what, token) => {
    const result = await upgrade(`ws://127.0.0.1:${port}`, token === undefined ? {} : { token });
    expect(result).toEqual({ status: 401, upgraded: false, socketClosedByServer: true });
  });

  it('an upgrade with the right token switches protocols', async () => {
    expect(await upgrade(`ws://127.0.0.1:${port}`, { token: TOKEN })).toMatchObject({ status: 101, upgraded: true });
  });

  it('/status needs the token; /healthz, /readyz and /metrics do not', async () => {
    expect((await get(`${base()}/status`)).status).toBe(401);
    expect((await get(`${base()}/status`, { token: 'nope' })).status).toBe(401);
    const status = await get(`${base()}/status`, { token: TOKEN });
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body)).toMatchObject({ state: 'waiting' });
    expect((await get(`${base()}/healthz`)).status).toBe(200);
    expect((await get(`${base()}/readyz`)).status).toBe(200);
    const metrics = await get(`${base()}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^# (HELP|TYPE) /m);
  });

  it('a worker with a wrong token is refused (exit 3) and never joins', async () => {
    const connections = (): number => [...coordinator.stderr.matchAll(/connection \d+ from/g)].length;
    const before = connections();
    const intruder = dtrain(['worker', '--coordinator', `ws://127.0.0.1:${port}`, '--backend', 'wasm'], { DTRAIN_TOKEN: 'not-the-token' });
    workers.push(intruder);
    expect((await intruder.exited).code).toBe(3);
    expect(intruder.stderr).toContain('coordinator refused the token (HTTP 401)');
    const status = JSON.parse((await get(`${base()}/status`, { token: TOKEN })).body) as { workers: unknown[] };
    expect(status.workers).toEqual([]);
    // Nothing reached the protocol layer: the coordinator logged no new connection.
    expect(connections()).toBe(before);
  });

  it('a worker with the right token (from --token-file) joins and the job completes', async () => {
    const tokenFile = join(tmp.dir, 'worker-token');
    writeFileSync(tokenFile, TOKEN);
    const worker = dtrain(['worker', '--coordinator', `ws://127.0.0.1:${port}`, '--backend', 'wasm', '--token-file', tokenFile], { DTRAIN_TOKEN: '' });
    workers.push(worker);
    expect(await worker.exited, worker.stderr).toEqual({ code: 0, signal: null });
    expect(await coordinator.exited, coordinator.stderr).toEqual({ code: 0, signal: null });
    expect(coordinator.stderr).toMatch(/worker 0 joined/);
    expect(JSON.parse(readFileSync(join(tmp.dir, 'out', 'summary.json'), 'utf8'))).toMatchObject({ state: 'done', workers: 1 });
  });
});

describe('auth: local mode (dtrain train) makes its own token', () => {
  const tmp = tempDir('auth-local');
  let train: Proc | undefined;
  afterAll(async () => {
    await stopAll([train]);
    tmp.cleanup();
  });

  it('refuses an upgrade and /status without it, while its own workers train to the end', async () => {
    const port = await freePort();
    train = dtrain(['train', '--config', writeJob(tmp.dir, job('auth-local', 6)), '--workers', '1', '--port', String(port), '--out', join(tmp.dir, 'out'), '--backend', 'wasm', '--quiet']);
    await waitFor('train /healthz', async () => ((await get(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200 ? true : undefined));
    const [probe, status] = await Promise.all([upgrade(`ws://127.0.0.1:${port}`), get(`http://127.0.0.1:${port}/status`)]);
    expect(probe).toEqual({ status: 401, upgraded: false, socketClosedByServer: true });
    expect(status.status).toBe(401);
    expect(await train.exited, train.stderr).toEqual({ code: 0, signal: null });
  });
});

const opensslMissing = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0;
if (opensslMissing) {
  console.warn('\n*** SKIPPED: openssl is not on PATH, so the TLS tests (wss:// and https:// with a self-signed certificate) did NOT run. Install openssl to run them. ***\n');
}

describe.skipIf(opensslMissing)('auth over TLS: --tls-cert/--tls-key on the coordinator, wss:// and --tls-ca on the worker', () => {
  const tmp = tempDir('auth-tls');
  const cert = join(tmp.dir, 'cert.pem');
  const key = join(tmp.dir, 'key.pem');
  let port: number;
  let coordinator: Proc;
  const workers: Proc[] = [];

  beforeAll(async () => {
    // A throwaway self-signed certificate for 127.0.0.1, valid for a day.
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=dtrain-test', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`openssl req failed: ${made.stderr}`);
    port = await freePort();
    coordinator = dtrain(
      ['coordinator', '--config', writeJob(tmp.dir, job('auth-tls')), '--port', String(port), '--host', '127.0.0.1', '--out', join(tmp.dir, 'out'), '--tls-cert', cert, '--tls-key', key, '--backend', 'wasm'],
      { DTRAIN_TOKEN: TOKEN },
    );
    const ca = readFileSync(cert);
    await waitFor('coordinator https /readyz', async () => ((await get(`https://127.0.0.1:${port}/readyz`, { ca }).catch(() => undefined))?.status === 200 ? true : undefined));
  });
  afterAll(async () => {
    await stopAll([coordinator, ...workers]);
    tmp.cleanup();
  });

  it('serves https only: a plain http request gets no HTTP answer, and /status over https still needs the token', async () => {
    await expect(get(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    const ca = readFileSync(cert);
    expect((await get(`https://127.0.0.1:${port}/status`, { ca })).status).toBe(401);
    expect((await get(`https://127.0.0.1:${port}/status`, { ca, token: TOKEN })).status).toBe(200);
    expect(await upgrade(`wss://127.0.0.1:${port}`, { ca })).toEqual({ status: 401, upgraded: false, socketClosedByServer: true });
  });

  it('a worker that does not trust the certificate cannot connect', async () => {
    const untrusting = dtrain(['worker', '--coordinator', `wss://127.0.0.1:${port}`, '--backend', 'wasm', '--reconnect-timeout', '2'], { DTRAIN_TOKEN: TOKEN });
    workers.push(untrusting);
    const exit = await untrusting.exited;
    expect(exit.code).toBe(1);
    expect(untrusting.stderr).toMatch(/self[- ]signed certificate/i);
    expect(coordinator.stderr).not.toMatch(/joined/);
  });

  it('a worker with --tls-ca and the token trains the job to the end over wss://', async () => {
    const worker = dtrain(['worker', '--coordinator', `wss://127.0.0.1:${port}`, '--backend', 'wasm', '--tls-ca', cert], { DTRAIN_TOKEN: TOKEN });
    workers.push(worker);
    expect(await worker.exited, worker.stderr).toEqual({ code: 0, signal: null });
    expect(await coordinator.exited, coordinator.stderr).toEqual({ code: 0, signal: null });
    expect(JSON.parse(readFileSync(join(tmp.dir, 'out', 'summary.json'), 'utf8'))).toMatchObject({ state: 'done' });
  });
});
