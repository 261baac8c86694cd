/**
 * The coordinator's live page (served at `/`): job state, progress, curves,
 * workers, membership timeline and rejected gradients, updated from the
 * coordinator's server-sent events. Browser code: compiled on its own by
 * tsconfig.page.json (lib dom) into dist/page/app.js; it imports nothing at
 * run time. uPlot is the global of /page/uPlot.iife.min.js, loaded before
 * this module by index.html.
 *
 * Authentication: the token is taken once from the URL fragment
 * (`/#token=…`; a fragment never reaches the server or its logs) or typed
 * into a small form, sent once to `POST /api/session`, which answers with an
 * HttpOnly SameSite=Strict cookie, and then removed from the address bar and
 * the history entry (history.replaceState), so it is neither left on screen
 * nor kept by the page: every later request, the event stream included,
 * authenticates with the cookie alone.
 */
import type UPlot from 'uplot';

declare const uPlot: typeof UPlot;

// ---- The coordinator's JSON (see status.ts and run-history.ts) ----

interface WorkerStatus {
  id: number;
  state: string;
  host: string | null;
  backend: string | null;
  stepsApplied: number;
  samplesApplied: number;
  lastComputeSeconds: number | null;
  lastDataSeconds: number | null;
  benched: boolean;
}
interface StatusReport {
  job: string;
  state: string;
  failure?: string | null;
  epoch: number;
  epochs: number;
  step: number;
  samples: number;
  lastLoss: number | null;
  workers: WorkerStatus[];
  rejected: Record<string, number>;
  /** Absent from a coordinator older than the shard rows. */
  shards?: ShardStatus[];
}
interface ShardStatus {
  index: number;
  state: 'embedded' | 'connected' | 'missing';
  url: string | null;
  start: number;
  end: number;
}
interface HistoryPoint {
  step: number;
  epoch: number;
  t: number;
  loss: number | null;
  accuracy: number | null;
  samples: number;
  samplesPerSecond: number;
  computeSeconds: number;
  waitSeconds: number;
  syncSeconds: number;
  workers: number;
}
interface HistoryEpoch {
  epoch: number;
  loss: number;
  valLoss: number | null;
  valAccuracy: number | null;
  samples: number;
  samplesPerSecond: number;
  wallSeconds: number;
}
interface HistoryEvent {
  t: number;
  kind: 'joined' | 'left' | 'evicted' | 'checkpoint' | 'rollback' | 'state';
  workerId?: number;
  detail: string;
}
interface RunHistoryJson {
  version: 1;
  job: string;
  startedAt: string;
  stride: number;
  maxPoints: number;
  steps: HistoryPoint[];
  epochs: HistoryEpoch[];
  events: HistoryEvent[];
}

/** Timeline entries kept on the page (newest first). */
const MAX_EVENTS = 200;
/** Step points kept per chart; beyond it every other point is dropped (the server thins its own history the same way). */
const MAX_POINTS = 4000;
/** Charts are redrawn at most this often (ms): steps can come tens of times a second. */
const REDRAW_MS = 300;
/** /status is polled when no `status` event arrived for this long (ms). */
const STATUS_POLL_MS = 2000;
/** Recent step points averaged for the samples/s shown and the ETA. */
const RATE_WINDOW = 10;

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`live page: #${id} is missing from index.html`);
  return el as T;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className !== undefined) node.className = className;
  return node;
}

function fmt(n: number | null | undefined, digits = 4): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '–' : Number(n.toPrecision(digits)).toString();
}

function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

// ---- Authentication ----

/** The token of `#token=…`, removed from the URL at once (see the file comment). */
function takeTokenFromFragment(): string | undefined {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = params.get('token');
  if (token === null) return undefined;
  history.replaceState(null, '', location.pathname + location.search);
  return token === '' ? undefined : token;
}

async function openSession(token: string): Promise<boolean> {
  const res = await fetch('/api/session', { method: 'POST', headers: { authorization: `Bearer ${token}` }, credentials: 'same-origin' });
  return res.ok;
}

/** Waits until the form's token opens a session. */
function loginForm(message: string): Promise<void> {
  const form = byId<HTMLFormElement>('login');
  const input = byId<HTMLInputElement>('token-input');
  byId('login-error').textContent = message;
  form.hidden = false;
  input.focus();
  return new Promise((resolve) => {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const token = input.value.trim();
      input.value = '';
      void openSession(token).then((ok) => {
        if (ok) {
          form.hidden = true;
          resolve();
        } else {
          byId('login-error').textContent = 'The coordinator refused this token.';
        }
      });
    });
  });
}

