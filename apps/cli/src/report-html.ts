import type { RunData } from './report-data.js';

/**
 * report.html: one self-contained page (inline SVG and CSS, no scripts, no
 * external requests) that can be mailed or attached to an issue.
 */
export function reportHtml(data: RunData, svg: string, notes: readonly string[]): string {
  const s = data.summary;
  const h = data.history;
  const epochs = h === undefined || h.epochs.length === 0 ? s.history : h.epochs;
  const facts: [string, string][] = [
    ['job', s.name],
    ['state', s.failure === undefined ? s.state : `${s.state}: ${s.failure}`],
    ['epochs', String(s.epochs)],
    ['steps', String(s.steps)],
    ['samples', String(s.samples)],
    ['wall time', `${num(s.wallSeconds, 1)} s`],
    ['samples/s', num(s.samplesPerSecond, 1)],
    ['workers (most at once)', String(s.workers)],
    ['backend', s.backend],
    ['final loss', num(s.final.loss)],
    ['final validation loss', num(s.final.valLoss)],
    ['final validation accuracy', num(s.final.valAccuracy)],
  ];
  if (s.final.testLoss !== undefined) facts.push(['test loss', num(s.final.testLoss)]);
  if (s.final.testAccuracy !== undefined) facts.push(['test accuracy', num(s.final.testAccuracy)]);
  if (h !== undefined) facts.push(['started', h.startedAt], ['step points', `${h.steps.length} (each merges ${h.stride} step${h.stride === 1 ? '' : 's'}; at most ${h.maxPoints})`]);

  const epochRows = epochs
    .map((e) => `<tr><td>${e.epoch}</td><td>${num(e.loss)}</td><td>${num(e.valLoss)}</td><td>${num(e.valAccuracy)}</td><td>${e.samples}</td><td>${num(e.samplesPerSecond, 1)}</td><td>${num(e.wallSeconds, 2)}</td></tr>`)
    .join('\n');
  // Job state changes (running, evaluating, checkpointing, … every epoch) are left out: the summary has the end state.
  const listed = h?.events.filter((e) => e.kind !== 'state') ?? [];
  const events =
    h === undefined
      ? '<p>No history.json in this run folder: membership events are not known.</p>'
      : listed.length === 0
        ? '<p>None.</p>'
        : `<ul>\n${listed.map((e) => `<li><code>${num(e.t, 2)} s</code> ${esc(e.kind)}${e.workerId === undefined ? '' : ` (worker ${e.workerId})`}: ${esc(e.detail)}</li>`).join('\n')}\n</ul>`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>dtrain report: ${esc(s.name)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1240px; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
td, th { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
th { background: #f3f3f3; }
table.facts td:first-child { text-align: left; color: #555; }
.note { background: #fff6d5; padding: 0.5rem 0.8rem; border-left: 4px solid #e0b000; }
figure { margin: 0; overflow-x: auto; }
</style>
</head>
<body>
<h1>dtrain report: ${esc(s.name)}</h1>
${notes.map((n) => `<p class="note">${esc(n)}</p>`).join('\n')}
<table class="facts">
${facts.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('\n')}
</table>
<figure>
${svg}
</figure>
<h2>Epochs</h2>
<table>
<tr><th>epoch</th><th>loss</th><th>validation loss</th><th>validation accuracy</th><th>samples</th><th>samples/s</th><th>wall s</th></tr>
${epochRows}
</table>
<h2>Membership and checkpoint events</h2>
${events}
</body>
</html>
`;
}

function num(v: number | null, digits = 4): string {
  return v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
