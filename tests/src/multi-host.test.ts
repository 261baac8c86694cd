import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, syntheticJob, tempDir, waitFor, writeJob, type Proc } from './harness.js';
import { exactlyOnceViolation, readLedger } from './ledger.js';
import { NetnsLab, netnsUnavailable, type Host } from './multi-host-net.js';

/**
 * Multi-host training without Kubernetes: the coordinator and each worker in
 * a Linux network namespace of its own, with its own address on a private
 * bridge; workers reach the coordinator through its address, as pods reach a
 * Service. A third worker host joins mid-job (scale up) and one is stopped
 * with SIGTERM (scale down, as `kubectl scale` does); every training sample
 * of every epoch is still applied exactly once.
 */
const unavailable = netnsUnavailable();
if (unavailable !== undefined) {
  console.warn(
    `\n*** SKIPPED: the multi-host test (coordinator and workers in separate network namespaces) did NOT run: ${unavailable}. ` +
      'It needs Linux, root and iproute2 (`ip netns`); .ci/run runs as root. ***\n',
  );
}

/**
 * The container command lines of the Kubernetes base (infra/k8s/base), so
 * this test runs what the pods would run, with only the cluster-specific
 * parts (Service name, mounted paths) swapped for this network's.
 */
function containerArgs(file: string): string[] {
  for (const doc of parseAllDocuments(readFileSync(join(REPO, 'infra/k8s/base', file), 'utf8'))) {
    const object = doc.toJS() as { kind?: string; spec?: { template: { spec: { containers: { args: string[] }[] } } } };
    if (object.kind === 'Deployment') return object.spec?.template.spec.containers[0]?.args ?? [];
  }
  throw new Error(`no Deployment in infra/k8s/base/${file}`);
}
const swap = (args: string[], replacements: Record<string, string>): string[] => args.map((a) => replacements[a] ?? a);
const WORKER_ARGS = containerArgs('worker.yaml');
const COORDINATOR_ARGS = containerArgs('coordinator.yaml');

const NUM_SAMPLES = 10_000;
const NUM_TRAIN = NUM_SAMPLES - NUM_SAMPLES / 10;
const EPOCHS = 8;
const TOKEN = 'multi-host-token';
/** The port the manifests give the coordinator (its Service and container port). */
const PORT = Number(COORDINATOR_ARGS[COORDINATOR_ARGS.indexOf('--port') + 1]);
const METRICS_PORT = Number(WORKER_ARGS[WORKER_ARGS.indexOf('--metrics-port') + 1]);

interface Status {
  state: string;
  step: number;
  epoch: number;
  workers: { id: number; state: string; stepsApplied: number }[];
}

/** Polls /status from inside the network (like `kubectl port-forward` would), printing one JSON line per answer. */
const PROBE = `
const [url, token] = process.argv.slice(1);
setInterval(async () => {
  try {
    const res = await fetch(url, { headers: { authorization: 'Bearer ' + token } });
    if (res.ok) process.stdout.write(JSON.stringify(await res.json()) + '\\n');
  } catch {}
}, 150);
`;

