import { describe, expect, it } from 'vitest';
import { register as globalRegistry } from 'prom-client';
import { CoordinatorMetrics, JOB_STATES, REJECT_REASONS, WORKER_STATES, type CommittedStep } from './coordinator-metrics.js';
import { createMetricsRegistry, renderMetrics } from './registry.js';
import { parseExposition, valueOf, type Sample } from './testing/exposition.js';

const info = { job: 'mnist-mlp', backend: 'wasm', version: '0.1.0' };

function setup(nowMs = 1_700_000_000_000): { metrics: CoordinatorMetrics; scrape: () => Promise<Sample[]>; clock: { now: number } } {
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const clock = { now: nowMs };
  const metrics = new CoordinatorMetrics(registry, info, { now: () => clock.now });
  return { metrics, clock, scrape: async () => parseExposition((await renderMetrics(registry)).body) };
}

const step = (overrides: Partial<CommittedStep> = {}): CommittedStep => ({
  epoch: 2,
  sampleCount: 192,
  loss: 0.75,
  wallSeconds: 0.03,
  workers: [
    { workerId: 0, samples: 64, accepted: true, waitSeconds: 0, computeSeconds: 0.012 },
    { workerId: 1, samples: 64, accepted: true, waitSeconds: 0.004, computeSeconds: 0.015 },
    { workerId: 2, samples: 64, accepted: true, waitSeconds: 0.7, computeSeconds: 0.4 },
    { workerId: 3, samples: 64, accepted: false, waitSeconds: 0.8, computeSeconds: 0.5 },
  ],
  ...overrides,
});

