import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readRunData } from './report-data.js';
import { reportHtml } from './report-html.js';
import { renderPng, renderSvg } from './report-render.js';
import { reportSeries } from './report-series.js';
import { reportSpec } from './report-spec.js';

/** What `writeReport` wrote. */
export interface ReportResult {
  /** report.svg, report.png and report.html, absolute or as given. */
  readonly files: readonly string[];
  /** Caveats also shown in report.html (e.g. no history.json). */
  readonly notes: readonly string[];
}

/**
 * Reads RUN_DIR/summary.json (and history.json when present) and writes
 * RUN_DIR/report.svg, report.png and report.html. A missing or malformed
 * summary.json/history.json is a UsageError naming the file and field.
 */
export async function writeReport(runDir: string): Promise<ReportResult> {
  const data = readRunData(runDir);
  const notes: string[] = [];
  if (data.history === undefined) {
    notes.push('This run folder has no history.json: the charts show the per-epoch history from summary.json only (no per-step loss, step times or membership events).');
  }
  const s = data.summary;
  const title = `${s.name}: ${s.state}, ${s.epochs} epoch${s.epochs === 1 ? '' : 's'}, ${s.samplesPerSecond.toFixed(1)} samples/s`;
  const svg = await renderSvg(reportSpec(reportSeries(data), title));
  const png = renderPng(svg);
  const files = [join(runDir, 'report.svg'), join(runDir, 'report.png'), join(runDir, 'report.html')];
  const [svgPath, pngPath, htmlPath] = files as [string, string, string];
  await writeAtomic(svgPath, svg);
  await writeAtomic(pngPath, png);
  await writeAtomic(htmlPath, reportHtml(data, svg, notes));
  return { files, notes };
}

/**
 * The end of `dtrain train` / `dtrain coordinator --report`: a report that
 * cannot be made is a warning line, never a failed run.
 */
export async function writeReportOrWarn(runDir: string, quiet: boolean): Promise<void> {
  try {
    const { files } = await writeReport(runDir);
    if (!quiet) process.stderr.write(`dtrain: report written to ${files.at(-1) ?? runDir}\n`);
  } catch (error) {
    process.stderr.write(`dtrain: warning: no report: ${error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)}\n`);
  }
}

async function writeAtomic(path: string, content: string | Buffer): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}
