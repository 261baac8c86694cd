import { stderrLogger, type JobSummary, type Logger } from '@dtrain/coordinator';
import { startCoordinator } from './api/start-coordinator.js';
import { createProgress, type Progress, type ProgressMode } from './progress.js';

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
  /** Called once the job has ended (summary.json and history.json written), before --linger waits: `dtrain coordinator --report` writes its report here. */
  readonly onEnded?: (summary: JobSummary, outDir: string) => void | Promise<void>;
}

/**
 * Loads the job, starts the coordinator and its server (with /metrics)
 * through `startCoordinator`, runs the job to the end, and closes the
 * server. What is left here is the command line's: progress lines,
 * SIGTERM/SIGINT (checkpoint and stop), and --linger.
 */
export async function serveJob(o: ServeJobOptions): Promise<{ summary: JobSummary; exitCode: number }> {
  let stoppedBy: 'SIGTERM' | 'SIGINT' | undefined;
  let progress: Progress | undefined;
  const log: Logger = o.verbose
    ? stderrLogger('coordinator')
    : { ...stderrLogger('coordinator'), info: () => undefined };
  const handle = await startCoordinator({
    configPath: o.configPath,
    ...(o.outDir === undefined ? {} : { outDir: o.outDir }),
    port: o.port,
    host: o.host,
    backend: o.backend,
    resume: o.resume,
    log,
    keepServing: true,
    observer: ({ config, data }) => {
      const stepsPerEpoch = Math.ceil(data.train.numSamples / config.training.batchSize);
      progress = createProgress(o.progress, process.stdout, config.training.epochs, stepsPerEpoch);
      return progress;
    },
    ...(o.psShards === undefined ? {} : { psShards: o.psShards }),
    ...(o.token === undefined ? {} : { token: o.token }),
    ...(o.tls === undefined ? {} : { tls: o.tls }),
    ...(o.ledgerPath === undefined ? {} : { ledgerPath: o.ledgerPath }),
  });
  const { config, data } = handle.job;
  const port = handle.port;
  if (handle.removedCheckpoints > 0) {
    process.stderr.write(`dtrain: starting fresh: removed ${handle.removedCheckpoints} old checkpoint(s) in ${handle.checkpointDir} (--resume continues from them)\n`);
  }
  const scheme = o.tls === undefined ? 'http' : 'https';
  if (o.progress !== 'json') {
    process.stderr.write(
      `dtrain: job ${config.name}: ${data.train.numSamples} training / ${data.validation.numSamples} validation samples; ` +
        `coordinator on ${scheme === 'https' ? 'wss' : 'ws'}://${o.host}:${port}, status ${scheme}://${o.host}:${port}/status, ` +
        `metrics ${scheme}://${o.host}:${port}/metrics, live page ${scheme}://${o.host}:${port}/\n`,
    );
  }
  if (o.progress !== 'json' && data.accessNote !== undefined) process.stderr.write(`dtrain: data: ${data.accessNote}\n`);
  const onSignal = (signal: 'SIGTERM' | 'SIGINT'): void => {
    stoppedBy = signal;
    process.stderr.write(`dtrain: ${signal}: checkpointing and stopping\n`);
    handle.stop(signal);
  };
  const onTerm = (): void => onSignal('SIGTERM');
  const onInt = (): void => onSignal('SIGINT');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);
  try {
    await o.onListening?.(port, config.cluster.psShards);
    const { summary, exitCode } = await handle.done;
    progress?.finish(summary);
    await o.onEnded?.(summary, handle.outDir);
    if (o.linger === true && stoppedBy === undefined) {
      process.stderr.write(`dtrain: job ${summary.state}; serving /status until SIGTERM (--linger)\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', () => resolve());
        process.once('SIGINT', () => resolve());
      });
    }
    return { summary, exitCode };
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    await handle.close();
  }
}
