import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO, dtrain, freePort, syntheticJob, tempDir, waitFor, writeJob, type Proc } from './harness.js';
import { comparisonsAsBool, dashboardExpressions, ruleExpressions, substituteVariables, type NamedExpr } from './prometheus-exprs.js';
import { havePrometheus, startPrometheus, testConfig, type PrometheusServer, type RuleState, type Sample } from './prometheus-server.js';

/**
 * The monitoring files against a real Prometheus: a coordinator and two
 * worker processes train a long synthetic job while Prometheus (started
 * with the shipped prometheus.yml and alerts.yml, scraping every second)
 * collects their /metrics. Then:
 *
 * - every panel query of the committed dashboard JSON, with `$job` set to
 *   what the dashboard's `job` variable (label_values(dtrain_info, job))
 *   lists, returns at least one series, and the parameter-server shard
 *   row shows the embedded shard 0 at work (not only the zeros its series
 *   start at);
 * - every recording rule returns data as written;
 * - every alert rule returns data with its comparisons made `bool`
 *   (`> 300` → `> bool 300`). A healthy run must keep most alerts quiet, so
 *   their expressions as written are empty, which would prove nothing; the
 *   `bool` form returns every series the alert evaluates (as 0 or 1), so a
 *   result shows that each metric, label matcher, join and aggregation of the
 *   rule meets real series. The threshold logic itself is covered by
 *   `promtool test rules` (tools/dashboard);
 * - and, as written, TrainingStalled, NoWorkers and LossNotFinite are quiet
 *   (a healthy run; StragglerWorker may legitimately trip on 2 shared cores).
 *
 * Everything started here is stopped in afterAll.
 */

const JOB = 'prom-e2e';
const dashboardJson = JSON.parse(readFileSync(join(REPO, 'infra/grafana/dashboards/dtrain.json'), 'utf8')) as { panels?: [] };
const rulesYaml = readFileSync(join(REPO, 'infra/prometheus/alerts.yml'), 'utf8');
const shippedConfig = parse(readFileSync(join(REPO, 'infra/prometheus/prometheus.yml'), 'utf8')) as Record<string, unknown>;

const panels = dashboardExpressions(dashboardJson);
const rules = ruleExpressions(rulesYaml);
const recordings = rules.filter((r) => r.kind === 'record');
const alerts = rules.filter((r) => r.kind === 'alert');
/** Alerts a healthy two-worker run must not trip. */
const QUIET = ['TrainingStalled', 'NoWorkers', 'LossNotFinite'];

const canRun = havePrometheus();
if (!canRun) {
  console.warn(
    '\n*** SKIPPED: `prometheus` is not on PATH, so the dashboard queries and alert rules were NOT run against a real Prometheus. ' +
      'Install it (Debian: apt-get install prometheus; .ci/run does this) to run tests/src/prometheus.test.ts. ***\n',
  );
}

/** Runs each expression at the current time (one query at a time: 2 shared cores). */
async function runAll(prom: PrometheusServer, exprs: readonly NamedExpr[]): Promise<Map<NamedExpr, Sample[]>> {
  const results = new Map<NamedExpr, Sample[]>();
  for (const e of exprs) results.set(e, await prom.query(e.expr));
  return results;
}

function empty(results: Map<NamedExpr, Sample[]>): string[] {
  return [...results].filter(([, samples]) => samples.length === 0).map(([e]) => `${e.where}: ${e.expr}`);
}

/**
 * What the shard row's queries show that a training run's embedded shard 0
 * would not. Its series exist from the coordinator's start, at 0, so
 * "returns data" alone would pass without a single commit reaching the
 * metrics: every series must be shard 0's and, but for the refused-commit
 * count (0 in a healthy run), above 0.
 */
function shardRowProblems(results: Map<NamedExpr, Sample[]>): string[] {
  const shardQueries = [...results].filter(([e]) => e.expr.includes('dtrain_shard_'));
  const problems = shardQueries.length === 0 ? ['no dashboard query reads dtrain_shard_*'] : [];
  for (const [e, samples] of shardQueries) {
    for (const s of samples) {
      if (s.metric['shard'] !== '0') problems.push(`${e.where}: a series not of shard 0: ${JSON.stringify(s.metric)}`);
      else if (!e.expr.includes('outcome="refused"') && !(Number(s.value) > 0)) problems.push(`${e.where}: ${s.value} for ${JSON.stringify(s.metric)}`);
    }
  }
  return problems;
}

