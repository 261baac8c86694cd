/**
 * Every PromQL expression a dashboard JSON contains (panel targets, also
 * inside collapsed rows, and query variables), with the dashboard's
 * variables substituted. The tests use it to check each expression against
 * the metric names and, end to end, against a real Prometheus.
 */

/** One expression and where it came from. */
export interface DashboardExpression {
  /** `panel title / refId`, or `variable NAME`. */
  readonly where: string;
  readonly expr: string;
}

interface PanelLike {
  readonly title?: string;
  readonly targets?: readonly { readonly refId?: string; readonly expr?: string }[];
  readonly panels?: readonly PanelLike[];
}

interface DashboardLike {
  readonly panels?: readonly PanelLike[];
  readonly templating?: { readonly list?: readonly { readonly name?: string; readonly type?: string; readonly query?: unknown }[] };
}

/** All expressions of `dashboard`, unsubstituted. */
export function dashboardExpressions(dashboard: unknown): DashboardExpression[] {
  const d = dashboard as DashboardLike;
  const out: DashboardExpression[] = [];
  const visit = (panels: readonly PanelLike[] | undefined): void => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? []) {
        if (typeof target.expr === 'string') out.push({ where: `${panel.title ?? '?'} / ${target.refId ?? '?'}`, expr: target.expr });
      }
      visit(panel.panels);
    }
  };
  visit(d.panels);
  for (const variable of d.templating?.list ?? []) {
    if (variable.type === 'query' && typeof variable.query === 'string') out.push({ where: `variable ${variable.name ?? '?'}`, expr: variable.query });
  }
  return out;
}

/**
 * Replaces `$name` and `${name}` by their values. Throws on a variable with
 * no value, so a query can't reach Prometheus with a literal `$job` in it.
 */
export function substituteVariables(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = values[name];
    if (value === undefined) throw new Error(`no value for dashboard variable ${whole} in ${expr}`);
    return value;
  });
}

/**
 * The metric names an expression reads (`dtrain_…` and `process_…`).
 * Recording-rule names (`level:metric:ops`) and quoted label values are
 * skipped; function names never start with those prefixes.
 */
export function metricNames(expr: string): string[] {
  const names = expr.match(/(?<![\w:"'])(?:dtrain|process)_[a-zA-Z0-9_]*(?![\w:])/g) ?? [];
  return [...new Set(names)].sort();
}
