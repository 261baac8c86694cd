import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCluster, type ClusterRun } from './cluster-run.js';

/** What a benchmark section needs from the script that runs it. */
export interface BenchContext {
  /** apps/cli/dist/main.js */
  readonly cli: string;
  /** This package's dist folder (child-process entry scripts). */
  readonly dist: string;
  /** A temporary folder, removed when the script ends. */
  readonly work: string;
  /** Prints one line (or block) on stdout. */
  readonly say: (text: string) => void;
}

/** Bytes as MB (10^6). */
export const MB = 1e6;

/**
 * Writes `job` as YAML and runs it as a coordinator + `workers` processes
 * (see runCluster); its output folder (model, checkpoints: hundreds of MB for
 * the large models) is removed as soon as summary.json has been read.
 */
export async function runJob(
  ctx: BenchContext,
  job: Record<string, unknown> & { readonly name: string },
  o: { readonly workers: number; readonly workerArgs: readonly string[]; readonly timeoutMs: number; readonly shards?: number },
): Promise<ClusterRun> {
  const configPath = join(ctx.work, `${job.name}.yaml`);
  writeFileSync(configPath, stringify(job));
  const outDir = join(ctx.work, job.name);
  // Progress on stderr: the tables come at the end of a section, minutes later.
  process.stderr.write(`data-plane bench: running ${job.name} (${o.workers} worker${o.workers === 1 ? '' : 's'}${(o.shards ?? 0) > 0 ? `, ${o.shards} shard process(es)` : ''})\n`);
  try {
    return await runCluster({ cli: ctx.cli, configPath, outDir, ...o });
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
