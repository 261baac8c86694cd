export { buildDtrainDashboard, DASHBOARD_UID } from './dtrain-dashboard.js';
export { DASHBOARD_PATH, GENERATE_COMMAND, renderDashboardJson } from './dashboard-file.js';
export { dashboardExpressions, metricNames, substituteVariables, type DashboardExpression } from './dashboard-queries.js';
export { JOB_MATCHER, RATE_WINDOW } from './promql.js';
