import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { statsToJSON, type NormalisationStats } from '@dtrain/data';
import { writeCheckpoint, writeTfjsModel } from '@dtrain/parameter-server';
import type { JobConfig } from './config/index.js';
import { serverOptimizer } from './config/index.js';
import type { ModelHost } from './model-host.js';
import type { EpochRecord } from './observer.js';
import type { RunPosition } from './training-run.js';
import type { TimingSummary } from './step-timings.js';
import type { ShardSetState } from './shard-set.js';
import type { RunHistoryJson } from './run-history.js';

/** `summary.json`: what a finished (or failed) job reports. */
export interface JobSummary {
  readonly name: string;
  /** 'stopped': interrupted by a signal after a checkpoint; resumable. */
  readonly state: 'done' | 'failed' | 'stopped';
  readonly failure?: string;
  /** Epochs completed. */
  readonly epochs: number;
  readonly steps: number;
  readonly samples: number;
  readonly wallSeconds: number;
  readonly samplesPerSecond: number;
  /** Most workers active at once. */
  readonly workers: number;
  /** tfjs backend(s) the workers computed with. */
  readonly backend: string;
  readonly version: number;
  readonly final: {
    readonly loss: number | null;
    /** Training accuracy over the last epoch; null when the job reports none (regression, training.metrics without accuracy). */
    readonly accuracy: number | null;
    readonly valLoss: number | null;
    readonly valAccuracy: number | null;
    /** On `dataset.test`, when the job has test data. */
    readonly testLoss?: number;
    readonly testAccuracy?: number | null;
  };
  readonly history: readonly EpochRecord[];
  readonly rejected: Readonly<Record<string, number>>;
  /** Batches and samples skipped, not applied, because their step diverged (training.nonFinite.action: skip). */
  readonly skipped: { readonly batches: number; readonly samples: number };
  readonly timing: TimingSummary;
  /**
   * What the data plane carried: the element formats (cluster.wire,
   * cluster.wireWeights) and the payload bytes of the committed steps since
   * this coordinator started (a resumed run counts from its restart):
   * gradients the shards summed and weights they sent to the workers.
   */
  readonly dataPlane: {
    readonly wire: string;
    readonly wireWeights: string;
    readonly gradientBytes: number;
    readonly weightBytes: number;
    /** (gradientBytes + weightBytes) / the samples of those steps; null before the first. */
    readonly bytesPerSample: number | null;
    /** training.localSteps: batches per worker per exchange (1 = synchronous; with more, a step of `timing` is a round). */
    readonly localSteps: number;
    /** With local SGD: the outer optimizer the parameter server ran and what became of the inner state between rounds; null for synchronous jobs. */
    readonly localSgd: { readonly outerOptimizer: unknown; readonly innerState: 'keep' | 'reset'; readonly meanRoundSeconds: number } | null;
  };
}

/** The sidecar next to model.json that inference needs: how inputs were normalised and shaped. */
export interface ModelSidecar {
  readonly name: string;
  readonly loss: string;
  readonly featureShape: readonly number[];
  readonly normalisation: unknown;
}

export interface SummaryInput {
  readonly config: JobConfig;
  readonly state: JobSummary['state'];
  readonly failure: string | undefined;
  readonly host: ModelHost;
  readonly weights: Float32Array;
  readonly stats: NormalisationStats;
  readonly featureShape: readonly number[];
  readonly run: {
    readonly step: number;
    readonly samples: number;
    readonly lastLoss: number | undefined;
    readonly history: readonly EpochRecord[];
    readonly skipped: { readonly batches: number; readonly samples: number };
    readonly dataPlane: { readonly gradientBytes: number; readonly weightBytes: number; readonly samples: number };
  };
  readonly version: number;
  readonly wallSeconds: number;
  readonly peakWorkers: number;
  readonly backend: string;
  readonly rejected: Readonly<Record<string, number>>;
  readonly timing: TimingSummary;
  readonly test: { readonly loss: number; readonly accuracy: number | undefined } | undefined;
}

