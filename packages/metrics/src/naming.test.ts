import { describe, expect, it } from 'vitest';
import type { Registry } from 'prom-client';
import { JOB_STATES, COORDINATOR_METRIC_NAMES, CoordinatorMetrics, DATA_ERROR_REASONS, REJECT_REASONS, TRANSFER_DIRECTIONS, WORKER_STATES } from './coordinator-metrics.js';
import { createMetricsRegistry, renderMetrics } from './registry.js';
import { parseExposition } from './testing/exposition.js';
import { COMMIT_OUTCOMES, SHARD_METRIC_NAMES, ShardMetrics } from './shard-metrics.js';
import { WORKER_METRIC_NAMES, WorkerMetrics } from './worker-metrics.js';

/** A registry per process kind, with every update method exercised so every labelled series exists. */
function exercised(): { coordinator: Registry; worker: Registry; shard: Registry } {
  const coordinator = createMetricsRegistry({ defaultMetrics: false });
  const c = new CoordinatorMetrics(coordinator, { job: 'j', backend: 'wasm', version: '0.1.0' });
  for (let i = 0; i < 20; i += 1) {
    c.stepCommitted({
      epoch: i,
      sampleCount: 10,
      loss: 1,
      accuracy: 0.5,
      wallSeconds: 0.1,
      workers: [0, 1, 2].map((workerId) => ({ workerId, samples: 5, accepted: true, waitSeconds: 0.01, computeSeconds: 0.05 })),
    });
  }
  c.epochFinished({ epoch: 0, validationLoss: 1, validationAccuracy: 0.5 });
  c.gradientRejected('duplicate');
  c.workerStates({ joined: 1 });
  c.transferred('in', 1);
  c.checkpointWritten();
  c.shardStep({ shard: 0, applySeconds: 0.001, bytesIn: 10, bytesOut: 20, pendingPushes: 3, committed: true });
  const worker = createMetricsRegistry({ defaultMetrics: false });
  const w = new WorkerMetrics(worker, { backend: 'wasm', workerId: 0, job: 'j' });
  w.stepComputed({ computeSeconds: 0.1, dataSeconds: 0.01, samples: 5 });
  w.waited(0.1);
  w.tfjsMemory({ numTensors: 1, numBytes: 4 });
  // A shard process of its own (planned): the same metrics without the coordinator's.
  const shard = createMetricsRegistry({ defaultMetrics: false });
  new ShardMetrics(shard, { shards: [1] }).shardStep({ shard: 1, applySeconds: 0.001, bytesIn: 10, bytesOut: 20, pendingPushes: 3, committed: false });
  return { coordinator, worker, shard };
}

/** The values each label may take: a closed set, or a pattern for the small reused worker ids. */
const LABEL_VALUES: Record<string, readonly string[] | RegExp> = {
  split: ['train', 'validation'],
  // dtrain_workers{state} and dtrain_job_state{state}: both bounded lifecycle sets.
  state: [...WORKER_STATES, ...JOB_STATES],
  // dtrain_gradients_rejected_total{reason} and dtrain_data_errors_total{reason}.
  reason: [...REJECT_REASONS, ...DATA_ERROR_REASONS],
  direction: TRANSFER_DIRECTIONS,
  outcome: COMMIT_OUTCOMES,
  // dtrain_worker_sample_reads_total{result}.
  result: ['hit', 'miss'],
  kind: ['gradients', 'weights'],
  // dtrain_wire_info{gradients, weights}: cluster.wire's formats.
  gradients: ['float32', 'bfloat16', 'float16'],
  weights: ['float32', 'bfloat16', 'float16'],
  // Parameter-server shard indices: as many as shards.
  shard: /^\d{1,4}$/,
  worker: /^\d{1,4}$/,
  worker_id: /^\d{0,4}$/,
  le: /^(\d+(\.\d+)?|\+Inf)$/,
  // Info metrics: one series per process.
  job: /^.*$/,
  backend: /^.*$/,
  version: /^.*$/,
};

describe('metric names and labels', () => {
  const registries = exercised();
  const cases = [
    { kind: 'coordinator', registry: registries.coordinator, names: COORDINATOR_METRIC_NAMES as readonly string[] },
    { kind: 'worker', registry: registries.worker, names: WORKER_METRIC_NAMES as readonly string[] },
    { kind: 'shard', registry: registries.shard, names: SHARD_METRIC_NAMES as readonly string[] },
  ];

  for (const { kind, registry, names } of cases) {
    it(`${kind}: the exported name list is exactly what is registered`, async () => {
      const registered = (await registry.getMetricsAsJSON()).map((m) => m.name);
      expect([...registered].sort()).toEqual([...names].sort());
    });

    it(`${kind}: names follow Prometheus conventions (prefix, _total counters, base units)`, async () => {
      for (const m of await registry.getMetricsAsJSON()) {
        expect(m.name).toMatch(/^dtrain_[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
        expect(m.help.length, m.name).toBeGreaterThan(10);
        // Counters and only counters end in _total.
        expect(m.name.endsWith('_total'), m.name).toBe(String(m.type) === 'counter');
        // Histograms here measure durations, in seconds.
        if (String(m.type) === 'histogram') expect(m.name).toMatch(/_seconds$/);
        // Base units only: no ms, minutes, KB...
        expect(m.name).not.toMatch(/_(ms|millis|milliseconds|us|micros|minutes|hours|kb|mb|gb|kilobytes|megabytes|percent)(_|$)/);
        // What speaks of time is in seconds, what speaks of bytes in bytes.
        if (/\btime\b|waited|seconds/i.test(m.help)) expect(m.name).toMatch(/_seconds$/);
        if (/\bbytes\b/i.test(m.help)) expect(m.name).toMatch(/_bytes(_total)?$/);
        if (m.name.endsWith('_info')) expect(String(m.type)).toBe('gauge');
      }
    });

    it(`${kind}: every label takes values from a bounded set`, async () => {
      const samples = parseExposition((await renderMetrics(registry)).body);
      expect(samples.length).toBeGreaterThan(0);
      for (const sample of samples) {
        for (const [label, value] of Object.entries(sample.labels)) {
          const allowed = LABEL_VALUES[label];
          expect(allowed, `${sample.name}: unexpected label ${label}`).toBeDefined();
          if (allowed instanceof RegExp) expect(value, `${sample.name}{${label}}`).toMatch(allowed);
          else expect(allowed, `${sample.name}{${label}}`).toContain(value);
        }
        const isInfo = sample.name.endsWith('_info');
        if (isInfo) expect(sample.value).toBe(1);
        else for (const label of ['job', 'backend', 'version']) expect(sample.labels[label], `${sample.name}: ${label} belongs on the info metric`).toBeUndefined();
      }
    });
  }
});
