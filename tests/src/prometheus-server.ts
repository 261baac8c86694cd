import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

/**
 * A real Prometheus (the `prometheus` binary, Debian's package here) for the
 * end-to-end monitoring test: on loopback, on a free port, with a temporary
 * config and TSDB, queried through its HTTP API, stopped by the test.
 */

/** Whether `prometheus` is on PATH. */
export function havePrometheus(): boolean {
  try {
    execFileSync('prometheus', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Where the scrape job finds dtrain. */
export interface ScrapeTargets {
  /** The scrape job's name; the dtrain job's name, as infra/prometheus/prometheus.yml recommends. */
  readonly jobName: string;
  /** `host:port` of the coordinator's /metrics. */
  readonly coordinator: string;
  /** `host:port` of each worker's /metrics. */
  readonly workers: readonly string[];
}

interface ScrapeConfig {
  job_name: string;
  static_configs?: { targets: string[]; labels?: Record<string, string> }[];
  [key: string]: unknown;
}

/**
 * The committed config (infra/prometheus/prometheus.yml) made fit for a
 * test: 1 s scrape and rule intervals, its one scrape job renamed and pointed
 * at these targets (its labels, metrics_path and everything else kept), no
 * Alertmanager. Testing the shipped config, not a look-alike, means a broken
 * relabelling or label there fails here.
 */
export function testConfig(shipped: Record<string, unknown>, targets: ScrapeTargets): Record<string, unknown> {
  const jobs = shipped['scrape_configs'] as ScrapeConfig[] | undefined;
  const job = jobs?.[0];
  if (job === undefined || jobs?.length !== 1) throw new Error('prometheus.yml: expected exactly one scrape job');
  const groups = job.static_configs ?? [];
  const withRole = (role: string, list: readonly string[]) => {
    const group = groups.find((g) => g.labels?.['role'] === role);
    if (group === undefined) throw new Error(`prometheus.yml: no static_configs group with role: ${role}`);
    return { ...group, targets: [...list] };
  };
  const { alerting: _alerting, ...rest } = shipped;
  return {
    ...rest,
    global: { ...(shipped['global'] as object | undefined), scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: [{ ...job, job_name: targets.jobName, static_configs: [withRole('coordinator', [targets.coordinator]), withRole('worker', targets.workers)] }],
  };
}

/** One series of an instant query's result. */
export interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  /** The value as Prometheus prints it (`"0.5"`, `"NaN"`, `"+Inf"`). */
  readonly value: string;
}

/** A rule's state from /api/v1/rules. */
export interface RuleState {
  readonly name: string;
  readonly type: 'recording' | 'alerting';
  readonly health: string;
  readonly lastError?: string;
  readonly lastEvaluation: string;
}

export interface PrometheusServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything it logged (stderr), for failure messages. */
  readonly log: () => string;
  /** An instant query at the current time; throws on a PromQL error. */
  query(expr: string): Promise<Sample[]>;
  /** Values of `label` on series matching `match` (what Grafana's label_values(match, label) lists). */
  labelValues(label: string, match: string): Promise<string[]>;
  rules(): Promise<RuleState[]>;
  /** Health of each active target (`up`, `down`, `unknown`) by scrape URL. */
  targets(): Promise<Record<string, string>>;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
}

async function api<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${url}: ${body.error ?? res.status}`);
  return body.data;
}

/**
 * Starts Prometheus with `config` (written to `dir`, next to `files` such as
 * the rule file it names) and its TSDB under `dir`, and waits until /-/ready.
 */
export async function startPrometheus(opts: { dir: string; port: number; config: Record<string, unknown>; files: Readonly<Record<string, string>> }): Promise<PrometheusServer> {
  mkdirSync(join(opts.dir, 'data'), { recursive: true });
  for (const [name, text] of Object.entries(opts.files)) writeFileSync(join(opts.dir, name), text);
  const configPath = join(opts.dir, 'prometheus.yml');
  writeFileSync(configPath, stringify(opts.config));
  const child = spawn(
    'prometheus',
    [`--config.file=${configPath}`, `--storage.tsdb.path=${join(opts.dir, 'data')}`, `--web.listen-address=127.0.0.1:${opts.port}`, '--log.level=warn'],
    { cwd: opts.dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (log += d));
  child.once('error', (error) => (log += `spawn: ${error.message}\n`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${opts.port}`;
  const server: PrometheusServer = {
    url,
    child,
    log: () => log,
    query: async (expr) => {
      const data = await api<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] | [number, string] }>(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      if (data.resultType === 'scalar' || data.resultType === 'string') {
        const [, value] = data.result as [number, string];
        return [{ metric: {}, value }];
      }
      return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ metric: r.metric, value: r.value[1] }));
    },
    labelValues: (label, match) => api<string[]>(`${url}/api/v1/label/${encodeURIComponent(label)}/values?match[]=${encodeURIComponent(match)}`),
    rules: async () => {
      const data = await api<{ groups: { rules: RuleState[] }[] }>(`${url}/api/v1/rules`);
      return data.groups.flatMap((g) => g.rules);
    },
    targets: async () => {
      const data = await api<{ activeTargets: { scrapeUrl: string; health: string }[] }>(`${url}/api/v1/targets?state=active`);
      return Object.fromEntries(data.activeTargets.map((t) => [t.scrapeUrl, t.health]));
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${log}`);
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) return server;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`prometheus not ready on ${url} after 20 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
