import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokenMatches } from '@dtrain/protocol';
import { JobError } from './errors.js';
import type { HistoryUpdate, RunHistoryJson } from './run-history.js';

/** What the live page's API reads and does; the coordinator and its RunHistory provide it. */
export interface LiveEndpoints {
  /** The whole history (`GET /api/history`, and the first `history` event of a stream). */
  history(): RunHistoryJson;
  /** Every step, epoch and event as it happens; returns the unsubscribe function. */
  subscribe(listener: (update: HistoryUpdate) => void): () => void;
  /** Evicts a worker; false when there is no such worker. */
  evictWorker(id: number, reason: string): boolean;
  /** A checkpoint at the next step boundary; rejects with RequestRefusedError when the job is not running. */
  checkpointNow(): Promise<{ step: number; dir: string }>;
}

export interface LiveApiOptions {
  /** Expected token; '' or undefined disables the check. */
  readonly token: string | undefined;
  /** /status JSON, pushed as `status` events. */
  readonly status: () => unknown;
  readonly live: LiveEndpoints;
  /** Adds `Secure` to the session cookie (the server speaks https). */
  readonly secure: boolean;
  /** Folder of the built page; default `./page/` beside this module (dist/page/). */
  readonly pageDir?: string;
  /** Most concurrent event streams; default 32. */
  readonly maxStreams?: number;
  /** Keep-alive comment interval, ms; default 15000. */
  readonly keepAliveMs?: number;
  /** Least time between two `status` events of a stream, ms; default 1000. */
  readonly statusIntervalMs?: number;
}

const SESSION_COOKIE = 'dtrain_session';
/** A stream whose client reads slower than this much is buffered for it is dropped. */
const MAX_STREAM_BUFFER_BYTES = 4 << 20;
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};
/** uPlot comes from its npm package, not from the page build. */
const UPLOT_FILES: Readonly<Record<string, string>> = {
  'uPlot.iife.min.js': 'uplot/dist/uPlot.iife.min.js',
  'uPlot.min.css': 'uplot/dist/uPlot.min.css',
};

/**
 * The live page's HTTP side: the page's static files, a session cookie, the
 * history, a server-sent event stream, and two operator actions (evict a
 * worker, checkpoint now). Everything but the static files needs the token,
 * as a Bearer header or the session cookie.
 */
export class LiveApi {
  readonly #o: LiveApiOptions;
  readonly #pageDir: string;
  readonly #streams = new Set<ServerResponse>();
  #unsubscribe: (() => void) | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  #statusTimer: NodeJS.Timeout | undefined;
  /** Something happened since the last `status` event. */
  #changed = false;

  constructor(o: LiveApiOptions) {
    this.#o = o;
    this.#pageDir = o.pageDir ?? fileURLToPath(new URL('./page/', import.meta.url));
  }