describe.skipIf(!canRun)('dashboard and alert rules against a real Prometheus scraping a live run', () => {
  // Made in beforeAll: collecting a skipped suite must not leave a folder behind.
  let tmp: ReturnType<typeof tempDir> | undefined;
  const procs: Proc[] = [];
  let prom: PrometheusServer | undefined;
  let started = 0;

  let jobValues: string[] = [];
  let dashboardResults = new Map<NamedExpr, Sample[]>();
  let recordingResults = new Map<NamedExpr, Sample[]>();
  let alertBoolResults = new Map<NamedExpr, Sample[]>();
  let quietResults = new Map<NamedExpr, Sample[]>();
  let ruleStates: RuleState[] = [];
  let targetHealth: Record<string, string> = {};
  let infoSeries: Sample[] = [];

  async function stopAll(): Promise<void> {
    // Workers leave when their coordinator stops; SIGTERM each anyway, then SIGKILL what is left.
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.race([Promise.all(procs.map((p) => p.exited)), new Promise((r) => setTimeout(r, 8000))]);
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await prom?.stop();
  }

  beforeAll(async () => {
    started = Date.now();
    tmp = tempDir('prometheus');
    const dir = tmp.dir;
    try {
      const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
      const [coordinatorPort, promPort, ...workerPorts] = ports;
      if (coordinatorPort === undefined || promPort === undefined || new Set(ports).size !== ports.length) throw new Error(`no 4 distinct free ports: ${ports.join(', ')}`);
      const workers = workerPorts.map((p) => `127.0.0.1:${p}`);

      // Prometheus first, so it scrapes the run from its first second (targets are down until they listen).
      prom = await startPrometheus({
        dir: join(dir, 'prometheus'),
        port: promPort,
        config: testConfig(shippedConfig, { jobName: JOB, coordinator: `127.0.0.1:${coordinatorPort}`, workers }),
        files: { 'alerts.yml': rulesYaml },
      });

      // Far more epochs than the test waits for: it stops the run itself, while the series are live.
      const job = syntheticJob(JOB, { training: { epochs: 10_000, metrics: ['accuracy'] } });
      const config = writeJob(dir, job);
      const coordinator = dtrain(['coordinator', '--config', config, '--port', String(coordinatorPort), '--host', '127.0.0.1', '--out', join(dir, 'run')]);
      procs.push(coordinator);
      await waitFor('the coordinator to listen', () => fetch(`http://127.0.0.1:${coordinatorPort}/healthz`).then((r) => (r.ok ? true : undefined), () => undefined), 30_000);
      for (const port of workerPorts) {
        procs.push(
          dtrain(['worker', '--coordinator', `ws://127.0.0.1:${coordinatorPort}`, '--backend', 'wasm', '--metrics-port', String(port), '--metrics-host', '127.0.0.1', '--quiet']),
        );
      }

      const p = prom;
      // Several scrapes of a training run, then every query until all return data (rates need two samples
      // in their window, validation metrics an epoch end, the straggler rules both workers' histograms).
      await waitFor(
        'five scrapes of a training coordinator',
        async () => ((await p.query(`count_over_time(dtrain_steps_total{job="${JOB}"}[1m]) >= 5`)).length > 0 ? true : undefined),
        40_000,
      );
      await waitFor(
        'every dashboard query and rule to return data',
        async () => {
          jobValues = await p.labelValues('job', 'dtrain_info');
          const vars = { job: jobValues[0] ?? JOB };
          dashboardResults = await runAll(p, panels.map((e) => ({ where: e.where, expr: substituteVariables(e.expr, vars) })));
          recordingResults = await runAll(p, recordings);
          alertBoolResults = await runAll(p, alerts.map((a) => ({ where: a.where, expr: comparisonsAsBool(a.expr) })));
          const done = [dashboardResults, recordingResults, alertBoolResults].every((r) => empty(r).length === 0) && shardRowProblems(dashboardResults).length === 0;
          return done ? true : undefined;
        },
        30_000,
      ).catch((error: unknown) => {
        // Out of time: the assertions below name what stayed empty. A PromQL error is a failure right here.
        if (!String(error).includes('timed out')) throw error;
      });
      quietResults = await runAll(p, alerts.filter((a) => QUIET.includes(a.name)));
      ruleStates = await p.rules();
      targetHealth = await p.targets();
      infoSeries = await p.query(`dtrain_info{job="${JOB}"}`);
    } catch (error) {
      await stopAll();
      throw error;
    }
  }, 120_000);

  afterAll(async () => {
    await stopAll();
    tmp?.cleanup();
    console.info(
      `prometheus e2e: ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `${dashboardResults.size - empty(dashboardResults).length}/${panels.length} dashboard queries, ` +
        `${recordingResults.size - empty(recordingResults).length}/${recordings.length} recording rules, ` +
        `${alertBoolResults.size - empty(alertBoolResults).length}/${alerts.length} alert rules (bool form) returned data`,
    );
  }, 30_000);

  it('scrapes the coordinator and both workers', () => {
    const health = Object.values(targetHealth);
    expect(health, prom?.log()).toEqual(['up', 'up', 'up']);
  });

  it("lists the dtrain job in the dashboard's job variable, under the dtrain job's own name too", () => {
    expect(jobValues).toEqual([JOB]);
    // dtrain_info's own `job` label (the dtrain job's name) arrives as exported_job and agrees with the scrape job.
    expect(infoSeries.map((s) => s.metric['exported_job'])).toEqual([JOB]);
  });

  it('every dashboard query returns data', () => {
    expect(panels.length).toBeGreaterThan(20);
    expect(empty(dashboardResults), prom?.log()).toEqual([]);
  });

  it("shows the embedded shard 0 committing in every shard panel (bytes both ways, apply time, pushes), no other shard", () => {
    expect(panels.filter((e) => e.expr.includes('dtrain_shard_')).length).toBeGreaterThanOrEqual(4);
    expect(shardRowProblems(dashboardResults)).toEqual([]);
  });

  it('every recording rule returns data', () => {
    expect(recordings.length).toBeGreaterThan(0);
    expect(empty(recordingResults)).toEqual([]);
  });

  it('every alert rule, with its comparisons as bool, returns data', () => {
    expect(new Set(alerts.map((a) => a.name))).toEqual(new Set(['TrainingStalled', 'NoWorkers', 'LossNotFinite', 'StragglerWorker']));
    expect(empty(alertBoolResults)).toEqual([]);
  });

  it('Prometheus evaluates every rule without error', () => {
    expect(ruleStates).toHaveLength(rules.length);
    const bad = ruleStates.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`);
    expect(bad).toEqual([]);
  });

  it('keeps TrainingStalled, NoWorkers and LossNotFinite quiet while training is healthy', () => {
    expect(quietResults.size).toBe(QUIET.length);
    const firing = [...quietResults].filter(([, samples]) => samples.length > 0);
    expect(firing.map(([rule, samples]) => `${rule.where}: ${JSON.stringify(samples)}`)).toEqual([]);
  });
});
