import { WorkerMetrics, createMetricsRegistry } from '@dtrain/metrics';
import { Worker, startMetricsServer, type MetricsServer, type WorkerExit, type WorkerOptions } from '@dtrain/worker';
import { BACKENDS } from '../args.js';
import { UsageError, UsageErrorCode } from '../usage-error.js';
import { apiNaming, checkChoice, checkInt, checkWsUrl, messageOf, resolveLogger, type OptionNaming, type ServiceLogOption } from './start-worker-options.js';

/** Options of {@link startWorker}: the flags of `dtrain worker`, typed. */
export interface StartWorkerOptions {
  /** ws:// or wss:// URL of the coordinator (`dtrain coordinator`, `dtrain train --listen`, or `fit` with `workers: { listen }`). Required. */
  readonly coordinator: string;
  /** tfjs backend the compute thread loads: `'auto'` (tensorflow if installed, else wasm, else cpu), `'tensorflow'`, `'wasm'` or `'cpu'`. Default `'auto'`. */
  readonly backend?: (typeof BACKENDS)[number];
  /** Shared secret of the job (sent as `Authorization: Bearer`). Default: none (the CLI's `DTRAIN_TOKEN` is not read here: pass it). */
  readonly token?: string;
  /** Extra trust for a wss:// coordinator: a PEM CA certificate (its contents, not a path). Default: the system's CAs. */
  readonly ca?: string | Buffer;
  /** Give up after this long without reaching the coordinator, in milliseconds (1 s … 24 h). Default 120 000. */
  readonly reconnectTimeoutMs?: number;
  /** Serve this worker's metrics (and process metrics) at http://metricsHost:metricsPort/metrics; 0 picks a free port. Default: no metrics server. */
  readonly metricsPort?: number;
  /** Interface of the metrics server; only with `metricsPort`. Default `'0.0.0.0'`. */
  readonly metricsHost?: string;
  /** When the job finishes, stay idle until `stop()` (or SIGTERM with `handleSignals`) instead of ending, as a Kubernetes Deployment's worker must. Default false. */
  readonly linger?: boolean;
  /** Append one JSON line per gradient push sent to this file, evidence for `dtrain audit`. Opened (created or appended to) at start. Default: no record. */
  readonly recordPath?: string;
  /** Log lines: `'stderr'` (as the CLI), `'quiet'` (warnings and errors), `'silent'`, or a logger. Default `'stderr'`. */
  readonly log?: ServiceLogOption;
  /** Leave cleanly on SIGTERM and SIGINT (installs process handlers until the worker is done). Default false: a library does not take over your signals. */
  readonly handleSignals?: boolean;
}

/** A running worker. */
export interface WorkerHandle {
  /** Resolves when the worker is done: `{ code: 0 }` when the job ended or it left, non-zero with a reason when it gave up or was refused. */
  readonly done: Promise<WorkerExit>;
  /** The metrics URL (`http://host:port/metrics`) when `metricsPort` was given. */
  readonly metricsUrl: string | undefined;
  /** Leaves the job cleanly, as SIGTERM does: tells the coordinator, closes, and `done` resolves with code 0. Safe at any time. */
  stop(reason?: string): void;
}

/** What only the command line sets: its option names and its test hooks. */
export interface WorkerLaunch {
  readonly naming: OptionNaming;
  readonly simulateComputeMs?: number;
  readonly extraStepMs?: number;
}

/**
 * Starts a dtrain worker in this process: it connects to the coordinator,
 * receives the model, weights and data, and computes gradients on a worker
 * thread (this thread only answers the network) until the job ends.
 * Resolves once the worker is started (metrics server listening, record file open).
 *
 * @throws UsageError (`DTRAIN_USAGE`) naming the option for an invalid option,
 *   an unopenable `recordPath` or a metrics port it cannot listen on.
 */
export function startWorker(options: StartWorkerOptions): Promise<WorkerHandle> {
  return launchWorker(options, { naming: apiNaming('startWorker') });
}

/** {@link startWorker} with the command line's names and hooks (not exported from the package). */
export async function launchWorker(options: StartWorkerOptions, launch: WorkerLaunch): Promise<WorkerHandle> {
  const { naming } = launch;
  const fail = (message: string, cause?: unknown): UsageError => new UsageError(UsageErrorCode.USAGE, `${naming.prefix}${message}`, cause === undefined ? undefined : { cause });
  const coordinator = checkWsUrl(naming, 'coordinator', options.coordinator);
  const backend = checkChoice(naming, 'backend', options.backend, BACKENDS, 'auto');
  const reconnectTimeoutMs = checkInt(naming, 'reconnectTimeoutMs', options.reconnectTimeoutMs, 120_000, 1_000, 86_400_000);
  if (options.metricsPort === undefined && options.metricsHost !== undefined) throw fail(`${naming.name('metricsHost')} needs ${naming.name('metricsPort')}`);
  const metricsPort = options.metricsPort === undefined ? undefined : checkInt(naming, 'metricsPort', options.metricsPort, 0, 0, 65535);
  if (options.recordPath === '') throw fail(`${naming.name('recordPath')} needs a file name`);

  let served: { metrics: WorkerMetrics; server: MetricsServer } | undefined;
  if (metricsPort !== undefined) {
    const host = options.metricsHost ?? '0.0.0.0';
    const registry = createMetricsRegistry({ defaultMetrics: true });
    const metrics = new WorkerMetrics(registry);
    try {
      served = { metrics, server: await startMetricsServer(registry, { port: metricsPort, host }) };
    } catch (error) {
      throw fail(`${naming.name('metricsPort')} ${metricsPort}: cannot listen on ${host}: ${messageOf(error)}`, error);
    }
  }
  const workerOptions: WorkerOptions = {
    coordinator,
    backend,
    linger: options.linger === true,
    handleSignals: options.handleSignals === true,
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    reconnectTimeoutMs,
    log: resolveLogger(options.log, 'worker'),
    ...(served === undefined ? {} : { metrics: served.metrics }),
    ...(launch.simulateComputeMs === undefined ? {} : { simulateComputeMs: launch.simulateComputeMs }),
    ...(launch.extraStepMs === undefined ? {} : { extraStepMs: launch.extraStepMs }),
    ...(options.recordPath === undefined ? {} : { recordPath: options.recordPath }),
  };
  let worker: Worker;
  try {
    worker = new Worker(workerOptions);
  } catch (error) {
    await served?.server.close();
    if (options.recordPath === undefined) throw error;
    throw fail(`${naming.name('recordPath')}: cannot open ${options.recordPath ?? ''}: ${messageOf(error)}`, error);
  }
  const done = worker.run().finally(() => served?.server.close());
  return {
    done,
    metricsUrl: served?.server.url,
    // Safe at any time: a worker that leaves while its compute thread starts disposes the thread once it is up.
    stop: (reason = 'stop') => worker.leave(reason),
  };
}
