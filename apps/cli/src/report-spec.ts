import type { TopLevelSpec } from 'vega-lite';
import type { ReportSeries } from './report-series.js';

/** Width of each panel's plotting area, px; the whole chart is about 160 px wider (axes, legend). */
const PANEL_WIDTH = 960;
const PANEL_HEIGHT = 200;

/**
 * Names of the chart layers. Vega names each layer's marks `<name>_marks` and
 * puts that into the SVG's class attribute, which is how tests (and anyone
 * post-processing the SVG) find one series.
 */
export const LAYER = {
  trainLoss: 'train_loss',
  valLoss: 'val_loss',
  valLossPoints: 'val_loss_points',
  trainAccuracy: 'train_accuracy',
  valAccuracy: 'val_accuracy',
  valAccuracyPoints: 'val_accuracy_points',
  throughput: 'epoch_throughput',
  compute: 'step_compute',
  wait: 'step_wait',
  sync: 'step_sync',
  membership: 'membership',
} as const;

type Layer = Record<string, unknown>;

/** Where to cut the time axis: 1.25 × the 99th percentile of step times, when the longest step is more than twice that. */
function yCut(totals: readonly number[]): { at: number; max: number } | undefined {
  if (totals.length < 20) return undefined;
  const sorted = [...totals].sort((a, b) => a - b);
  const p99 = sorted[Math.floor(0.99 * (sorted.length - 1))] ?? 0;
  const max = sorted.at(-1) ?? 0;
  return p99 > 0 && max > 2 * p99 ? { at: 1.25 * p99, max } : undefined;
}

const COMPUTE = 'compute (slowest worker)';
const TRAIN = 'training';
const VALIDATION = 'validation (per epoch)';
const BOTH = [TRAIN, VALIDATION];