describe.skipIf(unavailable !== undefined)('multi-host: coordinator and workers in separate network namespaces', () => {
  const lab = new NetnsLab();
  const tmp = tempDir('multi-host');
  const ledger = join(tmp.dir, 'ledger.jsonl');
  const onExit = (): void => lab.destroyNamespacesSync();
  let coordinatorHost: Host;
  let coordinator: Proc;
  let probe: Proc;
  const workers = new Map<string, Proc>();
  const started = Date.now();

  const status = (): Status | undefined => {
    const lines = probe.stdout.trimEnd().split('\n');
    const last = lines.at(-1);
    return last === undefined || last === '' ? undefined : (JSON.parse(last) as Status);
  };
  const until = (what: string, predicate: (s: Status) => boolean, timeoutMs = 30_000): Promise<Status> =>
    waitFor(what, () => {
      const s = status();
      return s !== undefined && predicate(s) ? s : undefined;
    }, timeoutMs);
  const active = (s: Status): number => s.workers.filter((w) => w.state === 'joined' || w.state === 'training').length;
  const startWorker = (name: string): Proc => {
    const host = lab.hosts.get(name);
    if (host === undefined) throw new Error(`no host ${name}`);
    const args = swap(WORKER_ARGS, { [`ws://dtrain-coordinator:${PORT}`]: `ws://${coordinatorHost.address}:${PORT}` });
    const proc = lab.dtrain(host, [...args, '--backend', 'wasm', '--reconnect-timeout', '30'], { DTRAIN_TOKEN: TOKEN });
    workers.set(name, proc);
    return proc;
  };

  beforeAll(async () => {
    process.once('exit', onExit);
    coordinatorHost = lab.addHost('coord', 1);
    lab.addHost('w1', 11);
    lab.addHost('w2', 12);
    lab.addHost('w3', 13);
    const ops = lab.addHost('ops', 99);
    const config = writeJob(
      tmp.dir,
      syntheticJob('multi-host', { training: { epochs: EPOCHS, batchSize: 32 }, dataset: { numSamples: NUM_SAMPLES }, cluster: { minWorkers: 1, maxWorkers: 8, stepTimeoutMs: 10_000 } }),
    );
    const tokenFile = join(tmp.dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const args = swap(COORDINATOR_ARGS, { '/etc/dtrain/job.yaml': config, '/var/lib/dtrain': join(tmp.dir, 'out') });
    coordinator = lab.dtrain(coordinatorHost, [...args, '--ledger', ledger, '--token-file', tokenFile, '--backend', 'wasm', '--json']);
    probe = lab.node(ops, ['-e', PROBE, `http://${coordinatorHost.address}:${PORT}/status`, TOKEN]);
    await until('the coordinator answering /status across the bridge', () => true);
  }, 60_000);

  afterAll(async () => {
    const made = [...lab.namespaces];
    await lab.destroy();
    process.off('exit', onExit);
    tmp.cleanup();
    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => made.some((ns) => l.split(' ')[0] === ns));
    expect(left, 'namespaces left behind').toEqual([]);
  });

  it('runs the job to completion while a host joins and another leaves, applying every sample exactly once per epoch', async () => {
    startWorker('w1');
    startWorker('w2');
    await until('two workers training', (s) => active(s) === 2 && s.step > 20);
    // The PodMonitor's view: a worker's /metrics on the manifests' port, from another host.
    const ops = lab.hosts.get('ops');
    const scrape = ops === undefined ? undefined : lab.node(ops, ['-e', 'fetch(process.argv[1]).then((r) => r.text()).then((t) => process.stdout.write(t))', `http://${lab.hosts.get('w2')?.address}:${METRICS_PORT}/metrics`]);
    expect((await scrape?.exited)?.code).toBe(0);
    expect(scrape?.stdout).toMatch(/^dtrain_worker_steps_total\b/m);

    // Scale up: a third host joins mid-job and contributes.
    startWorker('w3');
    const three = await until('three workers training', (s) => active(s) === 3);
    const joinedAt = three.step;
    await until('the third worker applying steps', (s) => s.workers.filter((w) => w.stepsApplied > 0).length === 3 && s.step > joinedAt + 5);

    // Scale down: SIGTERM, as the kubelet sends when a Deployment shrinks; the worker leaves cleanly.
    const w1 = workers.get('w1');
    const termAt = Date.now();
    w1?.child.kill('SIGTERM');
    expect(await w1?.exited, w1?.stderr).toEqual({ code: 0, signal: null });
    const drainMs = Date.now() - termAt;
    const afterLeave = await until('two workers again', (s) => active(s) === 2);
    // Both changes happened mid-job, with whole epochs still to run.
    expect(afterLeave.epoch).toBeLessThan(EPOCHS - 2);

    // The manifests run both with --linger: a finished job stays up (a Deployment would restart
    // an exited pod) until it is told to go, as `kubectl delete` would.
    const done = await until('the job done', (s) => s.state === 'done', 120_000);
    expect(done.epoch).toBe(EPOCHS);
    await new Promise((r) => setTimeout(r, 500));
    const lingering = [coordinator, ...['w2', 'w3'].map((n) => workers.get(n))];
    for (const p of lingering) expect(p?.child.exitCode, 'still running after the job finished').toBeNull();
    for (const p of lingering) p?.child.kill('SIGTERM');
    expect(await coordinator.exited, coordinator.stderr.slice(-3000)).toEqual({ code: 0, signal: null });
    for (const name of ['w2', 'w3']) expect(await workers.get(name)?.exited, workers.get(name)?.stderr).toEqual({ code: 0, signal: null });
    console.log(
      `[measure] multi-host job: ${((Date.now() - started) / 1000).toFixed(1)} s; w3 joined at step ${joinedAt} (epoch ${three.epoch}), ` +
        `w1 gone by epoch ${afterLeave.epoch} of ${EPOCHS}; SIGTERM → worker exit ${drainMs} ms`,
    );
    expect(drainMs).toBeLessThan(5_000);

    // Exactly once, counted from the coordinator's audit ledger.
    const lines = readLedger(ledger);
    expect(exactlyOnceViolation(lines, NUM_TRAIN, EPOCHS)).toBeUndefined();
    expect(coordinator.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { epoch: number }).epoch)).toEqual([...Array(EPOCHS).keys()]);
  });

  it('each worker reached the coordinator from its own host address, and each host contributed batches', () => {
    // "connection N from ADDRESS:PORT (worker ID pending hello)": the coordinator saw three distinct hosts.
    const seen = new Map<number, string>();
    for (const m of coordinator.stderr.matchAll(/connection \d+ from ([\d.]+):\d+ \(worker (\d+) pending hello\)/g)) seen.set(Number(m[2]), m[1] ?? '');
    const addresses = ['w1', 'w2', 'w3'].map((n) => lab.hosts.get(n)?.address);
    expect([...new Set(seen.values())].sort()).toEqual(addresses.sort());
    const lines = readLedger(ledger);
    const contributors = new Set(lines.map((l) => seen.get(l.workerId)));
    expect([...contributors].sort()).toEqual(addresses.sort());
    // w3 came in after the start, w1 went before the end; w2 stayed throughout.
    const steps = (address: string | undefined): number[] => lines.filter((l) => seen.get(l.workerId) === address).map((l) => l.step);
    const [first, last] = [lines[0]?.step ?? 0, lines.at(-1)?.step ?? 0];
    expect(Math.min(...steps(addresses[2]))).toBeGreaterThan(first + 20);
    expect(Math.max(...steps(addresses[0]))).toBeLessThan(last - 100);
    expect(Math.max(...steps(addresses[1]))).toBeGreaterThanOrEqual(last - 1);
  });

});
