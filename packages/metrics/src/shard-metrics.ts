import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { FAST_SECONDS_BUCKETS } from './buckets.js';

/** Every metric a parameter-server shard defines (the coordinator's embedded shard and, later, shard processes). */
export const SHARD_METRIC_NAMES = ['dtrain_shard_bytes_total', 'dtrain_shard_apply_seconds', 'dtrain_shard_pushes', 'dtrain_shard_commits_total'] as const;

/** How a shard's commit ended: `dtrain_shard_commits_total{outcome}`. */
export const COMMIT_OUTCOMES = ['committed', 'refused'] as const;
export type CommitOutcome = (typeof COMMIT_OUTCOMES)[number];

/** What one shard did in one commit (the coordinator's ShardStepEvent is this type). */
export interface ShardStep {
  /** Shard index, 0-based (the `shard` label). Not a non-negative integer: the step is ignored. */
  readonly shard: number;
  /** Seconds from the commit decision to the last weight chunk sent; observed for committed steps only. */
  readonly applySeconds: number;
  /** Gradient bytes the shard summed in this step. */
  readonly bytesIn: number;
  /** Weight bytes it sent (chunk frames × recipients). */
  readonly bytesOut: number;
  /** Pushes the commit drained (its queue depth when the commit began). */
  readonly pendingPushes: number;
  /** False when the shard refused the commit (nothing applied). */
  readonly committed: boolean;
}

export interface ShardMetricsOptions {
  /**
   * Shards whose series exist from the start (every counter at 0), so the
   * dashboard's queries return 0 rather than nothing before the first
   * commit and a refused-commit count is there before the first refusal.
   * Other shards get their series at their first step. Default: none.
   */
  readonly shards?: readonly number[];
}

/** The label objects of one shard, built once: a step does no string work. */
interface ShardLabels {
  readonly shard: { readonly shard: string };
  readonly in: { readonly shard: string; readonly direction: 'in' };
  readonly out: { readonly shard: string; readonly direction: 'out' };
  readonly committed: { readonly shard: string; readonly outcome: CommitOutcome };
  readonly refused: { readonly shard: string; readonly outcome: CommitOutcome };
}

/**
 * Parameter-server shard metrics on the injected registry. Every series has
 * a `shard` label, so K shards (each serving its own /metrics with these
 * names, or embedded in the coordinator) add up with `sum` and separate with
 * `by (shard)`; there are as many series as shards.
 */
export class ShardMetrics {
  readonly #bytes: Counter<'shard' | 'direction'>;
  readonly #apply: Histogram<'shard'>;
  readonly #pushes: Gauge<'shard'>;
  readonly #commits: Counter<'shard' | 'outcome'>;
  readonly #labels = new Map<number, ShardLabels>();

  /** @param registry where every metric is registered (never prom-client's global one) */
  constructor(registry: Registry, options: ShardMetricsOptions = {}) {
    const registers = [registry];
    this.#bytes = new Counter({
      name: 'dtrain_shard_bytes_total',
      help: 'Bytes through a parameter-server shard: gradient bytes summed (in), weight bytes sent to workers (out).',
      labelNames: ['shard', 'direction'],
      registers,
    });
    this.#apply = new Histogram({
      name: 'dtrain_shard_apply_seconds',
      help: 'Seconds a shard took to apply a committed step: mean of the gradients, optimizer, sending the new weights.',
      labelNames: ['shard'],
      buckets: [...FAST_SECONDS_BUCKETS],
      registers,
    });
    this.#pushes = new Gauge({
      name: 'dtrain_shard_pushes',
      help: "Gradient pushes in the shard's last commit (the queue depth it drained).",
      labelNames: ['shard'],
      registers,
    });
    this.#commits = new Counter({
      name: 'dtrain_shard_commits_total',
      help: 'Commits a shard finished, by outcome: committed (applied) or refused (nothing applied, batches requeued).',
      labelNames: ['shard', 'outcome'],
      registers,
    });
    for (const shard of options.shards ?? []) this.#labelsOf(shard);
  }

  /** One commit of one shard: bytes both ways, the pushes it drained, its outcome, and its apply time if it committed. */
  shardStep(step: ShardStep): void {
    const labels = this.#labelsOf(step.shard);
    if (labels === undefined) return;
    if (step.bytesIn > 0) this.#bytes.inc(labels.in, step.bytesIn);
    if (step.bytesOut > 0) this.#bytes.inc(labels.out, step.bytesOut);
    this.#pushes.set(labels.shard, step.pendingPushes);
    this.#commits.inc(step.committed ? labels.committed : labels.refused);
    // A refusal's time measures the refusal, not an update: it would drag the apply quantiles down.
    if (step.committed && Number.isFinite(step.applySeconds) && step.applySeconds >= 0) this.#apply.observe(labels.shard, step.applySeconds);
  }

  /** The shard's label objects, creating its series at 0 the first time; undefined for an index that is not a shard's. */
  #labelsOf(shard: number): ShardLabels | undefined {
    let labels = this.#labels.get(shard);
    if (labels !== undefined) return labels;
    if (!Number.isSafeInteger(shard) || shard < 0) return undefined;
    const s = String(shard);
    labels = {
      shard: { shard: s },
      in: { shard: s, direction: 'in' },
      out: { shard: s, direction: 'out' },
      committed: { shard: s, outcome: 'committed' },
      refused: { shard: s, outcome: 'refused' },
    };
    this.#labels.set(shard, labels);
    this.#bytes.inc(labels.in, 0);
    this.#bytes.inc(labels.out, 0);
    this.#apply.zero(labels.shard);
    this.#pushes.set(labels.shard, 0);
    this.#commits.inc(labels.committed, 0);
    this.#commits.inc(labels.refused, 0);
    return labels;
  }
}