async function authenticate(): Promise<void> {
  const token = takeTokenFromFragment();
  if (token !== undefined) {
    if (await openSession(token)) return;
    return loginForm('The token in the link was refused.');
  }
  // A reload keeps the session cookie: no token needed while it is valid.
  if ((await fetch('/status', { credentials: 'same-origin' })).ok) return;
  return loginForm('');
}

// ---- Charts ----

interface Chart {
  readonly container: HTMLElement;
  readonly plot: UPlot;
  readonly data: (number | null)[][];
}

function chartWidth(container: HTMLElement): number {
  return Math.max(300, container.clientWidth - 4);
}

/** Whole numbers only on the x axis: steps and epochs. */
const WHOLE_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000];

function makeChart(id: string, series: UPlot.Series[], scales: UPlot.Scales, axes: UPlot.Axis[], xLabel: string): Chart {
  const container = byId(id);
  const data: (number | null)[][] = series.map(() => []);
  data.unshift([]);
  const plot = new uPlot(
    {
      width: chartWidth(container),
      height: 220,
      scales: { x: { time: false }, ...scales },
      series: [{ label: xLabel }, ...series],
      axes: [{ label: xLabel, incrs: WHOLE_INCRS }, ...axes],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    },
    data as UPlot.AlignedData,
    container,
  );
  return { container, plot, data };
}

function createCharts(): { loss: Chart; val: Chart; throughput: Chart } {
  const loss = makeChart(
    'loss-chart',
    [
      { label: 'loss', scale: 'loss', stroke: '#2f6fde', width: 1.5, spanGaps: true },
      { label: 'accuracy', scale: 'acc', stroke: '#2f9e6b', width: 1.5, spanGaps: true },
    ],
    { acc: { range: [0, 1] } },
    [{ scale: 'loss', label: 'loss' }, { scale: 'acc', side: 1, label: 'accuracy', grid: { show: false } }],
    'step',
  );
  const val = makeChart(
    'val-chart',
    [
      { label: 'train loss', scale: 'loss', stroke: '#9aaed6', width: 1.5, points: { show: true } },
      { label: 'val loss', scale: 'loss', stroke: '#2f6fde', width: 2, points: { show: true } },
      { label: 'val accuracy', scale: 'acc', stroke: '#2f9e6b', width: 2, points: { show: true } },
    ],
    { acc: { range: [0, 1] } },
    [{ scale: 'loss', label: 'loss' }, { scale: 'acc', side: 1, label: 'accuracy', grid: { show: false } }],
    'epoch',
  );
  const throughput = makeChart('throughput-chart', [{ label: 'samples/s', stroke: '#8a5cd1', width: 1.5, fill: 'rgba(138,92,209,0.08)' }], {}, [{ label: 'samples/s', size: 70 }], 'step');
  return { loss, val, throughput };
}

// ---- The page's state ----

class LivePage {
  readonly #charts = createCharts();
  readonly #steps: HistoryPoint[] = [];
  readonly #epochs: HistoryEpoch[] = [];
  readonly #events: HistoryEvent[] = [];
  #status: StatusReport | undefined;
  #startedAt = Date.now();
  #lastStatusAt = 0;
  #redrawPending = false;