/** The report's four panels as one vega-lite spec: loss, accuracy, samples/s per epoch, and time per step. */
export function reportSpec(s: ReportSeries, title: string): TopLevelSpec {
  const xTitle = s.xAxis === 'step' ? 'step' : 'epochs completed';
  // One x range for the loss, accuracy and time panels, so that they line up even where one has no points.
  const xs = [...s.trainLoss, ...s.valLoss, ...s.valAccuracy].map((p) => p.x).concat(s.stepTime.map((t) => t.step));
  const scale = xs.length === 0 ? {} : { scale: { domain: [Math.min(...xs), Math.max(...xs)], nice: false, zero: false } };
  // Epoch ends are whole numbers: no 1.5 ticks.
  const x = { field: 'x', type: 'quantitative', title: xTitle, ...scale, axis: s.xAxis === 'epoch' ? { tickMinStep: 1, format: 'd' } : { format: 'd', tickCount: 12 } } as const;
  // Fixed colours: training blue, validation orange, whichever series a panel has.
  // The legend lists a scale's whole domain: only the series a panel draws.
  const seriesScale = (names: readonly string[]): object => ({ domain: names, range: names.map((n) => (n === TRAIN ? '#4c78a8' : '#f58518')) });
  const line = (name: string, values: readonly object[], series: string, names: readonly string[], dash = false): Layer => ({
    name,
    data: { values },
    mark: { type: 'line', interpolate: 'linear', ...(dash ? { strokeDash: [6, 3] } : {}) },
    encoding: { x, y: { field: 'y', type: 'quantitative' }, color: { datum: series, scale: seriesScale(names) } },
  });
  const points = (name: string, values: readonly object[], series: string, names: readonly string[]): Layer => ({
    name,
    data: { values },
    mark: { type: 'point', filled: true, size: 50 },
    encoding: { x, y: { field: 'y', type: 'quantitative' }, color: { datum: series, scale: seriesScale(names) } },
  });
  const panel = (panelTitle: string, yTitle: string, layers: Layer[]): Layer => ({
    title: panelTitle,
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    layer: layers,
    encoding: { y: { title: yTitle } },
  });
  const stepOnly = s.xAxis === 'epoch' ? ' (per-step history needs history.json)' : '';

  const loss = panel('Loss', 'loss', [
    line(LAYER.trainLoss, s.trainLoss, TRAIN, BOTH),
    line(LAYER.valLoss, s.valLoss, VALIDATION, BOTH, true),
    points(LAYER.valLossPoints, s.valLoss, VALIDATION, BOTH),
  ]);
  // Workers that report no training accuracy leave an empty series: no legend entry for it.
  const names = s.trainAccuracy.length > 0 ? BOTH : [VALIDATION];
  const accuracyLayers = [line(LAYER.valAccuracy, s.valAccuracy, VALIDATION, names, true), points(LAYER.valAccuracyPoints, s.valAccuracy, VALIDATION, names)];
  if (s.trainAccuracy.length > 0) accuracyLayers.unshift(line(LAYER.trainAccuracy, s.trainAccuracy, TRAIN, names));
  const accuracy = panel(s.trainAccuracy.length + s.valAccuracy.length === 0 ? 'Accuracy (none recorded)' : 'Accuracy', 'accuracy', accuracyLayers);
  const throughput = {
    title: 'Samples per second, per epoch',
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    name: LAYER.throughput,
    data: { values: s.epochs.map((e) => ({ epoch: e.epoch, samplesPerSecond: e.samplesPerSecond })) },
    mark: { type: 'bar', color: '#4c78a8' },
    encoding: {
      x: { field: 'epoch', type: 'ordinal', title: 'epoch', axis: { labelAngle: 0 } },
      y: { field: 'samplesPerSecond', type: 'quantitative', title: 'samples/s' },
    },
  };
  // Stacked by hand (y..y2 per band) so that each band is its own named layer.
  // One colour scale for the time bands and the membership rules, so the legend is one list.
  const timeColor = {
    scale: { domain: [COMPUTE, 'wait', 'sync', 'joined', 'left', 'evicted'], range: ['#4c78a8', '#f58518', '#b7b7b7', '#2ca02c', '#7f7f7f', '#d62728'] },
    legend: { title: null },
  };
  const band = (name: string, part: string, lo: (t: ReportSeries['stepTime'][number]) => number, hi: (t: ReportSeries['stepTime'][number]) => number): Layer => ({
    name,
    data: { values: s.stepTime.map((t) => ({ x: t.step, y: lo(t), y2: hi(t) })) },
    mark: { type: 'area', opacity: 0.85 },
    encoding: { x: { ...x, title: 'step', axis: { format: 'd', tickCount: 12 } }, y: { field: 'y', type: 'quantitative' }, y2: { field: 'y2' }, color: { datum: part, ...timeColor } },
  });
  const timeLayers: Layer[] = [
    band(LAYER.compute, COMPUTE, () => 0, (t) => t.compute),
    band(LAYER.wait, 'wait', (t) => t.compute, (t) => t.compute + t.wait),
    band(LAYER.sync, 'sync', (t) => t.compute + t.wait, (t) => t.compute + t.wait + t.sync),
  ];
  if (s.membership.length > 0) {
    timeLayers.push({
      name: LAYER.membership,
      data: { values: s.membership },
      mark: { type: 'rule', strokeDash: [4, 2], strokeWidth: 1.5 },
      encoding: { x: { field: 'x', type: 'quantitative' }, color: { field: 'kind', type: 'nominal', ...timeColor }, tooltip: { field: 'label' } },
    });
  }
  const cut = yCut(s.stepTime.map((t) => t.compute + t.wait + t.sync));
  const time = panel(`Time per step: compute, wait, sync${stepOnly}${cut === undefined ? '' : ` (axis cut at ${cut.at.toFixed(2)} s; longest step ${cut.max.toFixed(2)} s)`}`, 'seconds', timeLayers);
  if (cut !== undefined) {
    // The first step (data and weights shipped) or a rollback can take 100× a usual step; cut the axis so the rest stays readable.
    time.encoding = { y: { title: 'seconds', scale: { domain: [0, cut.at] } } };
    for (const l of timeLayers) l.mark = { ...(l.mark as object), clip: true };
  }

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, anchor: 'start', fontSize: 16 },
    background: 'white',
    padding: 16,
    config: { font: 'DejaVu Sans, Arial, sans-serif', legend: { orient: 'right', labelLimit: 260 } },
    resolve: { scale: { color: 'independent' } },
    vconcat: [loss, accuracy, throughput, time],
    spacing: 36,
  } as TopLevelSpec;
}
