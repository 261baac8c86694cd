import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DASHBOARD_PATH, GENERATE_COMMAND, renderDashboardJson } from './dashboard-file.js';
import { dashboardExpressions, metricNames } from './dashboard-queries.js';
import { buildDtrainDashboard } from './dtrain-dashboard.js';

interface Panel {
  id?: number;
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: { refId?: string; expr?: string; datasource?: { uid?: string } }[];
}

const dashboard = JSON.parse(renderDashboardJson()) as { uid: string; panels: Panel[]; templating: { list: Record<string, unknown>[] } };
const panels = dashboard.panels.filter((p) => p.type !== 'row');
const expressions = dashboardExpressions(dashboard).filter((e) => !e.where.startsWith('variable'));

describe('the committed dashboard JSON', () => {
  it('is what the generator writes today', () => {
    const committed = readFileSync(DASHBOARD_PATH, 'utf8');
    // One assertion with a message that says how to fix it, rather than a 1,500-line diff first.
    expect(committed === renderDashboardJson(), `infra/grafana/dashboards/dtrain.json is stale: run \`${GENERATE_COMMAND}\` and commit the result`).toBe(true);
  });
});

describe('dtrain dashboard', () => {
  it('selects one job with a `job` variable over dtrain_info, from a datasource variable', () => {
    const [datasource, job] = dashboard.templating.list;
    expect(datasource).toMatchObject({ type: 'datasource', name: 'datasource', query: 'prometheus' });
    expect(job).toMatchObject({ type: 'query', name: 'job', query: 'label_values(dtrain_info, job)', datasource: { uid: '${datasource}' } });
  });

  it('scopes every metric selector of every query to the selected job', () => {
    expect(expressions.length).toBeGreaterThan(20);
    for (const { where, expr } of expressions) {
      const selectors = [...expr.matchAll(/(?<![\w:])((?:dtrain|process)_\w+)(\{[^}]*\})?/g)];
      expect(selectors.length, `${where}: no metric in ${expr}`).toBeGreaterThan(0);
      for (const [whole, , matchers] of selectors) {
        expect(matchers ?? '', `${where}: ${whole} is not limited to job="$job"`).toContain('job="$job"');
      }
    }
  });

  it('uses the datasource variable on every panel and query, so it imports into any Grafana', () => {
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe('${datasource}');
    }
  });

  it('gives panels unique ids and queries unique refIds', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => typeof id === 'number' && id > 0)).toBe(true);
    for (const panel of panels) {
      const refIds = (panel.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
      expect(refIds.every((r) => r !== undefined), panel.title).toBe(true);
    }
  });

  it('lays panels out on the 24-column grid without overlaps', () => {
    const cells = new Set<string>();
    for (const panel of dashboard.panels) {
      const g = panel.gridPos;
      expect(g, panel.title).toBeDefined();
      if (g === undefined) continue;
      expect(g.x + g.w, panel.title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${panel.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('has the panels the issue asks for', () => {
    const exprOf = (title: string): string => {
      const panel = panels.find((p) => p.title === title);
      expect(panel, `panel "${title}"`).toBeDefined();
      return (panel?.targets ?? []).map((t) => t.expr ?? '').join('\n');
    };
    expect(exprOf('Loss')).toContain('dtrain_loss{');
    expect(exprOf('Accuracy')).toContain('dtrain_accuracy{');
    expect(exprOf('Throughput')).toContain('rate(dtrain_samples_total{job="$job"}[1m])');
    expect(exprOf('Throughput')).toMatch(/sum by \(worker\) \(rate\(dtrain_worker_samples_total\{[^}]*\}\[1m\]\)\)/);
    for (const q of ['0.5', '0.95', '0.99']) {
      expect(exprOf('Step (round) time')).toContain(`histogram_quantile(${q}, sum by (le) (rate(dtrain_step_duration_seconds_bucket{job="$job"}[1m])))`);
    }
    expect(exprOf('Straggler wait (p95)')).toContain('histogram_quantile(0.95, sum by (worker, le) (rate(dtrain_step_wait_seconds_bucket');
    expect(exprOf('Worker compute time (p95)')).toContain('sum by (worker, le) (rate(dtrain_worker_compute_seconds_bucket');
    expect(exprOf('Workers by state')).toContain('sum by (state) (dtrain_workers{');
    expect(exprOf('Transfer')).toContain('sum by (direction) (rate(dtrain_transfer_bytes_total{');
    expect(exprOf('Rejected gradients')).toContain('sum by (reason) (');
    expect(exprOf('Shard transfer')).toContain('sum by (shard, direction) (rate(dtrain_shard_bytes_total{job="$job"}[1m]))');
    for (const q of ['0.5', '0.95']) {
      expect(exprOf('Shard apply time')).toContain(`histogram_quantile(${q}, sum by (shard, le) (rate(dtrain_shard_apply_seconds_bucket{job="$job"}[1m])))`);
    }
    expect(exprOf('Pushes per commit')).toContain('max by (shard) (dtrain_shard_pushes{job="$job"})');
    expect(exprOf('Refused commits')).toContain('sum by (shard) (increase(dtrain_shard_commits_total{job="$job", outcome="refused"}[1m]))');
    expect(exprOf('Seconds since last step')).toContain('time() - max(dtrain_last_step_timestamp_seconds{');
    expect(exprOf('Epochs done')).toContain('dtrain_epoch{');
    expect(exprOf('Local steps')).toBe('max(dtrain_local_steps{job="$job"})');
  });

  it('builds the same model every time (no ids or times that drift)', () => {
    expect(JSON.stringify(buildDtrainDashboard())).toBe(JSON.stringify(buildDtrainDashboard()));
  });

  it('reads only dtrain and process metrics', () => {
    const names = new Set(expressions.flatMap((e) => metricNames(e.expr)));
    expect([...names].filter((n) => !/^(dtrain|process)_/.test(n))).toEqual([]);
  });
});
