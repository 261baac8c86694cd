/**
 * `pnpm --filter @dtrain/dashboard generate`: writes the dashboard JSON that
 * Grafana imports (infra/grafana/dashboards/dtrain.json). Commit the result;
 * a test fails while the committed file differs from what this writes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { DASHBOARD_PATH, renderDashboardJson } from './dashboard-file.js';

mkdirSync(dirname(DASHBOARD_PATH), { recursive: true });
writeFileSync(DASHBOARD_PATH, renderDashboardJson());
process.stdout.write(`wrote ${relative(process.cwd(), DASHBOARD_PATH)}\n`);
