import type { CoordinatorObserver, EpochRecord, JobSummary, StepEvent } from '@dtrain/coordinator';

/** How training progress is shown: a live line on a terminal, one line per epoch otherwise. */
export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';

export interface Progress extends CoordinatorObserver {
  /** The last line(s) once the job has ended. */
  finish(summary: JobSummary): void;
}

const fmt = (n: number | undefined | null, digits = 4): string => (n === undefined || n === null || !Number.isFinite(n) ? '-' : n.toFixed(digits));

/**
 * Progress output. `tty` redraws one line (epoch, bar, step, loss,
 * training accuracy when the job reports it, samples/s, workers) at most 5 times a second; `plain` prints one line per
 * epoch; `json` prints one JSON object per epoch on stdout (and the summary
 * at the end); `quiet` prints nothing but the final line.
 */
export function createProgress(mode: ProgressMode, out: NodeJS.WritableStream, epochs: number, stepsPerEpoch: number): Progress {
  let lastDraw = 0;
  let windowStart = performance.now();
  let windowSamples = 0;
  let rate = 0;
  let stepInEpoch = 0;
  let workers = 0;

  const epochLine = (r: EpochRecord): string =>
    `epoch ${r.epoch + 1}/${epochs}  loss ${fmt(r.loss)}${r.accuracy === undefined ? '' : `  acc ${fmt(r.accuracy)}`}  val_loss ${fmt(r.valLoss)}  val_acc ${fmt(r.valAccuracy)}  ` +
    `${Math.round(r.samplesPerSecond)} samples/s  ${workers} workers  ${r.wallSeconds.toFixed(1)} s`;

  return {
    stepCommitted(e: StepEvent): void {
      workers = e.activeWorkers;
      stepInEpoch += 1;
      windowSamples += e.sampleCount;
      const now = performance.now();
      if (now - windowStart >= 1000) {
        rate = (windowSamples * 1000) / (now - windowStart);
        windowStart = now;
        windowSamples = 0;
      }
      if (mode !== 'tty' || now - lastDraw < 200) return;
      lastDraw = now;
      const fraction = Math.min(1, stepInEpoch / Math.max(1, stepsPerEpoch));
      const width = 20;
      const filled = Math.round(fraction * width);
      out.write(
        `\r\x1b[2Kepoch ${e.epoch + 1}/${epochs} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(fraction * 100)}%  ` +
          `step ${e.step + 1}  loss ${fmt(e.loss)}${e.accuracy === undefined ? '' : `  acc ${fmt(e.accuracy)}`}  ${Math.round(rate)} samples/s  ${e.activeWorkers} workers`,
      );
    },
    epochFinished(r: EpochRecord): void {
      stepInEpoch = 0;
      if (mode === 'tty') out.write(`\r\x1b[2K${epochLine(r)}\n`);
      else if (mode === 'plain') out.write(`${epochLine(r)}\n`);
      else if (mode === 'json') {
        out.write(
          `${JSON.stringify({ epoch: r.epoch, loss: r.loss, accuracy: r.accuracy ?? null, valLoss: r.valLoss ?? null, valAccuracy: r.valAccuracy ?? null, samples: r.samples, samplesPerSecond: r.samplesPerSecond, wallSeconds: r.wallSeconds, workers })}\n`,
        );
      }
    },
    finish(summary: JobSummary): void {
      if (mode === 'tty') out.write('\r\x1b[2K');
      if (mode === 'json') return;
      const verdict =
        summary.state === 'done' ? 'done' : summary.state === 'stopped' ? 'stopped (checkpointed; resume with --resume)' : `failed: ${summary.failure ?? 'unknown'}`;
      out.write(
        `${summary.name} ${verdict}: ${summary.epochs} epochs, ${summary.steps} steps, ${summary.samples} samples in ${summary.wallSeconds.toFixed(1)} s ` +
          `(${Math.round(summary.samplesPerSecond)} samples/s), val_acc ${fmt(summary.final.valAccuracy)}\n`,
      );
    },
  };
}
