import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueTextMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  StackingConfigBuilder,
  StackingMode,
  TooltipDisplayMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import { ThresholdsConfigBuilder, ThresholdsMode, type DataSourceRef } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

/**
 * Panels and queries with dtrain's shared defaults, so the dashboard module
 * reads as a list of "what to show" and every panel gets the same datasource
 * variable, legend, tooltip and stable ids.
 */

/**
 * Every panel and query uses the `${datasource}` variable rather than a fixed
 * uid, so the JSON imports into any Grafana whatever its Prometheus is called.
 */
export const DATASOURCE: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** One PromQL query of a panel. */
export interface Query {
  readonly expr: string;
  /** Grafana legend template (`{{worker}}`); default: the series' labels. */
  readonly legend?: string;
}

/** Fields every panel has. */
export interface PanelSpec {
  /** Panel id, unique in the dashboard (stable links: `viewPanel=ID`). */
  readonly id: number;
  readonly title: string;
  /** Shown as the panel's (i) tooltip: what the numbers mean and where they come from. */
  readonly description: string;
  readonly queries: readonly Query[];
  /** Grafana unit id (`s`, `Bps`, `percentunit`, `short`, …). Default `short`. */
  readonly unit?: string;
  /** Width in grid columns (of 24). */
  readonly width: number;
  /** Height in grid rows (about 30 px each). */
  readonly height: number;
  /** Colour steps: green below the first value, then each `[value, color]`. */
  readonly thresholds?: readonly (readonly [number, string])[];
}

/** A time series panel. */
export interface TimeseriesSpec extends PanelSpec {
  /** Stack the series (parts of a whole, e.g. workers by state). Default false. */
  readonly stacked?: boolean;
  /** Lower bound of the y axis; default: fitted to the data. */
  readonly min?: number;
  /** Label of the y axis. */
  readonly axisLabel?: string;
}

/** A single-value panel. */
export interface StatSpec extends PanelSpec {
  /**
   * What to show: the value, the series name (from the legend; for info
   * metrics whose value is always 1), or both. Default `value`.
   */
  readonly text?: 'value' | 'name' | 'value_and_name';
  /** Text shown when the query returns nothing. */
  readonly noValue?: string;
}

/** Query refIds A, B, C, … in the order given (stable JSON, readable in Grafana). */
function targets(queries: readonly Query[]): DataqueryBuilder[] {
  return queries.map((q, i) => {
    const target = new DataqueryBuilder().datasource(DATASOURCE).refId(String.fromCharCode(65 + i)).expr(q.expr);
    return q.legend === undefined ? target : target.legendFormat(q.legend);
  });
}

function thresholds(steps: PanelSpec['thresholds']): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder()
    .mode(ThresholdsMode.Absolute)
    .steps([{ value: null, color: 'green' }, ...(steps ?? []).map(([value, color]) => ({ value, color }))]);
}

/** A time series panel with a table legend (last, max) and a shared tooltip. */
export function timeseriesPanel(spec: TimeseriesSpec): TimeseriesPanelBuilder {
  let panel = new TimeseriesPanelBuilder()
    .id(spec.id)
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .targets(targets(spec.queries))
    .unit(spec.unit ?? 'short')
    .span(spec.width)
    .height(spec.height)
    .thresholds(thresholds(spec.thresholds))
    .fillOpacity(spec.stacked === true ? 40 : 10)
    .lineWidth(1)
    .spanNulls(false)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.Table)
        .placement(LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'max']),
    )
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending));
  if (spec.stacked === true) panel = panel.stacking(new StackingConfigBuilder().mode(StackingMode.Normal));
  if (spec.min !== undefined) panel = panel.min(spec.min);
  if (spec.axisLabel !== undefined) panel = panel.axisLabel(spec.axisLabel);
  return panel;
}

const TEXT_MODES = {
  value: BigValueTextMode.Value,
  name: BigValueTextMode.Name,
  value_and_name: BigValueTextMode.ValueAndName,
} as const satisfies Record<NonNullable<StatSpec['text']>, BigValueTextMode>;

/** A single-value panel showing the last value (or the series name, for info metrics). */
export function statPanel(spec: StatSpec): StatPanelBuilder {
  const text = spec.text ?? 'value';
  let panel = new StatPanelBuilder()
    .id(spec.id)
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .targets(targets(spec.queries))
    .unit(spec.unit ?? 'short')
    .span(spec.width)
    .height(spec.height)
    .thresholds(thresholds(spec.thresholds))
    .graphMode(text === 'value' ? BigValueGraphMode.Area : BigValueGraphMode.None)
    .colorMode(spec.thresholds === undefined ? BigValueColorMode.None : BigValueColorMode.Value)
    .textMode(TEXT_MODES[text])
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  if (spec.noValue !== undefined) panel = panel.noValue(spec.noValue);
  return panel;
}