describe('CoordinatorMetrics', () => {
  it('counts data-plane bytes by kind per committed step, and says the wire formats', async () => {
    const { metrics, scrape } = setup();
    let s = await scrape();
    expect(valueOf(s, 'dtrain_data_plane_bytes_total', { kind: 'gradients' })).toBe(0);
    expect(valueOf(s, 'dtrain_wire_info', { gradients: 'float32', weights: 'float32' })).toBe(1);
    metrics.setWire('bfloat16', 'float32');
    metrics.stepCommitted(step({ gradientBytes: 5480, weightBytes: 21728 }));
    metrics.stepCommitted(step({ gradientBytes: 5480, weightBytes: 21728 }));
    s = await scrape();
    expect(valueOf(s, 'dtrain_data_plane_bytes_total', { kind: 'gradients' })).toBe(10960);
    expect(valueOf(s, 'dtrain_data_plane_bytes_total', { kind: 'weights' })).toBe(43456);
    expect(valueOf(s, 'dtrain_wire_info', { gradients: 'bfloat16', weights: 'float32' })).toBe(1);
    expect(valueOf(s, 'dtrain_wire_info', { gradients: 'float32', weights: 'float32' })).toBeUndefined();
  });

  it('exports the local steps per round: 1 (synchronous) until told, then the job’s H', async () => {
    const { metrics, scrape } = setup();
    expect(valueOf(await scrape(), 'dtrain_local_steps')).toBe(1);
    metrics.setLocalSteps(16);
    expect(valueOf(await scrape(), 'dtrain_local_steps')).toBe(16);
    // A committed round leaves it alone: it is the job's setting, not a counter.
    metrics.stepCommitted(step());
    expect(valueOf(await scrape(), 'dtrain_local_steps')).toBe(16);
  });

  it('exports every bounded label value from the start, and no loss or accuracy before there is one', async () => {
    const { scrape } = setup();
    const s = await scrape();
    for (const state of WORKER_STATES) expect(valueOf(s, 'dtrain_workers', { state })).toBe(0);
    for (const reason of REJECT_REASONS) expect(valueOf(s, 'dtrain_gradients_rejected_total', { reason })).toBe(0);
    expect(valueOf(s, 'dtrain_transfer_bytes_total', { direction: 'in' })).toBe(0);
    expect(valueOf(s, 'dtrain_transfer_bytes_total', { direction: 'out' })).toBe(0);
    expect(valueOf(s, 'dtrain_info', info)).toBe(1);
    expect(valueOf(s, 'dtrain_last_step_timestamp_seconds')).toBe(1_700_000_000);
    expect(valueOf(s, 'dtrain_steps_total')).toBe(0);
    expect(s.filter((x) => x.name === 'dtrain_loss' || x.name === 'dtrain_accuracy')).toEqual([]);
  });

  it('stepCommitted moves steps, samples, epoch, train loss, step time and the last-step time', async () => {
    const { metrics, scrape, clock } = setup();
    clock.now += 5_500;
    metrics.stepCommitted(step());
    metrics.stepCommitted(step({ loss: 0.5, wallSeconds: 2.5, epoch: 3 }));
    const s = await scrape();
    expect(valueOf(s, 'dtrain_steps_total')).toBe(2);
    expect(valueOf(s, 'dtrain_samples_total')).toBe(384);
    expect(valueOf(s, 'dtrain_epoch')).toBe(3);
    expect(valueOf(s, 'dtrain_loss', { split: 'train' })).toBe(0.5);
    expect(valueOf(s, 'dtrain_accuracy', { split: 'train' })).toBeUndefined();
    expect(valueOf(s, 'dtrain_step_duration_seconds_count')).toBe(2);
    expect(valueOf(s, 'dtrain_step_duration_seconds_sum')).toBeCloseTo(2.53, 10);
    expect(valueOf(s, 'dtrain_step_duration_seconds_bucket', { le: '0.05' })).toBe(1);
    expect(valueOf(s, 'dtrain_step_duration_seconds_bucket', { le: '5' })).toBe(2);
    expect(valueOf(s, 'dtrain_last_step_timestamp_seconds')).toBe(1_700_000_005.5);
  });

  it('stepCommitted records wait and compute per worker, and samples only of applied gradients', async () => {
    const { metrics, scrape } = setup();
    metrics.stepCommitted(step());
    const s = await scrape();
    expect(valueOf(s, 'dtrain_step_wait_seconds_count', { worker: '2' })).toBe(1);
    expect(valueOf(s, 'dtrain_step_wait_seconds_sum', { worker: '2' })).toBe(0.7);
    expect(valueOf(s, 'dtrain_step_wait_seconds_bucket', { worker: '2', le: '0.5' })).toBe(0);
    expect(valueOf(s, 'dtrain_step_wait_seconds_bucket', { worker: '2', le: '1' })).toBe(1);
    expect(valueOf(s, 'dtrain_step_wait_seconds_bucket', { worker: '0', le: '0.001' })).toBe(1);
    expect(valueOf(s, 'dtrain_worker_compute_seconds_sum', { worker: '1' })).toBe(0.015);
    expect(valueOf(s, 'dtrain_worker_compute_seconds_count', { worker: '3' })).toBe(1);
    expect(valueOf(s, 'dtrain_worker_samples_total', { worker: '0' })).toBe(64);
    expect(valueOf(s, 'dtrain_worker_samples_total', { worker: '3' })).toBeUndefined();
  });

  it('ignores missing, negative and non-finite times a worker reported, and keeps a non-finite loss', async () => {
    const { metrics, scrape } = setup();
    metrics.stepCommitted(
      step({
        loss: Number.NaN,
        wallSeconds: Number.NaN,
        workers: [
          { workerId: 5, samples: 8, accepted: true, computeSeconds: -1, waitSeconds: Number.POSITIVE_INFINITY },
          { workerId: 6, samples: 8, accepted: true },
        ],
      }),
    );
    const s = await scrape();
    expect(valueOf(s, 'dtrain_loss', { split: 'train' })).toBeNaN();
    expect(valueOf(s, 'dtrain_step_duration_seconds_count')).toBe(0);
    expect(s.filter((x) => x.name.startsWith('dtrain_step_wait_seconds') || x.name.startsWith('dtrain_worker_compute_seconds'))).toEqual([]);
    expect(valueOf(s, 'dtrain_worker_samples_total', { worker: '5' })).toBe(8);
  });

  it('exports training accuracy only when the step carries one', async () => {
    const { metrics, scrape } = setup();
    metrics.stepCommitted(step({ accuracy: 0.875 }));
    expect(valueOf(await scrape(), 'dtrain_accuracy', { split: 'train' })).toBe(0.875);
  });

  it('epochFinished sets completed epochs and validation loss and accuracy, when there are any', async () => {
    const { metrics, scrape } = setup();
    metrics.epochFinished({ epoch: 0 });
    let s = await scrape();
    expect(valueOf(s, 'dtrain_epoch')).toBe(1);
    expect(valueOf(s, 'dtrain_loss', { split: 'validation' })).toBeUndefined();
    metrics.epochFinished({ epoch: 1, validationLoss: 0.31, validationAccuracy: 0.91 });
    s = await scrape();
    expect(valueOf(s, 'dtrain_epoch')).toBe(2);
    expect(valueOf(s, 'dtrain_loss', { split: 'validation' })).toBe(0.31);
    expect(valueOf(s, 'dtrain_accuracy', { split: 'validation' })).toBe(0.91);
  });

  it('counts rejections by reason, bytes by direction and checkpoints', async () => {
    const { metrics, scrape } = setup();
    metrics.gradientRejected('stale');
    metrics.gradientRejected('stale');
    metrics.gradientRejected('non-finite');
    metrics.transferred('in', 1000);
    metrics.transferred('out', 250);
    metrics.transferred('out', 4096);
    metrics.transferred('out', 0);
    metrics.checkpointWritten();
    const s = await scrape();
    expect(REJECT_REASONS.map((reason) => valueOf(s, 'dtrain_gradients_rejected_total', { reason }))).toEqual([2, 0, 1, 0]);
    expect(valueOf(s, 'dtrain_transfer_bytes_total', { direction: 'in' })).toBe(1000);
    expect(valueOf(s, 'dtrain_transfer_bytes_total', { direction: 'out' })).toBe(4346);
    expect(valueOf(s, 'dtrain_checkpoints_total')).toBe(1);
  });

  it('workerStates sets every state, 0 for the ones not given, and ignores others', async () => {
    const { metrics, scrape } = setup();
    metrics.workerStates({ joined: 3, training: 2, draining: 1 });
    metrics.workerStates({ joined: 1, training: 4, gone: 7 } as Record<string, number>);
    const s = await scrape();
    expect(WORKER_STATES.map((state) => valueOf(s, 'dtrain_workers', { state }))).toEqual([0, 1, 4, 0, 0]);
    expect(valueOf(s, 'dtrain_workers', { state: 'gone' })).toBeUndefined();
  });

  it('reads worker states at scrape time once given a source', async () => {
    const { metrics, scrape } = setup();
    const counts = { joined: 2, training: 0 };
    metrics.workerStates({ joined: 1 });
    metrics.readWorkerStatesFrom(() => counts);
    const states = async (): Promise<(number | undefined)[]> => {
      const s = await scrape();
      return WORKER_STATES.map((state) => valueOf(s, 'dtrain_workers', { state }));
    };
    expect(await states()).toEqual([0, 2, 0, 0, 0]);
    Object.assign(counts, { joined: 0, training: 2 });
    expect(await states()).toEqual([0, 0, 2, 0, 0]);
  });

  it('exports the job state as one 1 among zeros, starting at waiting, ignoring unknown states', async () => {
    const { metrics, scrape } = setup();
    const current = async (): Promise<string[]> => {
      const s = await scrape();
      return JOB_STATES.filter((state) => valueOf(s, 'dtrain_job_state', { state }) === 1);
    };
    expect(await current()).toEqual(['waiting']);
    expect((await scrape()).filter((x) => x.name === 'dtrain_job_state')).toHaveLength(JOB_STATES.length);
    metrics.jobState('running');
    expect(await current()).toEqual(['running']);
    metrics.jobState('done');
    metrics.jobState('exploded');
    expect(await current()).toEqual(['done']);
  });

  it("exports the embedded shard 0's series from the start, and records its commits", async () => {
    const { metrics, scrape } = setup();
    let s = await scrape();
    expect(valueOf(s, 'dtrain_shard_commits_total', { shard: '0', outcome: 'refused' })).toBe(0);
    expect(valueOf(s, 'dtrain_shard_bytes_total', { shard: '0', direction: 'out' })).toBe(0);
    metrics.shardStep({ shard: 0, applySeconds: 0.002, bytesIn: 400, bytesOut: 800, pendingPushes: 2, committed: true });
    s = await scrape();
    expect(valueOf(s, 'dtrain_shard_commits_total', { shard: '0', outcome: 'committed' })).toBe(1);
    expect(valueOf(s, 'dtrain_shard_bytes_total', { shard: '0', direction: 'in' })).toBe(400);
    expect(valueOf(s, 'dtrain_shard_pushes', { shard: '0' })).toBe(2);
    expect(valueOf(s, 'dtrain_shard_apply_seconds_sum', { shard: '0' })).toBe(0.002);
  });

  it('exports no shard series before a step when it embeds no shard', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    new CoordinatorMetrics(registry, info, { shards: [] });
    const s = parseExposition((await renderMetrics(registry)).body);
    expect(s.filter((x) => x.name.startsWith('dtrain_shard_'))).toEqual([]);
  });

  it('setInfo replaces the info series rather than adding one', async () => {
    const { metrics, scrape } = setup();
    metrics.setInfo({ backend: 'tensorflow' });
    const s = await scrape();
    expect(s.filter((x) => x.name === 'dtrain_info')).toEqual([{ name: 'dtrain_info', labels: { ...info, backend: 'tensorflow' }, value: 1 }]);
  });

  it('keeps per-worker series bounded by the worker ids in use, however many steps and reconnects', async () => {
    const { metrics, scrape } = setup();
    for (let i = 0; i < 500; i += 1) {
      const ids = [0, 1, 2, 3, 4, 5, 6, 7].filter(() => Math.random() < 0.7);
      metrics.stepCommitted(step({ workers: ids.map((workerId) => ({ workerId, samples: 1, accepted: true, waitSeconds: Math.random(), computeSeconds: Math.random() })) }));
    }
    const s = await scrape();
    const workers = new Set(s.filter((x) => x.name.startsWith('dtrain_step_wait_seconds')).map((x) => x.labels.worker));
    expect(workers.size).toBeLessThanOrEqual(8);
    expect(s.filter((x) => x.name === 'dtrain_worker_compute_seconds_count').length).toBeLessThanOrEqual(8);
  });

  it('registers on the injected registry only, so two coordinators in one process do not clash', async () => {
    const a = setup();
    const b = setup();
    a.metrics.stepCommitted(step());
    expect(valueOf(await a.scrape(), 'dtrain_steps_total')).toBe(1);
    expect(valueOf(await b.scrape(), 'dtrain_steps_total')).toBe(0);
    expect(globalRegistry.getSingleMetric('dtrain_steps_total')).toBeUndefined();
  });
});

describe('a diverging step', () => {
  it('reports the training loss as NaN until a step commits again', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = new CoordinatorMetrics(registry, { job: 'unit', backend: 'cpu', version: '0.0.0' });
    const trainLoss = async (): Promise<number | undefined> =>
      (await registry.getSingleMetric('dtrain_loss')?.get())?.values.find((v) => v.labels['split'] === 'train')?.value;
    metrics.stepCommitted({ epoch: 0, sampleCount: 64, loss: 0.5, wallSeconds: 0.01, workers: [] });
    expect(await trainLoss()).toBe(0.5);
    metrics.trainLossNotFinite();
    expect(await trainLoss()).toBeNaN();
    metrics.stepCommitted({ epoch: 0, sampleCount: 64, loss: 0.4, wallSeconds: 0.01, workers: [] });
    expect(await trainLoss()).toBe(0.4);
  });
});
