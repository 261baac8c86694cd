import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  Coordinator,
  CoordinatorServer,
  RunHistory,
  combineObservers,
  loadJobConfig,
  loadJobData,
  metricsObserver,
  stderrLogger,
  type CoordinatorObserver,
  type JobConfig,
  type JobData,
  type JobSummary,
  type Logger,
  type StatusReport,
} from '@dtrain/coordinator';
import { CoordinatorMetrics, createMetricsRegistry, renderMetrics } from '@dtrain/metrics';
import { dtrainVersion } from '../version.js';

/** A job ready to serve: its validated config and its data, split and normalised. */
export interface CoordinatorJob {
  readonly config: JobConfig;
  readonly data: JobData;
}

/** Options of {@link startCoordinator}. Give exactly one of `configPath` and `job`. */
export interface StartCoordinatorOptions {
  /** A job config file (YAML or JSON) to load, with its data, as `dtrain train --config` does. */
  readonly configPath?: string;
  /** A job built in code (the `fit` API): the config and the data, used as they are. */
  readonly job?: CoordinatorJob;
  /** Overrides the config's `cluster.psShards` (shard processes; 0 = one shard inside this process). Default: the config's. */
  readonly psShards?: number;
  /** Folder for `model/`, `summary.json`, `history.json` and (unless the config says otherwise) `checkpoints/`. Default `runs/<job name>` under the working directory. */
  readonly outDir?: string;
  /** TCP port to listen on; 0 picks a free one. Default 0. */
  readonly port?: number;
  /** Interface to bind. Default '127.0.0.1' (this machine only); '0.0.0.0' serves other machines. */
  readonly host?: string;
  /** tfjs backend of the coordinator's own model (evaluation): 'auto', 'tensorflow', 'wasm' or 'cpu'. Default 'auto'. */
  readonly backend?: string;
  /** Shared secret workers (and /status, /api) must present; undefined or '' accepts anyone who can connect. Default undefined. */
  readonly token?: string;
  /** PEM certificate and key: serve wss:// and https:// instead of ws:// and http://. Default: plain. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** JSON-lines file every applied batch is appended to (for `dtrain audit`). Default: none. */
  readonly ledgerPath?: string;
  /**
   * Continue from the newest checkpoint in the checkpoint folder; when false,
   * this job's old checkpoints there are deleted first (their count is in the
   * handle's `removedCheckpoints`). Default false.
   */
  readonly resume?: boolean;
  /** Where the coordinator's log lines go. Default: warnings and errors on stderr, info dropped. */
  readonly log?: Logger;
  /**
   * More observers of the run (progress display, callbacks), beside the
   * built-in metrics and history; a function is called once the job is
   * loaded (e.g. to size a progress bar from its epochs and samples).
   * Default: none.
   */
  readonly observer?: CoordinatorObserver | ((job: CoordinatorJob) => CoordinatorObserver);
  /**
   * Flat weights (the model's weight layout) a fresh job starts from instead
   * of the model's initialisers; ignored when resuming. Default: the model's own.
   */
  readonly initialWeights?: Float32Array;
  /**
   * Keep serving /status, /metrics and "job finished" answers after the job
   * ends, until `close()` is called; otherwise the server closes by itself
   * (about 200 ms after the end, so the shutdown frames reach the workers)
   * before `done` resolves. Default false.
   */
  readonly keepServing?: boolean;
}

/** Why a job was stopped from outside, for its exit code. */
export type StopReason = 'SIGTERM' | 'SIGINT' | 'stop';

/** A running coordinator. */
export interface CoordinatorHandle {
  /** Where workers connect: `ws://host:port` (or `wss://`). */
  readonly url: string;
  /** The TCP port it listens on (the free one it got for port 0). */
  readonly port: number;
  /** The job as served. */
  readonly job: CoordinatorJob;
  /** Old checkpoints deleted before the start (`resume: false`); 0 otherwise. */
  readonly removedCheckpoints: number;
  /** The checkpoint folder. */
  readonly checkpointDir: string;
  /** The output folder (absolute). */
  readonly outDir: string;
  /** The same report as GET /status. */
  status(): StatusReport;
  /**
   * Stops at the next step boundary (as SIGTERM does in the CLI): a checkpoint
   * is written and `done` resolves with state 'stopped'. `reason` only picks
   * the exit code (SIGINT 130, else 143).
   */
  stop(reason?: StopReason): void;
  /**
   * Resolves once the job ended (and, without `keepServing`, the server
   * closed): its summary, and 0 when done, 143/130 when stopped, 1 when it
   * failed. Never rejects for a job failure.
   */
  readonly done: Promise<{ summary: JobSummary; exitCode: number }>;
  /** The parameter server's final flat weights (the model's layout); throws before `done` resolved or when they could not be read. */
  weights(): Float32Array;
  /** Closes the server (after the 200 ms the shutdown frames need); idempotent. */
  close(): Promise<void>;
}

/** Let the shutdown frames reach the workers before the sockets go. */
const SHUTDOWN_GRACE_MS = 200;

/**
 * Starts a coordinator: loads the job (or takes one built in code), builds
 * its metrics, history and observers, creates the Coordinator, listens, and
 * runs the job; the CLI's `dtrain train` / `dtrain coordinator` and `fit` all
 * go through here. Resolves once it listens; the job then needs workers.
 */
