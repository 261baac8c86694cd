import { describe, expect, it } from 'vitest';
import { RunHistory, mergePoints, type HistoryPoint, type HistoryUpdate } from './run-history.js';
import type { StepEvent } from './observer.js';

function stepEvent(step: number, sampleCount: number, loss = 1 / step): StepEvent {
  return {
    step,
    epoch: 0,
    version: step,
    sampleCount,
    loss,
    accuracy: undefined,
    wallSeconds: 0.1,
    gradientBytes: 0,
    weightBytes: 0,
    end: 'complete',
    reports: [
      { workerId: 1, batch: {} as never, accepted: true, sampleCount, loss, accuracy: undefined, dataSeconds: undefined, waitSeconds: 0.01, computeSeconds: 0.04 },
      { workerId: 2, batch: {} as never, accepted: true, sampleCount, loss, accuracy: undefined, dataSeconds: undefined, waitSeconds: 0.03, computeSeconds: 0.06 },
    ],
    activeWorkers: 2,
  };
}

describe('RunHistory', () => {
  it('records one point per step with the slowest compute, longest wait and sync time', () => {
    const h = new RunHistory({ job: 'j', startedAt: 1000, now: () => 3000 });
    h.stepCommitted(stepEvent(1, 64, 0.5));
    const json = h.toJSON();
    expect(json).toMatchObject({ version: 1, job: 'j', startedAt: new Date(1000).toISOString(), stride: 1, maxPoints: 2000 });
    expect(json.steps).toHaveLength(1);
    const p = json.steps[0] as HistoryPoint;
    expect(p).toMatchObject({ step: 1, epoch: 0, t: 2, loss: 0.5, accuracy: null, samples: 64, computeSeconds: 0.06, waitSeconds: 0.03, workers: 2 });
    expect(p.samplesPerSecond).toBeCloseTo(640);
    expect(p.syncSeconds).toBeCloseTo(0.04);
  });

  it("carries the step's training accuracy, and merges it sample-weighted", () => {
    const h = new RunHistory({ job: 'j', maxPoints: 2 });
    h.stepCommitted({ ...stepEvent(1, 100), accuracy: 0.5 });
    h.stepCommitted({ ...stepEvent(2, 300), accuracy: 0.9 });
    h.stepCommitted({ ...stepEvent(3, 10), accuracy: undefined });
    // maxPoints 2: the first two merged (stride 2), the third is the unfinished stride.
    const [merged, last] = h.toJSON().steps as [HistoryPoint, HistoryPoint];
    expect(merged.accuracy).toBeCloseTo(0.8);
    expect(last.accuracy).toBeNull();
  });

  it('keeps at most maxPoints, sums samples exactly and doubles the stride as it merges', () => {
    const maxPoints = 2 + Math.floor(Math.random() * 50);
    const steps = 1 + Math.floor(Math.random() * 5000);
    const h = new RunHistory({ job: 'j', maxPoints });
    let total = 0;
    let previousStride = 1;
    for (let s = 1; s <= steps; s += 1) {
      const n = 1 + Math.floor(Math.random() * 256);
      total += n;
      h.stepCommitted(stepEvent(s, n));
      const json = h.toJSON();
      expect(json.steps.length).toBeLessThanOrEqual(maxPoints);
      expect([previousStride, previousStride * 2]).toContain(json.stride);
      previousStride = json.stride;
    }
    const json = h.toJSON();
    expect(json.steps.reduce((sum, p) => sum + p.samples, 0)).toBe(total);
    expect(json.steps.at(-1)?.step).toBe(steps);
    // Even coverage: every stored point but the last covers exactly `stride` steps.
    const spans = json.steps.map((p, i) => p.step - (i === 0 ? 0 : (json.steps[i - 1] as HistoryPoint).step));
    for (const span of spans.slice(0, -1)) expect(span).toBe(json.stride);
    // A stride holds maxPoints - 1 whole points and the unfinished one: it doubles at maxPoints × stride steps.
    expect(json.stride, `maxPoints ${maxPoints}, steps ${steps}`).toBe(2 ** Math.max(0, Math.ceil(Math.log2((steps + 1) / maxPoints))));
  });

  it('merges a pair with sample-weighted means and the later step', () => {
    const a: HistoryPoint = { step: 1, epoch: 0, t: 1, loss: 1, accuracy: null, samples: 100, samplesPerSecond: 100, computeSeconds: 1, waitSeconds: 0, syncSeconds: 0, workers: 1 };
    const b: HistoryPoint = { step: 2, epoch: 1, t: 3, loss: 4, accuracy: 0.5, samples: 300, samplesPerSecond: 100, computeSeconds: 2, waitSeconds: 1, syncSeconds: 1, workers: 2 };
    expect(mergePoints(a, b)).toEqual({ step: 2, epoch: 1, t: 3, loss: 3.25, accuracy: 0.5, samples: 400, samplesPerSecond: 100, computeSeconds: 1.75, waitSeconds: 0.75, syncSeconds: 0.75, workers: 2 });
  });

  it('keeps the newest maxEvents events and pushes every update to subscribers', () => {
    const h = new RunHistory({ job: 'j', maxEvents: 500 });
    const seen: HistoryUpdate[] = [];
    const off = h.subscribe((u) => seen.push(u));
    for (let i = 0; i < 1234; i += 1) h.workerEvent(i % 2 === 0 ? 'joined' : 'left', i, `w${i}`);
    const events = h.toJSON().events;
    expect(events).toHaveLength(500);
    expect(events[0]).toMatchObject({ kind: 'joined', workerId: 734, detail: 'w734' });
    expect(events.at(-1)).toMatchObject({ kind: 'left', workerId: 1233 });
    expect(seen).toHaveLength(1234);
    off();
    h.checkpointWritten(5, '/c/ckpt-5');
    expect(seen).toHaveLength(1234);
    expect(h.toJSON().events.at(-1)).toMatchObject({ kind: 'checkpoint', detail: 'step 5: /c/ckpt-5' });
    expect(h.toJSON().events.at(-1)).not.toHaveProperty('workerId');
  });

  it('records epochs with nulls for missing validation', () => {
    const h = new RunHistory({ job: 'j' });
    h.epochFinished({ epoch: 0, loss: 0.7, accuracy: undefined, valLoss: undefined, valAccuracy: undefined, samples: 10, samplesPerSecond: 5, wallSeconds: 2, appliedMin: 1, appliedMax: 1 });
    expect(h.toJSON().epochs).toEqual([{ epoch: 0, loss: 0.7, accuracy: null, valLoss: null, valAccuracy: null, samples: 10, samplesPerSecond: 5, wallSeconds: 2 }]);
  });
});
