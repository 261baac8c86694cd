import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveApi, requestAuthorized, type LiveEndpoints } from './live-api.js';
import { RunHistory } from './run-history.js';
import { RequestRefusedError } from './errors.js';

const TOKEN = 'tok; with=odd chars';

interface Harness {
  readonly base: string;
  readonly api: LiveApi;
  readonly history: RunHistory;
  readonly listeners: () => number;
}

const servers: Server[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(pageFiles: Record<string, string> | undefined, extra: Partial<LiveEndpoints> = {}, maxStreams = 32): Promise<Harness> {
  const pageDir = mkdtempSync(join(tmpdir(), 'live-page-'));
  dirs.push(pageDir);
  for (const [name, body] of Object.entries(pageFiles ?? {})) writeFileSync(join(pageDir, name), body);
  const history = new RunHistory({ job: 'unit' });
  let listeners = 0;
  const live: LiveEndpoints = {
    history: () => history.toJSON(),
    subscribe: (l) => {
      listeners += 1;
      const off = history.subscribe(l);
      return () => {
        listeners -= 1;
        off();
      };
    },
    evictWorker: (id) => id === 1,
    checkpointNow: () => Promise.reject(new RequestRefusedError('the job is waiting, not running')),
    ...extra,
  };
  const api = new LiveApi({ token: TOKEN, status: () => ({ state: 'running' }), live, secure: false, pageDir, maxStreams });
  const server = createServer((req, res) => {
    void api.handle(req, res, (req.url ?? '/').split('?')[0] ?? '/').then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, api, history, listeners: () => listeners };
}

const cookieOf = (token: string): string => `dtrain_session=${encodeURIComponent(token)}`;

describe('LiveApi', () => {
  it('answers / with 503 until the page is built, then serves it and the page files with their types', async () => {
    const bare = await start(undefined);
    expect((await fetch(`${bare.base}/`)).status).toBe(503);
    const h = await start({ 'index.html': '<!doctype html>', 'app.js': 'x', 'app.css': 'y', 'app.js.map': '{}', '.hidden.js': 'z' });
    const index = await fetch(`${h.base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect((await fetch(`${h.base}/page/app.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${h.base}/page/app.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${h.base}/page/app.js.map`)).headers.get('content-type')).toBe('application/json');
    expect((await fetch(`${h.base}/page/uPlot.min.css`)).status).toBe(200);
    for (const bad of ['missing.js', '.hidden.js', 'a%2Fb.js', 'notes.txt']) expect((await fetch(`${h.base}/page/${bad}`)).status, bad).toBe(404);
  });

  it('takes the token as a Bearer header or as the session cookie, whatever characters it has', async () => {
    const h = await start(undefined);
    expect((await fetch(`${h.base}/api/history`)).status).toBe(401);
    expect((await fetch(`${h.base}/api/session`, { method: 'POST', headers: { cookie: cookieOf('nope') } })).status).toBe(401);
    const session = await fetch(`${h.base}/api/session`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(session.status).toBe(204);
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(cookie).toBe(cookieOf(TOKEN));
    expect((await fetch(`${h.base}/api/history`, { headers: { cookie: `other=1; ${cookie}` } })).status).toBe(200);
    expect(requestAuthorized({ headers: {} } as never, undefined)).toBe(true);
    expect(requestAuthorized({ headers: { authorization: 'Bearer x', cookie: cookieOf(TOKEN) } } as never, TOKEN)).toBe(true);
  });

  it('maps the actions: 202 evicted, 404 unknown worker, 409 refused checkpoint', async () => {
    const h = await start(undefined);
    const post = (path: string): Promise<Response> => fetch(`${h.base}${path}`, { method: 'POST', headers: { cookie: cookieOf(TOKEN) } });
    const evicted = await post('/api/workers/1/evict');
    expect([evicted.status, await evicted.json()]).toEqual([202, { evicted: 1 }]);
    expect((await post('/api/workers/2/evict')).status).toBe(404);
    const refused = await post('/api/checkpoint');
    expect([refused.status, await refused.text()]).toEqual([409, 'the job is waiting, not running\n']);
  });

  it('streams updates, refuses streams beyond the limit, and forgets closed ones', async () => {
    const h = await start(undefined, {}, 2);
    const open = async (): Promise<{ res: Response; abort: AbortController }> => {
      const abort = new AbortController();
      const res = await fetch(`${h.base}/api/events`, { headers: { cookie: cookieOf(TOKEN) }, signal: abort.signal });
      return { res, abort };
    };
    const a = await open();
    const b = await open();
    expect([a.res.status, b.res.status]).toEqual([200, 200]);
    expect(a.res.headers.get('content-type')).toBe('text/event-stream');
    expect((await open()).res.status).toBe(503);
    expect(h.listeners()).toBe(1);
    h.history.workerEvent('joined', 3, 'host');
    const reader = (a.res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('event: event')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toMatch(/^event: status\ndata: \{"state":"running"\}\n\nevent: history\n/);
    expect(text).toContain('data: {"t":');
    a.abort.abort();
    b.abort.abort();
    for (let i = 0; i < 50 && h.listeners() > 0; i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(h.listeners()).toBe(0);
    expect((await open()).res.status).toBe(200);
    h.api.close();
  });
});
