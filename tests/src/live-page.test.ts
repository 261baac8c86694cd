import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, elasticJob } from './cluster.js';
import { REPO, tempDir, waitFor, writeJob } from './harness.js';

/**
 * The coordinator's live page (`/`) in a real browser: a headless Chromium
 * opens it with the token in the URL fragment while a coordinator and two
 * worker processes train, and the page must authenticate (session cookie),
 * follow the run over server-sent events, list the workers /status lists,
 * and evict a worker through its button. The screenshot it takes mid-training
 * goes to docs/live-page.png with DTRAIN_UPDATE_DOCS=1 (else to the temp folder).
 *
 * Needs a Chromium binary (.ci/run installs Debian's); without one it skips
 * with a loud line.
 */

const CANDIDATES = [process.env['DTRAIN_CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter((p): p is string => p !== undefined && p !== '');
const chromium = CANDIDATES.find((p) => existsSync(p));
if (chromium === undefined) {
  console.warn(`\n*** SKIPPED: live page test: no chromium (looked for ${CANDIDATES.join(', ')}; Debian: apt-get install chromium; .ci/run does this) ***\n`);
}

// docs/live-page.png is rewritten only when asked (DTRAIN_UPDATE_DOCS=1): a CI run must not change tracked files.
const SCREENSHOT = process.env['DTRAIN_UPDATE_DOCS'] === '1' ? join(REPO, 'docs/live-page.png') : join(tmpdir(), `dtrain-live-page-${process.pid}.png`);

/** The page's view of things, read in the browser. */
interface PageView {
  lossPoints: number;
  accuracyPoints: number;
  dataWaits: string[];
  valPoints: number;
  throughputPoints: number;
  rows: { id: number; state: string; stepsApplied: number }[];
  shards: { index: number; state: string }[];
  timeline: { kind: string; text: string }[];
  state: string;
  actionResult: string;
}

/**
 * The little of the DOM the page.evaluate callbacks use. They run in the
 * browser, but this file is compiled with Node's types, not lib dom (which
 * would change fetch's and streams' types for every file of tests/), so each
 * callback reads `globalThis.document` through this type.
 */
interface BrowserElement {
  readonly dataset: Record<string, string | undefined>;
  readonly textContent: string | null;
  click(): void;
}
interface BrowserDocument {
  readonly cookie: string;
  getElementById(id: string): BrowserElement | null;
  querySelector(selector: string): BrowserElement | null;
  querySelectorAll(selector: string): Iterable<BrowserElement>;
}
type BrowserGlobal = { document: BrowserDocument };

async function view(page: Page): Promise<PageView> {
  return page.evaluate(() => {
    const doc = (globalThis as unknown as BrowserGlobal).document;
    const points = (id: string): number => Number(doc.getElementById(id)?.dataset['points'] ?? '0');
    return {
      lossPoints: points('loss-chart'),
      accuracyPoints: Number(doc.getElementById('loss-chart')?.dataset['accuracyPoints'] ?? '0'),
      dataWaits: [...doc.querySelectorAll('#workers td[data-data-seconds]')].map((td) => td.dataset['dataSeconds'] ?? ''),
      valPoints: points('val-chart'),
      throughputPoints: points('throughput-chart'),
      rows: [...doc.querySelectorAll('#workers tr[data-worker-id]')].map((tr) => ({ id: Number(tr.dataset['workerId']), state: tr.dataset['state'] ?? '', stepsApplied: Number(tr.dataset['stepsApplied']) })),
      shards: [...doc.querySelectorAll('#shards tr[data-shard-index]')].map((tr) => ({ index: Number(tr.dataset['shardIndex']), state: tr.dataset['state'] ?? '' })),
      timeline: [...doc.querySelectorAll('#timeline li')].map((li) => ({ kind: li.dataset['kind'] ?? '', text: li.textContent ?? '' })),
      state: doc.getElementById('state')?.textContent ?? '',
      actionResult: doc.getElementById('action-result')?.textContent ?? '',
    };
  });
}

describe.skipIf(chromium === undefined)('live page in a headless Chromium', () => {
  let cluster: Cluster;
  let cleanup: () => void;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    const tmp = tempDir('live-page');
    cleanup = tmp.cleanup;
    // Far more epochs than the test watches (it stops everything at the end):
    // training must still be under way when the eviction and the screenshot happen.
    cluster = new Cluster(writeJob(tmp.dir, elasticJob('live-page', {}, { epochs: 40 }, { everySteps: 50 })), tmp.dir);
    await cluster.startCoordinator();
    cluster.startWorker();
    cluster.startWorker();
    browser = await puppeteer.launch({
      executablePath: chromium as string,
      headless: true,
      args: ['--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 1100 });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    page.on('request', (r) => requests.push(r.url()));
    page.on('dialog', (d) => void d.accept());
  });

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
    cleanup?.();
  });

  it('authenticates from the fragment, follows the run live, lists /status workers, and evicts one', async () => {
    const base = `http://127.0.0.1:${cluster.port}`;
    await page.goto(`${base}/#token=${encodeURIComponent(cluster.token)}`, { waitUntil: 'domcontentloaded' });

    const first = await waitFor('loss points and 2 worker rows on the page', async () => {
      const v = await view(page);
      return v.lossPoints > 0 && v.rows.length === 2 ? v : undefined;
    }, 60_000);
    // The token leaves the address bar, and the session cookie is HttpOnly.
    expect(page.url()).toBe(`${base}/`);
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobal).document.cookie)).not.toContain('dtrain_session');
    expect(first.state).toMatch(/running|checkpointing/);

    const grown = await waitFor('more loss points', async () => {
      const v = await view(page);
      return v.lossPoints > first.lossPoints + 5 ? v : undefined;
    }, 30_000);
    expect(grown.throughputPoints).toBeGreaterThan(0);
    // Training accuracy per step (the workers report it with their gradients), and each worker's data wait.
    expect(grown.accuracyPoints).toBeGreaterThan(first.lossPoints);
    // A worker's data wait shows once a push of its own was applied (the second may have joined a moment later).
    const waits = await waitFor('a data wait in both worker rows', async () => {
      const v = await view(page);
      return v.dataWaits.length === 2 && v.dataWaits.every((w) => w !== '') ? v.dataWaits : undefined;
    }, 30_000);
    for (const wait of waits) expect(Number(wait)).toBeGreaterThanOrEqual(0);

    const status = await cluster.status();
    const rows = (await view(page)).rows;
    expect(rows.map((r) => r.id).sort()).toEqual(status.workers.filter((w) => w.state !== 'gone').map((w) => w.id).sort());
    // The job's one parameter-server shard, inside the coordinator (cluster.psShards 0), as /status lists it.
    expect((await view(page)).shards).toEqual([{ index: 0, state: 'embedded' }]);

    // "Checkpoint now" (confirm() accepted) reports the step it was written at, and the timeline lists it.
    await page.click('#checkpoint');
    const checkpointed = await waitFor('the checkpoint result', async () => {
      const m = /^checkpoint written at step (\d+)$/.exec((await view(page)).actionResult);
      return m === null ? undefined : Number(m[1]);
    }, 30_000);
    await waitFor('the checkpoint in the timeline', async () => ((await view(page)).timeline.some((e) => e.kind === 'checkpoint' && e.text.includes(`step ${checkpointed}:`)) ? true : undefined), 10_000);

    // The screenshot once a few epochs have finished, so every chart has data.
    await waitFor('3 validation points', async () => ((await view(page)).valPoints >= 3 ? true : undefined), 120_000);
    await new Promise((r) => setTimeout(r, 1000));
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    writeFileSync(SCREENSHOT, await page.screenshot({ fullPage: true, type: 'png' }));
    console.log(`[live-page] screenshot: ${SCREENSHOT}`);

    // Evict through the row's button (the confirm() dialog is accepted). The
    // coordinator forgets the worker at once and the process reconnects within
    // a second or two, so the page may show its row gone (or missing) only
    // briefly or never; a row under the same id with fewer steps applied than
    // before is the new membership record of the reconnected process.
    const before = (await view(page)).rows.at(-1)!;
    const victim = before.id;
    const stepBefore = (await cluster.status()).step;
    await page.evaluate((id) => (globalThis as unknown as BrowserGlobal).document.querySelector(`#workers tr[data-worker-id="${id}"] button[data-evict]`)!.click(), victim);
    const seen = new Set<string>();
    let left = false;
    await waitFor('the eviction on the page', async () => {
      const v = await view(page);
      const row = v.rows.find((r) => r.id === victim);
      seen.add(row === undefined ? 'missing' : row.state);
      if (row === undefined || row.state === 'gone' || row.stepsApplied < before.stepsApplied) left = true;
      return left && v.actionResult === `worker ${victim} evicted` && v.timeline.some((e) => e.kind === 'evicted' && e.text.includes(`worker ${victim}`)) ? v : undefined;
    }, 20_000);
    console.log(`[live-page] worker ${victim} (${before.stepsApplied} steps applied) after the eviction: row states seen ${[...seen].join(', ')}`);
    expect(cluster.coordinator.stderr).toMatch(new RegExp(`worker ${victim}\\b.*evict`, 'i'));

    // The evicted worker process reconnects: two active workers again, training on, and the page shows both.
    const after = await cluster.until('2 active workers after the eviction', (s) => cluster.activeCount(s) === 2 && s.step > stepBefore + 3, 60_000);
    await waitFor('2 active worker rows', async () => {
      const v = await view(page);
      const active = v.rows.filter((r) => r.state === 'joined' || r.state === 'training');
      return active.length === 2 ? v : undefined;
    }, 20_000);
    const rowsNow = (await view(page)).rows.filter((r) => r.state !== 'gone').map((r) => r.id).sort();
    expect(rowsNow).toEqual(after.workers.filter((w) => w.state !== 'gone').map((w) => w.id).sort());

    // Same origin only: no request left the coordinator.
    expect(requests.filter((u) => !u.startsWith(`${base}/`) && !u.startsWith('data:'))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('answers 401 to the API without the token or the session cookie', async () => {
    const base = `http://127.0.0.1:${cluster.port}`;
    expect((await fetch(`${base}/api/history`)).status).toBe(401);
    const events = await fetch(`${base}/api/events`);
    expect(events.status).toBe(401);
    await events.body?.cancel();
    expect((await fetch(`${base}/api/history`, { headers: { cookie: 'dtrain_session=forged' } })).status).toBe(401);
    expect((await fetch(`${base}/api/session`, { method: 'POST', headers: { authorization: 'Bearer wrong-token' } })).status).toBe(401);
    expect((await fetch(`${base}/api/workers/0/evict`, { method: 'POST' })).status).toBe(401);
    // …while the browser's session still reads the history.
    const history = await page.evaluate(async () => {
      const res = await fetch('/api/history');
      return { status: res.status, steps: res.ok ? ((await res.json()) as { steps: unknown[] }).steps.length : 0 };
    });
    expect(history.status).toBe(200);
    expect(history.steps).toBeGreaterThan(0);
  });
});