  constructor() {
    window.addEventListener('resize', () => {
      for (const c of Object.values(this.#charts)) c.plot.setSize({ width: chartWidth(c.container), height: 220 });
    });
    byId<HTMLButtonElement>('checkpoint').addEventListener('click', () => void this.#checkpoint());
    byId('timeline-states').addEventListener('change', () => this.#renderTimeline());
    byId('workers').addEventListener('click', (e) => {
      const button = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-evict]');
      if (button !== null) void this.#evict(Number(button.dataset['evict']));
    });
  }

  /** Subscribes to /api/events; EventSource reconnects by itself, and each connect resends status and history. */
  connect(): void {
    const source = new EventSource('/api/events', { withCredentials: true });
    const connection = byId('connection');
    source.addEventListener('open', () => {
      connection.dataset['connection'] = 'open';
      connection.textContent = 'live';
    });
    source.addEventListener('error', () => {
      connection.dataset['connection'] = 'closed';
      connection.textContent = source.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…';
    });
    const on = <T>(name: string, handle: (data: T) => void): void =>
      source.addEventListener(name, (e) => handle(JSON.parse((e as MessageEvent<string>).data) as T));
    on<StatusReport>('status', (s) => this.#onStatus(s));
    on<RunHistoryJson>('history', (h) => this.#onHistory(h));
    on<HistoryPoint>('step', (p) => this.#onStep(p));
    on<HistoryEpoch>('epoch', (e) => this.#onEpoch(e));
    on<HistoryEvent>('event', (e) => this.#onEvent(e));
    // Worker rows change without a step (a join, an eviction): poll /status when the stream does not send it.
    setInterval(() => {
      if (Date.now() - this.#lastStatusAt >= STATUS_POLL_MS) void this.#pollStatus();
    }, STATUS_POLL_MS);
  }

  async #pollStatus(): Promise<void> {
    const res = await fetch('/status', { credentials: 'same-origin' }).catch(() => undefined);
    if (res?.ok === true) this.#onStatus((await res.json()) as StatusReport);
  }

  #onHistory(h: RunHistoryJson): void {
    const started = Date.parse(h.startedAt);
    if (Number.isFinite(started)) this.#startedAt = started;
    this.#steps.splice(0, this.#steps.length, ...h.steps);
    this.#epochs.splice(0, this.#epochs.length, ...h.epochs);
    this.#events.splice(0, this.#events.length, ...h.events.slice(-MAX_EVENTS).reverse());
    byId('job-name').textContent = h.job;
    this.#renderTimeline();
    this.#renderProgress();
    this.#scheduleRedraw();
  }

  #onStep(p: HistoryPoint): void {
    this.#steps.push(p);
    if (this.#steps.length > MAX_POINTS) {
      const kept = this.#steps.filter((_, i) => i % 2 === 1 || i === this.#steps.length - 1);
      this.#steps.splice(0, this.#steps.length, ...kept);
    }
    if (this.#status !== undefined) this.#status = { ...this.#status, step: p.step, epoch: p.epoch, samples: p.samples, lastLoss: p.loss ?? this.#status.lastLoss };
    this.#renderProgress();
    this.#scheduleRedraw();
  }

  #onEpoch(e: HistoryEpoch): void {
    const at = this.#epochs.findIndex((x) => x.epoch === e.epoch);
    if (at >= 0) this.#epochs.splice(at, 1, e);
    else this.#epochs.push(e);
    this.#renderProgress();
    this.#scheduleRedraw();
  }

  #onEvent(e: HistoryEvent): void {
    this.#events.unshift(e);
    if (this.#events.length > MAX_EVENTS) this.#events.length = MAX_EVENTS;
    this.#renderTimeline();
    // A membership change shows in the worker table at once, not at the next poll.
    if (e.kind !== 'checkpoint') void this.#pollStatus();
  }

  #onStatus(s: StatusReport): void {
    this.#status = s;
    this.#lastStatusAt = Date.now();
    const state = byId('state');
    state.textContent = s.state;
    state.dataset['state'] = s.state;
    byId('job-name').textContent = s.job;
    const failure = byId('failure');
    failure.hidden = s.failure === null || s.failure === undefined;
    failure.textContent = s.failure ?? '';
    this.#renderProgress();
    this.#renderWorkers(s);
    this.#renderShards(s.shards ?? []);
    this.#renderRejected(s.rejected);
  }

  /** Mean samples/s of the last few step points. */
  #rate(): number | undefined {
    const recent = this.#steps.slice(-RATE_WINDOW).filter((p) => Number.isFinite(p.samplesPerSecond) && p.samplesPerSecond > 0);
    if (recent.length === 0) return undefined;
    return recent.reduce((sum, p) => sum + p.samplesPerSecond, 0) / recent.length;
  }

  #renderProgress(): void {
    const s = this.#status;
    const last = this.#steps.at(-1);
    const step = Math.max(s?.step ?? 0, last?.step ?? 0);
    const epoch = last?.epoch ?? s?.epoch;
    const epochs = s?.epochs;
    // `epoch` counts from 0 and equals `epochs` once training is over.
    byId('epoch').textContent = epoch === undefined || epochs === undefined ? '–' : `${Math.min(epoch + 1, epochs)} / ${epochs}`;
    byId('step').textContent = String(step);
    byId('last-loss').textContent = fmt(last?.loss ?? s?.lastLoss);
    const rate = this.#rate();
    byId('samples-per-second').textContent = rate === undefined ? '–' : fmt(rate, 3);
    byId('eta').textContent = this.#eta(rate);
  }

  /**
   * Samples left over samples/s. An epoch's size is known once one epoch has
   * finished (its `samples`); before that there is no honest estimate.
   */
  #eta(rate: number | undefined): string {
    const s = this.#status;
    if (s !== undefined && (s.state === 'done' || s.state === 'failed')) return s.state;
    const perEpoch = this.#epochs.at(-1)?.samples;
    const samples = Math.max(s?.samples ?? 0, this.#steps.at(-1)?.samples ?? 0);
    if (s === undefined || perEpoch === undefined || rate === undefined) return 'after epoch 1';
    return fmtDuration(Math.max(0, s.epochs * perEpoch - samples) / rate);
  }

  #scheduleRedraw(): void {
    if (this.#redrawPending) return;
    this.#redrawPending = true;
    setTimeout(() => {
      this.#redrawPending = false;
      this.#redraw();
    }, REDRAW_MS);
  }

  #redraw(): void {
    const { loss, val, throughput } = this.#charts;
    const x = this.#steps.map((p) => p.step);
    const accuracy = this.#steps.map((p) => p.accuracy);
    setData(loss, [x, this.#steps.map((p) => p.loss), accuracy]);
    loss.container.dataset['accuracyPoints'] = String(accuracy.filter((a) => a !== null).length);
    setData(throughput, [x, this.#steps.map((p) => p.samplesPerSecond)]);
    const epochs = [...this.#epochs].sort((a, b) => a.epoch - b.epoch);
    // Epochs count from 0 on the wire and from 1 on screen, as in the summary.
    setData(val, [epochs.map((e) => e.epoch + 1), epochs.map((e) => e.loss), epochs.map((e) => e.valLoss), epochs.map((e) => e.valAccuracy)]);
  }

  #renderWorkers(s: StatusReport): void {
    const tbody = byId('workers').querySelector('tbody');
    if (tbody === null) return;
    // A worker's compute share of the last step: its own compute time against
    // the step's wall time (compute + wait + sync of the latest point); the
    // rest it spent waiting for the step to close.
    const last = this.#steps.at(-1);
    const stepSeconds = last === undefined ? undefined : last.computeSeconds + last.waitSeconds + last.syncSeconds;
    const computes = s.workers.map((w) => w.lastComputeSeconds).filter((c): c is number => c !== null).sort((a, b) => a - b);
    const median = computes[Math.floor(computes.length / 2)];
    const rows = [...s.workers].sort((a, b) => a.id - b.id).map((w) => {
      const tr = el('tr');
      tr.dataset['workerId'] = String(w.id);
      tr.dataset['state'] = w.state;
      tr.dataset['stepsApplied'] = String(w.stepsApplied);
      tr.append(el('td', String(w.id), 'num'), el('td', w.state), el('td', w.backend ?? '–'), el('td', w.host ?? '–'), el('td', String(w.stepsApplied), 'num'));
      tr.append(computeCell(w.lastComputeSeconds, stepSeconds));
      // Of its compute time, what went to taking in and gathering the batch's samples.
      const dataWait = el('td', w.lastDataSeconds === null ? '–' : `${(w.lastDataSeconds * 1000).toFixed(1)} ms`, 'num');
      dataWait.dataset['dataSeconds'] = w.lastDataSeconds === null ? '' : String(w.lastDataSeconds);
      tr.append(dataWait);
      const slow = !w.benched && median !== undefined && w.lastComputeSeconds !== null && computes.length > 1 && w.lastComputeSeconds > 1.5 * median;
      const flag = el('td', w.benched ? 'benched (straggler)' : slow ? 'slow' : '', 'flag');
      flag.dataset['flag'] = w.benched ? 'benched' : slow ? 'slow' : '';
      tr.append(flag);
      const button = el('button', 'evict');
      button.type = 'button';
      button.dataset['evict'] = String(w.id);
      button.disabled = w.state === 'gone' || w.state === 'draining';
      const action = el('td');
      action.append(button);
      tr.append(action);
      return tr;
    });
    tbody.replaceChildren(...rows);
  }

  /** One row per parameter-server shard: where it runs and which slice of the parameters it owns. */
  #renderShards(shards: readonly ShardStatus[]): void {
    const rows = shards.map((shard) => {
      const tr = document.createElement('tr');
      tr.dataset['shardIndex'] = String(shard.index);
      tr.dataset['state'] = shard.state;
      const where = shard.state === 'embedded' ? 'in the coordinator' : (shard.url ?? 'not connected');
      tr.append(el('td', String(shard.index)), el('td', shard.state), el('td', where), el('td', `${shard.start.toLocaleString()}–${shard.end.toLocaleString()}`), el('td', (shard.end - shard.start).toLocaleString()));
      return tr;
    });
    byId('shards').querySelector('tbody')?.replaceChildren(...rows);
  }

  #renderRejected(rejected: Record<string, number>): void {
    const dl = byId('rejected');
    const entries = Object.entries(rejected).filter(([, n]) => n > 0);
    if (entries.length === 0) {
      dl.replaceChildren(el('dt', 'none'), el('dd', ''));
      return;
    }
    dl.replaceChildren(
      ...entries.flatMap(([reason, n]) => {
        const dd = el('dd', String(n));
        dd.dataset['reason'] = reason;
        return [el('dt', reason), dd];
      }),
    );
  }

  #renderTimeline(): void {
    // Job state changes (running → evaluating → checkpointing → running, every
    // epoch) would bury the membership changes: shown only on request.
    const withStates = byId<HTMLInputElement>('timeline-states').checked;
    const items = this.#events.filter((e) => withStates || e.kind !== 'state').map((e) => {
      const li = el('li');
      li.dataset['kind'] = e.kind;
      const who = e.workerId === undefined ? '' : `worker ${e.workerId} `;
      li.append(el('time', this.#time(e.t)), document.createTextNode(`${who}${e.kind}${e.detail === '' ? '' : `: ${e.detail}`}`));
      return li;
    });
    byId('timeline').replaceChildren(...items);
  }

  /** `t` as a clock time: milliseconds or seconds since 1970, or seconds since the run started. */
  #time(t: number): string {
    const ms = t > 1e11 ? t : t > 1e9 ? t * 1000 : this.#startedAt + t * 1000;
    return new Date(ms).toLocaleTimeString();
  }

  async #evict(id: number): Promise<void> {
    if (!confirm(`Evict worker ${id}? It is disconnected; its batches of the current step go back to the queue.`)) return;
    const res = await fetch(`/api/workers/${id}/evict`, { method: 'POST', credentials: 'same-origin' });
    byId('action-result').textContent = res.ok ? `worker ${id} evicted` : `evicting worker ${id} failed: HTTP ${res.status} ${await res.text()}`;
    await this.#pollStatus();
  }

  async #checkpoint(): Promise<void> {
    if (!confirm('Write a checkpoint now?')) return;
    const button = byId<HTMLButtonElement>('checkpoint');
    button.disabled = true;
    byId('action-result').textContent = 'writing a checkpoint at the next step boundary…';
    try {
      const res = await fetch('/api/checkpoint', { method: 'POST', credentials: 'same-origin' });
      const body = await res.text();
      let step: unknown;
      try {
        step = (JSON.parse(body) as { step?: unknown }).step;
      } catch {
        step = undefined;
      }
      byId('action-result').textContent = !res.ok
        ? `checkpoint failed: HTTP ${res.status} ${body}`
        : typeof step === 'number'
          ? `checkpoint written at step ${step}`
          : `checkpoint requested at step ${this.#status?.step ?? '?'}`;
    } finally {
      button.disabled = false;
    }
  }
}

