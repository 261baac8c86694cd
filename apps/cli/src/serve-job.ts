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
  type JobSummary,
  type Logger,
} from '@dtrain/coordinator';
import { CoordinatorMetrics, createMetricsRegistry, renderMetrics } from '@dtrain/metrics';
import { createProgress, type ProgressMode } from './progress.js';
import { dtrainVersion } from './version.js';

export interface ServeJobOptions {
  readonly configPath: string;
  readonly outDir: string | undefined;
  readonly port: number;
  readonly host: string;
  readonly backend: string;
  readonly token: string | undefined;
  readonly progress: ProgressMode;
  readonly verbose: boolean;
  readonly tls?: { cert: Buffer; key: Buffer };
  readonly ledgerPath?: string;
  /** Continue from the newest checkpoint; when false, old checkpoints of this job are removed first. */
  readonly resume: boolean;
  /**
   * After the job ends, keep serving /status, /metrics and "job finished"
   * answers until SIGTERM/SIGINT, instead of exiting (a Kubernetes Deployment
   * would restart an exited coordinator).
   */
  readonly linger?: boolean;
  /** Overrides the config's cluster.psShards (`dtrain train --ps-shards`). */
  readonly psShards?: number;
  /** Called once the server listens (embedded mode starts its shards and workers here) with the job's shard count. */
  readonly onListening?: (port: number, psShards: number) => void | Promise<void>;
}

/**
 * Loads the job, starts the coordinator and its server (with /metrics),
 * runs the job to the end, and closes the server. SIGTERM/SIGINT checkpoint
 * and stop.
 */
export async function serveJob(o: ServeJobOptions): Promise<{ summary: JobSummary; exitCode: number }> {
  let stoppedBy: 'SIGTERM' | 'SIGINT' | undefined;
  const loaded = await loadJobConfig(o.configPath);
  const config = o.psShards === undefined ? loaded : { ...loaded, cluster: { ...loaded.cluster, psShards: o.psShards } };
  const data = await loadJobData(config);
  const outDir = resolve(o.outDir ?? `runs/${config.name}`);
  const log: Logger = o.verbose
    ? stderrLogger('coordinator')
    : { ...stderrLogger('coordinator'), info: () => undefined };
  const stepsPerEpoch = Math.ceil(data.train.numSamples / config.training.batchSize);
  const stdout = process.stdout;
  const progress = createProgress(o.progress, stdout, config.training.epochs, stepsPerEpoch);
  const checkpointDir = Coordinator.checkpointDirOf({ config, outDir });
  if (!o.resume) {
    const removed = await removeCheckpoints(checkpointDir);
    if (removed > 0) process.stderr.write(`dtrain: starting fresh: removed ${removed} old checkpoint(s) in ${checkpointDir} (--resume continues from them)\n`);
  }
  // This process's one registry: the coordinator's metrics plus the default process metrics.
  const registry = createMetricsRegistry({ defaultMetrics: true });
  // The backend is chosen while the coordinator is created (set below); nothing can scrape before the server listens.
  const metrics = new CoordinatorMetrics(registry, { job: config.name, backend: '', version: dtrainVersion() });
  // The live page's data; also written as <out>/history.json when the job ends.
  const history = new RunHistory({ job: config.name });
  const coordinator = await Coordinator.create({
    config,
    data,
    outDir,
    resume: o.resume,
    backend: o.backend,
    log,
    observer: combineObservers(progress, metricsObserver(metrics), history),
    history,
    ...(o.token === undefined ? {} : { token: o.token }),
    ...(o.ledgerPath === undefined ? {} : { ledgerPath: o.ledgerPath }),
  });
  metrics.setInfo({ backend: coordinator.backend });
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
    { port: o.port, host: o.host, maxPayloadBytes: coordinator.maxInboundBytes, ...(o.token === undefined ? {} : { token: o.token }), ...(o.tls === undefined ? {} : { tls: o.tls }) },
  );
  const port = await server.listen();
  const scheme = o.tls === undefined ? 'http' : 'https';
  if (o.progress !== 'json') {
    process.stderr.write(
      `dtrain: job ${config.name}: ${data.train.numSamples} training / ${data.validation.numSamples} validation samples; ` +
        `coordinator on ${scheme === 'https' ? 'wss' : 'ws'}://${o.host}:${port}, status ${scheme}://${o.host}:${port}/status, ` +
        `metrics ${scheme}://${o.host}:${port}/metrics, live page ${scheme}://${o.host}:${port}/\n`,
    );
  }
  const onSignal = (signal: 'SIGTERM' | 'SIGINT'): void => {
    stoppedBy = signal;
    process.stderr.write(`dtrain: ${signal}: checkpointing and stopping\n`);
    coordinator.stop();
  };
  const onTerm = (): void => onSignal('SIGTERM');
  const onInt = (): void => onSignal('SIGINT');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);
  await o.onListening?.(port, config.cluster.psShards);
  try {
    const summary = await coordinator.run();
    progress.finish(summary);
    if (o.linger === true && stoppedBy === undefined) {
      process.stderr.write(`dtrain: job ${summary.state}; serving /status until SIGTERM (--linger)\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', () => resolve());
        process.once('SIGINT', () => resolve());
      });
    }
    return { summary, exitCode: exitCodeOf(summary, stoppedBy) };
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    // Let the shutdown frames reach the workers before the sockets go.
    await new Promise((r) => setTimeout(r, 200));
    await server.close();
  }
}

/** 0 when training completed; 128 + the signal's number when stopped by one (resumable); 1 when it failed. */
export function exitCodeOf(summary: JobSummary, signal: 'SIGTERM' | 'SIGINT' | undefined): number {
  if (summary.state === 'done') return 0;
  if (summary.state === 'stopped') return signal === 'SIGINT' ? 130 : 143;
  return 1;
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