  authorized(req: IncomingMessage): boolean {
    return requestAuthorized(req, this.#o.token);
  }

  /** Serves `path` if it is the live page's; false leaves it to the caller. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const method = req.method ?? 'GET';
    if (method === 'GET' && (path === '/' || path.startsWith('/page/'))) {
      await (path === '/' ? this.#page(res, 'index.html', true) : this.#page(res, path.slice('/page/'.length), false));
      return true;
    }
    if (!path.startsWith('/api/')) return false;
    if (!this.authorized(req)) {
      send(res, 401, 'text/plain', 'unauthorized\n');
      return true;
    }
    if (path === '/api/session' && method === 'POST') this.#session(res);
    else if (path === '/api/history' && method === 'GET') sendJson(res, 200, this.#o.live.history());
    else if (path === '/api/events' && method === 'GET') this.#stream(res);
    else if (path === '/api/checkpoint' && method === 'POST') await this.#checkpoint(res);
    else this.#action(res, path, method);
    return true;
  }

  #action(res: ServerResponse, path: string, method: string): void {
    const evict = /^\/api\/workers\/(\d{1,9})\/evict$/.exec(path);
    if (evict !== null && method === 'POST') {
      const id = Number(evict[1]);
      if (this.#o.live.evictWorker(id, 'evicted from the live page')) sendJson(res, 202, { evicted: id });
      else send(res, 404, 'text/plain', `no worker ${id}\n`);
      return;
    }
    send(res, 404, 'text/plain', 'not found\n');
  }

  /** Ends every stream and stops the timers (the server is closing). */
  close(): void {
    for (const res of this.#streams) res.end();
    this.#streams.clear();
    this.#idle();
  }

  async #page(res: ServerResponse, name: string, index: boolean): Promise<void> {
    if (!/^[a-zA-Z0-9._-]+$/.test(name) || name.startsWith('.')) return send(res, 404, 'text/plain', 'not found\n');
    const type = CONTENT_TYPES[extname(name)];
    if (type === undefined) return send(res, 404, 'text/plain', 'not found\n');
    const uplot = UPLOT_FILES[name];
    const file = uplot === undefined ? `${this.#pageDir}/${name}` : createRequire(import.meta.url).resolve(uplot);
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return index ? send(res, 503, 'text/plain', 'page not built\n') : send(res, 404, 'text/plain', 'not found\n');
    }
    res.writeHead(200, { 'content-type': type, 'content-length': body.byteLength, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    res.end(body);
  }

  #session(res: ServerResponse): void {
    const token = this.#o.token ?? '';
    const headers: Record<string, string> = {};
    if (token !== '') headers['set-cookie'] = `${SESSION_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/${this.#o.secure ? '; Secure' : ''}`;
    res.writeHead(204, headers);
    res.end();
  }

  async #checkpoint(res: ServerResponse): Promise<void> {
    try {
      sendJson(res, 200, await this.#o.live.checkpointNow());
    } catch (error) {
      // Refused now, or the run ended before the checkpoint was written.
      if (error instanceof JobError && (error.code === 'DTRAIN_JOB_REQUEST_REFUSED' || error.code === 'DTRAIN_JOB_STOPPED')) {
        send(res, 409, 'text/plain', `${error.message}\n`);
      } else throw error;
    }
  }

  #stream(res: ServerResponse): void {
    if (this.#streams.size >= (this.#o.maxStreams ?? 32)) return send(res, 503, 'text/plain', 'too many event streams\n');
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.socket?.setNoDelay(true);
    this.#streams.add(res);
    const gone = (): void => {
      if (!this.#streams.delete(res)) return;
      if (this.#streams.size === 0) this.#idle();
    };
    // The response's close: the client went away (or close() ended it). The request's own 'close' only means its body was read.
    res.on('close', gone);
    res.on('error', gone);
    write(res, 'status', this.#o.status());
    write(res, 'history', this.#o.live.history());
    if (this.#streams.size === 1) this.#start();
  }

  /** The first stream: subscribe to the history and start the timers. */
  #start(): void {
    this.#unsubscribe = this.#o.live.subscribe((update) => {
      this.#changed = true;
      this.#broadcast(update.type, update.data);
    });
    this.#keepAlive = setInterval(() => {
      for (const res of this.#streams) res.write(': keep-alive\n\n');
    }, this.#o.keepAliveMs ?? 15_000);
    this.#statusTimer = setInterval(() => {
      if (!this.#changed) return;
      this.#changed = false;
      this.#broadcast('status', this.#o.status());
    }, this.#o.statusIntervalMs ?? 1_000);
    this.#keepAlive.unref();
    this.#statusTimer.unref();
  }

  /** No stream left: nothing to push. */
  #idle(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    clearInterval(this.#keepAlive);
    clearInterval(this.#statusTimer);
    this.#keepAlive = undefined;
    this.#statusTimer = undefined;
  }

  #broadcast(event: string, data: unknown): void {
    const frame = eventFrame(event, data);
    for (const res of this.#streams) {
      // A reader that stopped reading is dropped rather than buffered for without end.
      if (res.writableLength > MAX_STREAM_BUFFER_BYTES) res.destroy();
      else res.write(frame);
    }
  }
}

function eventFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function write(res: ServerResponse, event: string, data: unknown): void {
  res.write(eventFrame(event, data));
}

/**
 * True when the request carries the token as `Authorization: Bearer …` or
 * as the session cookie (any request, when there is no token).
 */
export function requestAuthorized(req: IncomingMessage, token: string | undefined): boolean {
  const header = req.headers.authorization ?? '';
  const bearer = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
  const cookie = sessionCookie(req.headers.cookie);
  if (bearer === undefined && cookie === undefined) return tokenMatches(token, '');
  return (bearer !== undefined && tokenMatches(token, bearer)) || (cookie !== undefined && tokenMatches(token, cookie));
}

/** The session cookie's value, or undefined. */
function sessionCookie(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json', `${JSON.stringify(value)}\n`);
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
