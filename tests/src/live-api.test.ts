import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Cluster, elasticJob } from './cluster.js';
import { tempDir, waitFor, writeJob } from './harness.js';

/**
 * The live page's API on a real coordinator with two real workers: the
 * token (header or session cookie) guards /api/*, the event stream pushes
 * steps as they commit, the operator actions act on the running job, and
 * history.json is written at the end.
 */
const EPOCHS = 5;

interface SseEvent {
  readonly event: string;
  readonly data: unknown;
}

/** An open /api/events stream, parsed as it arrives. */
class EventStream {
  readonly events: SseEvent[] = [];
  readonly #abort = new AbortController();
  readonly done: Promise<void>;

  constructor(url: string, cookie: string) {
    this.done = this.#read(url, cookie).catch(() => undefined);
  }

  async #read(url: string, cookie: string): Promise<void> {
    const res = await fetch(url, { headers: { cookie }, signal: this.#abort.signal });
    if (res.status !== 200 || res.body === null) throw new Error(`events: HTTP ${res.status}`);
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const bytes of res.body) {
      buffered += decoder.decode(bytes as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event !== undefined && data !== undefined) this.events.push({ event, data: JSON.parse(data) as unknown });
      }
    }
  }

  of<T>(name: string): T[] {
    return this.events.filter((e) => e.event === name).map((e) => e.data as T);
  }

  close(): void {
    this.#abort.abort();
  }
}

describe('live API: the page data and the operator actions over HTTP', () => {
  const tmp = tempDir('live-api');
  const cluster = new Cluster(writeJob(tmp.dir, elasticJob('live', { minWorkers: 1 }, { epochs: EPOCHS }, { everySteps: 0, keep: 20 })), tmp.dir);
  const base = (): string => `http://127.0.0.1:${cluster.port}`;
  const bearer = (): Record<string, string> => ({ authorization: `Bearer ${cluster.token}` });
  let cookie = '';
  let stream: EventStream | undefined;

  afterAll(async () => {
    stream?.close();
    await cluster.stop();
    tmp.cleanup();
  });

  it('answers 401 without the token, and sets a session cookie for the right one', async () => {
    await cluster.startCoordinator();
    for (const [method, path] of [
      ['GET', '/api/history'],
      ['GET', '/api/events'],
      ['POST', '/api/checkpoint'],
      ['POST', '/api/workers/1/evict'],
      ['POST', '/api/session'],
    ] as const) {
      expect((await fetch(`${base()}${path}`, { method })).status, `${method} ${path}`).toBe(401);
      expect((await fetch(`${base()}${path}`, { method, headers: { authorization: 'Bearer wrong' } })).status, `${method} ${path}`).toBe(401);
      expect((await fetch(`${base()}${path}`, { method, headers: { cookie: 'dtrain_session=wrong' } })).status, `${method} ${path}`).toBe(401);
    }
    const session = await fetch(`${base()}/api/session`, { method: 'POST', headers: bearer() });
    expect(session.status).toBe(204);
    const setCookie = session.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^dtrain_session=[^;]+; HttpOnly; SameSite=Strict; Path=\//);
    cookie = setCookie.split(';')[0] as string;
    // The cookie opens /status and /api/* alike.
    expect((await fetch(`${base()}/status`, { headers: { cookie } })).status).toBe(200);
    const history = (await (await fetch(`${base()}/api/history`, { headers: { cookie } })).json()) as Record<string, unknown>;
    expect(history).toMatchObject({ version: 1, job: 'live', stride: 1, maxPoints: 2000, steps: [], epochs: [] });
    // Not running yet: no checkpoint on demand.
    expect((await fetch(`${base()}/api/checkpoint`, { method: 'POST', headers: { cookie } })).status).toBe(409);
    expect((await fetch(`${base()}/api/workers/99/evict`, { method: 'POST', headers: { cookie } })).status).toBe(404);
    // The page's files need no token; uPlot comes from its package.
    const uplot = await fetch(`${base()}/page/uPlot.iife.min.js`);
    expect(uplot.status).toBe(200);
    expect(uplot.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${base()}/page/..%2Fcoordinator.js`)).status).toBe(404);
  });

  it('streams status, the history, then steps in increasing order', async () => {
    stream = new EventStream(`${base()}/api/events`, cookie);
    const s = stream;
    await waitFor('the first events', () => (s.of('history').length > 0 ? true : undefined), 10_000);
    expect(s.events[0]?.event).toBe('status');
    expect(s.events[1]?.event).toBe('history');
    cluster.startWorker();
    cluster.startWorker();
    await waitFor('20 step events', () => (s.of('step').length >= 20 ? true : undefined), 60_000);
    const steps = s.of<{ step: number; samples: number }>('step').map((p) => p.step);
    for (let i = 1; i < steps.length; i += 1) expect(steps[i]).toBeGreaterThan(steps[i - 1] as number);
    expect(s.of('status').length).toBeGreaterThan(1);
    expect(s.of<{ kind: string }>('event').some((e) => e.kind === 'joined')).toBe(true);
  });

  it('POST /api/checkpoint writes a checkpoint at the next step boundary', async () => {
    const res = await fetch(`${base()}/api/checkpoint`, { method: 'POST', headers: { cookie } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { step: number; dir: string };
    expect(body.step).toBeGreaterThan(0);
    expect(basename(body.dir)).toBe(`ckpt-${String(body.step).padStart(10, '0')}`);
    expect(existsSync(body.dir)).toBe(true);
  });

  it('evicting worker 1 drops it; it reconnects and rejoins by itself', async () => {
    const s = stream as EventStream;
    await cluster.until('two workers training', (st) => cluster.activeCount(st) === 2);
    const res = await fetch(`${base()}/api/workers/1/evict`, { method: 'POST', headers: { cookie } });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ evicted: 1 });
    const events = (): { kind: string; workerId?: number }[] => s.of('event');
    const evictedAt = await waitFor('the eviction event', () => {
      const i = events().findIndex((e) => e.kind === 'evicted' && e.workerId === 1);
      return i >= 0 ? i : undefined;
    });
    await waitFor('worker 1 rejoined', () => (events().slice(evictedAt).some((e) => e.kind === 'joined' && e.workerId === 1) ? true : undefined), 30_000);
    await cluster.until('worker 1 back in /status', (st) => st.workers.some((w) => w.id === 1 && (w.state === 'joined' || w.state === 'training')), 30_000);
    expect(cluster.workers.every((w) => w.child.exitCode === null)).toBe(true);
  });

  it('writes history.json when the job ends', async () => {
    const exited = await cluster.coordinator.exited;
    expect(exited.code).toBe(0);
    const history = JSON.parse(readFileSync(join(cluster.out, 'history.json'), 'utf8')) as { steps: unknown[]; epochs: unknown[]; events: { kind: string }[] };
    expect(history.steps.length).toBeGreaterThan(0);
    expect(history.epochs).toHaveLength(EPOCHS);
    expect(history.events.some((e) => e.kind === 'checkpoint')).toBe(true);
    expect(history.events.some((e) => e.kind === 'evicted')).toBe(true);
    await (stream as EventStream).done;
  });
});
