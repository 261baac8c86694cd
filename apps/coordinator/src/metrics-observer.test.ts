import { describe, expect, it } from 'vitest';
import type { Batch } from '@dtrain/data';
import { CoordinatorMetrics, JOB_STATES, WORKER_STATES, createMetricsRegistry, renderMetrics } from '@dtrain/metrics';
import { JobState } from './job-state.js';
import { WorkerState } from './membership.js';
import { metricsObserver } from './metrics-observer.js';
import type { StepEvent } from './observer.js';

const batch = (batchId: number, n: number): Batch => ({ batchId, epoch: 1, sampleIds: new Uint32Array(n) });

function setup(): { observer: ReturnType<typeof metricsObserver>; value: (series: string) => Promise<number | undefined> } {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const observer = metricsObserver(new CoordinatorMetrics(registry, { job: 'unit', backend: 'cpu', version: '0.0.0' }));
  const value = async (series: string): Promise<number | undefined> => {
    const { body } = await renderMetrics(registry);
    const line = body.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  return { observer, value };
}

const event: StepEvent = {
  step: 41,
  epoch: 1,
  version: 42,
  sampleCount: 96,
  loss: 0.42,
  accuracy: 0.875,
  wallSeconds: 0.25,
  gradientBytes: 5480,
  weightBytes: 21728,
  end: 'complete',
  activeWorkers: 3,
  reports: [
    { workerId: 0, batch: batch(7, 64), accepted: true, sampleCount: 64, loss: 0.5, accuracy: undefined, dataSeconds: undefined, waitSeconds: 0, computeSeconds: 0.2 },
    { workerId: 2, batch: batch(8, 32), accepted: true, sampleCount: 64, loss: 0.5, accuracy: undefined, dataSeconds: undefined, waitSeconds: 0.03, computeSeconds: 0.22 },
    { workerId: 1, batch: batch(9, 64), accepted: false, sampleCount: 64, loss: 0.5, accuracy: undefined, dataSeconds: undefined, waitSeconds: 0.05, computeSeconds: 0.21 },
  ],
};

describe('metricsObserver', () => {
  it('maps a committed step to steps, samples, epoch, train loss, step time and per-worker series', async () => {
    const { observer, value } = setup();
    observer.stepCommitted?.(event);
    expect(await value('dtrain_steps_total')).toBe(1);
    expect(await value('dtrain_samples_total')).toBe(96);
    expect(await value('dtrain_epoch')).toBe(1);
    expect(await value('dtrain_loss{split="train"}')).toBe(0.42);
    expect(await value('dtrain_accuracy{split="train"}')).toBe(0.875);
    expect(await value('dtrain_data_plane_bytes_total{kind="gradients"}')).toBe(5480);
    expect(await value('dtrain_data_plane_bytes_total{kind="weights"}')).toBe(21728);
    expect(await value('dtrain_step_duration_seconds_sum')).toBe(0.25);
    expect(await value('dtrain_step_wait_seconds_sum{worker="2"}')).toBe(0.03);
    expect(await value('dtrain_worker_compute_seconds_count{worker="1"}')).toBe(1);
    expect(await value('dtrain_worker_samples_total{worker="0"}')).toBe(64);
    expect(await value('dtrain_worker_samples_total{worker="2"}')).toBe(32);
    expect(await value('dtrain_worker_samples_total{worker="1"}')).toBeUndefined();
  });

  it('maps epoch ends, rejections, worker states, traffic and checkpoints', async () => {
    const { observer, value } = setup();
    observer.epochFinished?.({ epoch: 2, loss: 0.5, accuracy: undefined, valLoss: 0.6, valAccuracy: 0.8, samples: 10, samplesPerSecond: 1, wallSeconds: 1, appliedMin: 1, appliedMax: 1 });
    observer.gradientRejected?.('stale', 3);
    observer.gradientRejected?.('malformed', undefined);
    observer.workerStates?.({ connecting: 1, joined: 2, training: 3, standby: 4, draining: 5, gone: 6 });
    observer.bytes?.('in', 100);
    observer.bytes?.('out', 300);
    observer.checkpointWritten?.(200, '/tmp/ckpt-200');
    observer.jobState?.(JobState.paused);
    expect(await value('dtrain_job_state{state="paused"}')).toBe(1);
    expect(await value('dtrain_job_state{state="waiting"}')).toBe(0);
    expect(await value('dtrain_epoch')).toBe(3);
    expect(await value('dtrain_loss{split="validation"}')).toBe(0.6);
    expect(await value('dtrain_accuracy{split="validation"}')).toBe(0.8);
    expect(await value('dtrain_gradients_rejected_total{reason="stale"}')).toBe(1);
    expect(await value('dtrain_gradients_rejected_total{reason="malformed"}')).toBe(1);
    expect(await value('dtrain_gradients_rejected_total{reason="duplicate"}')).toBe(0);
    expect(await Promise.all(WORKER_STATES.map((s) => value(`dtrain_workers{state="${s}"}`)))).toEqual([1, 2, 3, 4, 5]);
    expect(await value('dtrain_transfer_bytes_total{direction="in"}')).toBe(100);
    expect(await value('dtrain_transfer_bytes_total{direction="out"}')).toBe(300);
    expect(await value('dtrain_checkpoints_total')).toBe(1);
  });

  it("maps a shard's commits to its bytes, pushes, outcome and apply time", async () => {
    const { observer, value } = setup();
    expect(await value('dtrain_shard_commits_total{shard="0",outcome="refused"}')).toBe(0);
    observer.shardStep?.({ shard: 0, applySeconds: 0.003, bytesIn: 3000, bytesOut: 6000, pendingPushes: 3, committed: true });
    observer.shardStep?.({ shard: 0, applySeconds: 0.0001, bytesIn: 1000, bytesOut: 0, pendingPushes: 1, committed: false });
    expect(await value('dtrain_shard_bytes_total{shard="0",direction="in"}')).toBe(4000);
    expect(await value('dtrain_shard_bytes_total{shard="0",direction="out"}')).toBe(6000);
    expect(await value('dtrain_shard_pushes{shard="0"}')).toBe(1);
    expect(await value('dtrain_shard_commits_total{shard="0",outcome="committed"}')).toBe(1);
    expect(await value('dtrain_shard_commits_total{shard="0",outcome="refused"}')).toBe(1);
    expect(await value('dtrain_shard_apply_seconds_count{shard="0"}')).toBe(1);
    expect(await value('dtrain_shard_apply_seconds_sum{shard="0"}')).toBe(0.003);
  });

  it('leaves validation series absent without a validation split', async () => {
    const { observer, value } = setup();
    observer.epochFinished?.({ epoch: 0, loss: 0.5, accuracy: undefined, valLoss: undefined, valAccuracy: undefined, samples: 10, samplesPerSecond: 1, wallSeconds: 1, appliedMin: 1, appliedMax: 1 });
    expect(await value('dtrain_loss{split="validation"}')).toBeUndefined();
    expect(await value('dtrain_accuracy{split="validation"}')).toBeUndefined();
  });

  it('has a dtrain_job_state label for every job state', () => {
    expect([...JOB_STATES].sort()).toEqual(Object.values(JobState).sort());
  });

  it('exports every lifecycle state a connected worker can be in', () => {
    const connected = Object.values(WorkerState).filter((s) => s !== WorkerState.gone);
    expect([...connected].sort()).toEqual([...WORKER_STATES].sort());
  });
});