function computeCell(compute: number | null, stepSeconds: number | undefined): HTMLTableCellElement {
  const td = el('td');
  if (compute === null || stepSeconds === undefined || stepSeconds <= 0) {
    td.textContent = '–';
    return td;
  }
  const share = Math.min(1, compute / stepSeconds);
  const bar = el('div', undefined, 'bar');
  bar.title = `compute ${fmt(compute, 3)} s of a ${fmt(stepSeconds, 3)} s step`;
  const c = el('span', undefined, 'compute');
  c.style.width = `${(share * 100).toFixed(1)}%`;
  const w = el('span', undefined, 'wait');
  w.style.width = `${((1 - share) * 100).toFixed(1)}%`;
  bar.append(c, w);
  td.append(bar, el('span', `${fmt(compute, 2)} s / ${fmt(Math.max(0, stepSeconds - compute), 2)} s`, 'bar-label'));
  return td;
}

function setData(chart: Chart, columns: (number | null)[][]): void {
  chart.data.splice(0, chart.data.length, ...columns);
  chart.plot.setData(chart.data as UPlot.AlignedData);
  chart.container.dataset['points'] = String(columns[0]?.length ?? 0);
}

async function main(): Promise<void> {
  await authenticate();
  byId('dashboard').hidden = false;
  const page = new LivePage();
  page.connect();
}

main().catch((e: unknown) => {
  byId('state').textContent = `error: ${e instanceof Error ? e.message : String(e)}`;
});
