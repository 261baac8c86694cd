import { parse } from 'yaml';

/**
 * The PromQL of the committed monitoring files, as the end-to-end test runs
 * it: the dashboard's panel queries (from the JSON users import, with its
 * variables substituted) and the alert rules' expressions.
 */

/** One expression and where it came from (for failure messages). */
export interface NamedExpr {
  readonly where: string;
  readonly expr: string;
}

/** One rule of infra/prometheus/alerts.yml. */
export interface RuleExpr extends NamedExpr {
  readonly kind: 'record' | 'alert';
  /** The recorded series or the alert's name (StragglerWorker has two rules). */
  readonly name: string;
}

interface PanelJson {
  readonly title?: string;
  readonly targets?: readonly { readonly refId?: string; readonly expr?: string }[];
  readonly panels?: readonly PanelJson[];
}

/** Every panel query of a Grafana dashboard JSON, also inside collapsed rows. */
export function dashboardExpressions(dashboard: { readonly panels?: readonly PanelJson[] }): NamedExpr[] {
  const out: NamedExpr[] = [];
  const visit = (panels: readonly PanelJson[] | undefined): void => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? []) {
        if (typeof target.expr === 'string' && target.expr !== '') out.push({ where: `panel "${panel.title ?? '?'}" ${target.refId ?? '?'}`, expr: target.expr });
      }
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  return out;
}

/** Replaces Grafana's `$name` / `${name}`; a variable without a value throws (never query a literal `$job`). */
export function substituteVariables(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const value = values[braced ?? bare ?? ''];
    if (value === undefined) throw new Error(`no value for ${whole} in ${expr}`);
    return value;
  });
}

/** The rules of a Prometheus rule file's text, in file order. */
export function ruleExpressions(rulesYaml: string): RuleExpr[] {
  const doc = parse(rulesYaml) as { groups?: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[] };
  return (doc.groups ?? []).flatMap((group) =>
    group.rules.map((rule, i): RuleExpr => {
      const kind = rule.alert === undefined ? 'record' : 'alert';
      const name = rule.alert ?? rule.record ?? '?';
      return { kind, name, where: `${group.name}[${i}] ${kind} ${name}`, expr: rule.expr.trim() };
    }),
  );
}

const COMPARISONS = ['==', '!=', '>=', '<=', '>', '<'] as const;

/**
 * The expression with every comparison turned into a `bool` comparison
 * (`x > 300` → `x > bool 300`). A filtering comparison drops the series
 * that don't pass, so a healthy system makes an alert's expression empty
 * and "returns data" would prove nothing; the `bool` form keeps every series
 * the alert would look at, valued 0 or 1, so a non-empty result shows that
 * each selector, join and aggregation in the rule matches real series.
 * Label matchers (`{state!="x"}`), ranges and string literals are left alone.
 */
export function comparisonsAsBool(expr: string): string {
  let out = '';
  let braces = 0;
  let brackets = 0;
  let quote: string | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr.charAt(i);
    if (quote !== undefined) {
      out += c;
      if (c === '\\') out += expr.charAt(++i);
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '{') braces++;
    else if (c === '}') braces--;
    else if (c === '[') brackets++;
    else if (c === ']') brackets--;
    else if (braces === 0 && brackets === 0) {
      const op = COMPARISONS.find((o) => expr.startsWith(o, i));
      if (op !== undefined) {
        out += op;
        i += op.length - 1;
        const rest = expr.slice(i + 1);
        if (!/^\s*bool\b/.test(rest)) out += /^\s/.test(rest) ? ' bool' : ' bool ';
        continue;
      }
    }
    out += c;
  }
  return out;
}
