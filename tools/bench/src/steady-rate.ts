/** One point of a run's step series (history.json's `steps`): `samples` in the steps since the previous point, `t` at its last step. */
export interface StepPoint {
  readonly step: number;
  /** Seconds since the job started. */
  readonly t: number;
  readonly samples: number;
}

/** Of a run's steps, the first fraction left out of steady figures. */
export const WARMUP = 0.2;

/** The first step of a run's steady part, for a run of `lastStep` steps. */
export function steadyFrom(lastStep: number, warmup = WARMUP): number {
  return warmup * lastStep;
}

/**
 * Samples per second over a run's step series once past its first
 * `warmup` fraction of steps (wasm compilation, the first reads or chunks
 * shipped, the workers joining): from the first point at or past that
 * step to the last. Undefined with fewer than two such points.
 */
export function steadyRate(points: readonly StepPoint[], warmup = WARMUP): number | undefined {
  const last = points.at(-1);
  if (last === undefined) return undefined;
  const from = points.findIndex((p) => p.step >= steadyFrom(last.step, warmup));
  const start = points[from];
  if (start === undefined || from === points.length - 1 || last.t <= start.t) return undefined;
  let samples = 0;
  for (let i = from + 1; i < points.length; i += 1) samples += (points[i] as StepPoint).samples;
  return samples / (last.t - start.t);
}