/** Writes `DIR/model/` (tfjs format + sidecar) when training completed, and `DIR/summary.json` always. */
export async function writeJobOutput(outDir: string, s: SummaryInput, opts: { modelToo?: boolean } = {}): Promise<JobSummary> {
  await mkdir(outDir, { recursive: true });
  if (opts.modelToo ?? true) {
    const modelDir = join(outDir, 'model');
    await writeTfjsModel(modelDir, { topology: s.host.topology, layout: s.host.layout.entries, weights: s.weights });
    const sidecar: ModelSidecar = {
      name: s.config.name,
      loss: s.config.training.loss,
      featureShape: s.featureShape,
      normalisation: statsToJSON(s.stats),
    };
    await writeJsonAtomic(join(modelDir, 'dtrain.json'), sidecar);
  }
  const last = s.run.history.at(-1);
  const summary: JobSummary = {
    name: s.config.name,
    state: s.state,
    ...(s.failure === undefined ? {} : { failure: s.failure }),
    epochs: s.run.history.length,
    steps: s.run.step,
    samples: s.run.samples,
    wallSeconds: s.wallSeconds,
    samplesPerSecond: s.wallSeconds > 0 ? s.run.samples / s.wallSeconds : 0,
    workers: s.peakWorkers,
    backend: s.backend,
    version: s.version,
    final: {
      loss: last?.loss ?? s.run.lastLoss ?? null,
      accuracy: last?.accuracy ?? null,
      valLoss: last?.valLoss ?? null,
      valAccuracy: last?.valAccuracy ?? null,
      ...(s.test === undefined ? {} : { testLoss: s.test.loss, testAccuracy: s.test.accuracy ?? null }),
    },
    history: s.run.history,
    rejected: s.rejected,
    skipped: s.run.skipped,
    timing: s.timing,
    dataPlane: {
      wire: s.config.cluster.wire,
      wireWeights: s.config.cluster.wireWeights,
      gradientBytes: s.run.dataPlane.gradientBytes,
      weightBytes: s.run.dataPlane.weightBytes,
      bytesPerSample: s.run.dataPlane.samples > 0 ? (s.run.dataPlane.gradientBytes + s.run.dataPlane.weightBytes) / s.run.dataPlane.samples : null,
      localSteps: s.config.training.localSteps,
      localSgd:
        s.config.training.localSteps > 1
          ? { outerOptimizer: s.config.training.outerOptimizer, innerState: s.config.training.innerState, meanRoundSeconds: s.timing.meanStepSeconds }
          : null,
    },
  };
  await writeJsonAtomic(join(outDir, 'summary.json'), summary);
  return summary;
}

/** Writes `DIR/history.json`: the run's step series, epochs and events (what the live page showed). */
export async function writeHistoryFile(outDir: string, history: RunHistoryJson): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeJsonAtomic(join(outDir, 'history.json'), history);
}

/** One checkpoint: weights, optimizer state and the run position (epoch, step, data cursor). Returns its folder. */
export async function writeJobCheckpoint(
  root: string,
  c: { host: ModelHost; state: ShardSetState; config: JobConfig; position: RunPosition; keep: number; owned?: boolean },
): Promise<string> {
  return writeCheckpoint(
    root,
    {
      topology: c.host.topology,
      layout: c.host.layout.entries,
      weights: c.state.weights,
      version: c.state.version,
      optimizer: { config: serverOptimizer(c.config.training), state: c.state.optimizerState },
      training: {
        epoch: c.position.epoch,
        step: c.position.step,
        seed: c.config.training.seed,
        cursor: c.position.cursor ?? null,
        samples: c.position.samples,
        history: c.position.history,
        job: c.config.name,
      },
    },
    { keep: c.keep, owned: c.owned === true },
  );
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, path);
}