export async function startCoordinator(o: StartCoordinatorOptions): Promise<CoordinatorHandle> {
  const job = await loadJob(o);
  const { config, data } = job;
  const outDir = resolve(o.outDir ?? `runs/${config.name}`);
  const log = o.log ?? { ...stderrLogger('coordinator'), info: () => undefined };
  const checkpointDir = Coordinator.checkpointDirOf({ config, outDir });
  const resume = o.resume === true;
  const removedCheckpoints = resume ? 0 : await removeCheckpoints(checkpointDir);
  // This process's one registry: the coordinator's metrics plus the default process metrics.
  const registry = createMetricsRegistry({ defaultMetrics: true });
  // The backend is chosen while the coordinator is created (set below); nothing can scrape before the server listens.
  const metrics = new CoordinatorMetrics(registry, { job: config.name, backend: '', version: dtrainVersion() });
  // The live page's data; also written as <out>/history.json when the job ends.
  const history = new RunHistory({ job: config.name });
  const extra = typeof o.observer === 'function' ? o.observer(job) : o.observer;
  const coordinator = await Coordinator.create({
    config,
    data,
    outDir,
    resume,
    backend: o.backend ?? 'auto',
    log,
    observer: extra === undefined ? combineObservers(metricsObserver(metrics), history) : combineObservers(extra, metricsObserver(metrics), history),
    history,
    ...(o.token === undefined ? {} : { token: o.token }),
    ...(o.ledgerPath === undefined ? {} : { ledgerPath: o.ledgerPath }),
    ...(o.initialWeights === undefined ? {} : { initialWeights: o.initialWeights }),
  });
  metrics.setInfo({ backend: coordinator.backend });
  metrics.setWire(config.cluster.wire, config.cluster.wireWeights);
  metrics.setLocalSteps(config.training.localSteps);
  metrics.readWorkerStatesFrom(() => coordinator.membership.countByState());
  // A resumed job's finished epochs come from its checkpoint (its steps before the restart are not kept).
  for (const record of coordinator.status().history) history.epochFinished(record);
  const server = new CoordinatorServer(
    coordinator,
    {
      ready: () => coordinator.ready,
      status: () => coordinator.status(),
      metrics: () => renderMetrics(registry),
      live: {
        history: () => history.toJSON(),
        subscribe: (listener) => history.subscribe(listener),
        evictWorker: (id, reason) => coordinator.evictWorker(id, reason),
        checkpointNow: () => coordinator.checkpointNow(),
      },
    },
    {
      port: o.port ?? 0,
      host: o.host ?? '127.0.0.1',
      maxPayloadBytes: coordinator.maxInboundBytes,
      ...(o.token === undefined ? {} : { token: o.token }),
      ...(o.tls === undefined ? {} : { tls: o.tls }),
    },
  );
  const port = await server.listen();
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await new Promise((r) => setTimeout(r, SHUTDOWN_GRACE_MS));
      await server.close();
    })());
  let stoppedBy: StopReason | undefined;
  const done = coordinator.run().then(async (summary) => {
    if (o.keepServing !== true) await close();
    return { summary, exitCode: exitCodeOf(summary, stoppedBy) };
  });
  return {
    url: `${o.tls === undefined ? 'ws' : 'wss'}://${o.host ?? '127.0.0.1'}:${port}`,
    port,
    job,
    removedCheckpoints,
    checkpointDir,
    outDir,
    status: () => coordinator.status(),
    stop: (reason = 'stop') => {
      stoppedBy ??= reason;
      coordinator.stop();
    },
    done,
    weights: () => {
      const weights = coordinator.finalWeights();
      if (weights === undefined) throw new RangeError('startCoordinator: no final weights: the job has not ended, or a shard process was missing at its end');
      return weights;
    },
    close,
  };
}

/** 0 when training completed; 128 + the signal's number when stopped (resumable; 143 unless SIGINT); 1 when it failed. */
export function exitCodeOf(summary: JobSummary, reason: StopReason | undefined): number {
  if (summary.state === 'done') return 0;
  if (summary.state === 'stopped') return reason === 'SIGINT' ? 130 : 143;
  return 1;
}

async function loadJob(o: StartCoordinatorOptions): Promise<CoordinatorJob> {
  if ((o.configPath === undefined) === (o.job === undefined)) {
    throw new TypeError('startCoordinator: give exactly one of configPath (a job config file) and job (a config and its data)');
  }
  const base = o.job ?? (await loadFromFile(o.configPath as string));
  if (o.psShards === undefined) return base;
  return { ...base, config: { ...base.config, cluster: { ...base.config.cluster, psShards: o.psShards } } };
}

async function loadFromFile(path: string): Promise<CoordinatorJob> {
  const config = await loadJobConfig(path);
  return { config, data: await loadJobData(config) };
}

/** Deletes dtrain's checkpoint folders (and the LATEST pointer) in `dir`; returns how many checkpoints went. */
async function removeCheckpoints(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const checkpoints = names.filter((n) => /^ckpt-\d+$/.test(n));
  for (const name of [...checkpoints, ...names.filter((n) => n === 'LATEST' || n.startsWith('.tmp'))]) {
    await rm(join(dir, name), { recursive: true, force: true });
  }
  return checkpoints.length;
}
