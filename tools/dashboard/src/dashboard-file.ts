import { fileURLToPath } from 'node:url';
import { buildDtrainDashboard } from './dtrain-dashboard.js';

/**
 * Where the generated dashboard lives and how it is serialised. The same
 * path works from `src/` (tests) and `dist/` (the `generate` script): both
 * sit one folder below the project.
 */
export const DASHBOARD_PATH = fileURLToPath(new URL('../../../infra/grafana/dashboards/dtrain.json', import.meta.url));

/** The command that rewrites the committed JSON; named in the staleness test's message. */
export const GENERATE_COMMAND = 'pnpm --filter @dtrain/dashboard generate';

/**
 * The dashboard as committed: 2-space JSON with a final newline, so a
 * regenerated file diffs cleanly and the staleness test compares strings.
 */
export function renderDashboardJson(): string {
  return `${JSON.stringify(buildDtrainDashboard(), null, 2)}\n`;
}
