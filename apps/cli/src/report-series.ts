import type { HistoryEpoch, HistoryEvent, RunData } from './report-data.js';

/** One plotted point: `x` is a step (with history.json) or an epoch end (without). */
export interface XY {
  readonly x: number;
  readonly y: number;
}

/** One step's time split into stacked bands: compute at the bottom, then wait, then sync. */
export interface StepTime {
  readonly step: number;
  readonly compute: number;
  readonly wait: number;
  readonly sync: number;
}

/** A membership change drawn as a rule at the step it happened near. */
export interface MembershipMark {
  readonly x: number;
  readonly kind: HistoryEvent['kind'];
  readonly label: string;
}

/** Everything the report plots, already reduced to what each chart layer draws. */
export interface ReportSeries {
  /** 'step' with history.json; 'epoch' when only summary.json's per-epoch history exists. */
  readonly xAxis: 'step' | 'epoch';
  readonly trainLoss: readonly XY[];
  readonly trainAccuracy: readonly XY[];
  readonly valLoss: readonly XY[];
  readonly valAccuracy: readonly XY[];
  readonly epochs: readonly HistoryEpoch[];
  readonly stepTime: readonly StepTime[];
  readonly membership: readonly MembershipMark[];
}

const MEMBERSHIP: ReadonlySet<HistoryEvent['kind']> = new Set(['joined', 'left', 'evicted']);

/** Reduces a run's summary (and history, when present) to the plotted series; values that are not finite are left out. */
export function reportSeries(data: RunData): ReportSeries {
  const h = data.history;
  const epochs = h === undefined || h.epochs.length === 0 ? data.summary.history : h.epochs;
  if (h === undefined) {
    // Without per-step history an epoch is plotted at its end: epoch 0 ends at x = 1.
    const at = (e: HistoryEpoch): number => e.epoch + 1;
    return {
      xAxis: 'epoch',
      trainLoss: defined(epochs, at, (e) => e.loss),
      trainAccuracy: defined(epochs, at, (e) => e.accuracy),
      valLoss: defined(epochs, at, (e) => e.valLoss),
      valAccuracy: defined(epochs, at, (e) => e.valAccuracy),
      epochs,
      stepTime: [],
      membership: [],
    };
  }
  const steps = h.steps;
  const lastStepOf = new Map<number, number>();
  for (const p of steps) lastStepOf.set(p.epoch, Math.max(p.step, lastStepOf.get(p.epoch) ?? 0));
  const lastStep = steps.at(-1)?.step ?? 0;
  // An epoch without a step point (none should be) is placed proportionally.
  const at = (e: HistoryEpoch): number => lastStepOf.get(e.epoch) ?? Math.round(((e.epoch + 1) * lastStep) / Math.max(1, epochs.length));
  return {
    xAxis: 'step',
    trainLoss: defined(steps, (p) => p.step, (p) => p.loss),
    trainAccuracy: defined(steps, (p) => p.step, (p) => p.accuracy),
    valLoss: defined(epochs, at, (e) => e.valLoss),
    valAccuracy: defined(epochs, at, (e) => e.valAccuracy),
    epochs,
    stepTime: steps.map((p) => ({ step: p.step, compute: p.computeSeconds, wait: p.waitSeconds, sync: p.syncSeconds })),
    membership: h.events
      .filter((e) => MEMBERSHIP.has(e.kind))
      .map((e) => ({ x: stepAt(steps, e.t), kind: e.kind, label: e.workerId === undefined ? e.kind : `worker ${e.workerId} ${e.kind}` })),
  };
}

function defined<T>(items: readonly T[], x: (item: T) => number, y: (item: T) => number | null): XY[] {
  const out: XY[] = [];
  for (const item of items) {
    const v = y(item);
    if (v !== null && Number.isFinite(v)) out.push({ x: x(item), y: v });
  }
  return out;
}

/** The first step at or after `t` seconds (the last step if the event came after all of them). */
function stepAt(steps: readonly { readonly step: number; readonly t: number }[], t: number): number {
  for (const p of steps) if (p.t >= t) return p.step;
  return steps.at(-1)?.step ?? 0;
}
