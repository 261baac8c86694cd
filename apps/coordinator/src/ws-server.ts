import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { DEFAULT_MAX_MESSAGE_BYTES, HTTP_SERVER_LIMITS, tokenMatches } from '@dtrain/protocol';
import type { Connection, ConnectionHandler } from './transport.js';
import { LiveApi, requestAuthorized, type LiveEndpoints } from './live-api.js';


/** What the HTTP side serves besides the WebSocket. */
export interface HttpEndpoints {
  /** /readyz: true while workers are accepted. */
  ready(): boolean;
  /** /status JSON. */
  status(): unknown;
  /** /metrics in the Prometheus text format, when metrics are enabled. */
  metrics?(): Promise<{ contentType: string; body: string }>;
  /** The live page (/, /page/*) and its API (/api/*); without it those paths are 404. */
  live?: LiveEndpoints;
}

export interface ServerOptions {
  /** TCP port; 0 picks a free one. Default 7070. */
  readonly port?: number;
  /** Interface to bind; default '0.0.0.0'. */
  readonly host?: string;
  /** Shared worker token, checked on the WebSocket upgrade, for /status and for /api/*; '' or undefined disables the check. */
  readonly token?: string;
  /** PEM certificate and key for wss:// and https://. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** Largest WebSocket message accepted, bytes; default the protocol's maximum. */
  readonly maxPayloadBytes?: number;
}

/**
 * The `ws` adapter: one port serves the workers' WebSocket and the HTTP
 * endpoints (/healthz, /readyz, /status, /metrics, and the live page and its
 * /api/* through LiveApi). It turns sockets into
 * `Connection`s and hands frames to the core; it decides nothing about
 * training.
 */
export class CoordinatorServer {
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #options: ServerOptions;
  readonly #live: LiveApi | undefined;
  #nextId = 1;

  constructor(handler: ConnectionHandler, endpoints: HttpEndpoints, options: ServerOptions = {}) {
    this.#options = options;
    this.#http = options.tls === undefined ? createHttpServer(HTTP_SERVER_LIMITS) : createHttpsServer({ ...HTTP_SERVER_LIMITS, cert: options.tls.cert, key: options.tls.key });
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayloadBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
    });
    this.#live =
      endpoints.live === undefined
        ? undefined
        : new LiveApi({ token: options.token, status: () => endpoints.status(), live: endpoints.live, secure: options.tls !== undefined });
    this.#http.on('request', (req, res) => void this.#route(req, res, endpoints));
    this.#http.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head, handler));
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(this.#options.port ?? 7070, this.#options.host ?? '0.0.0.0', () => {
        this.#http.off('error', reject);
        resolve((this.#http.address() as AddressInfo).port);
      });
    });
  }

  /** Closes every socket and the listener. */
  async close(): Promise<void> {
    this.#live?.close();
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  /** Workers: the Bearer header only (the session cookie is for the live page's browser). */
  #authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    return tokenMatches(this.#options.token, header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '');
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, handler: ConnectionHandler): void {
    if (!this.#authorized(req)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#attach(ws, req, handler));
  }

  #attach(ws: WebSocket, req: IncomingMessage, handler: ConnectionHandler): void {
    ws.binaryType = 'nodebuffer';
    const connection: Connection = {
      id: this.#nextId++,
      remoteAddress: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`,
      send: (frame, onWritten) => {
        if (ws.readyState === ws.OPEN) ws.send(frame, { binary: true }, onWritten);
        else onWritten?.();
      },
      // WebSocket fragments of one message: ws writes each part as it is (no copy, no mask on this side).
      sendParts: (parts) => {
        if (ws.readyState !== ws.OPEN) return;
        parts.forEach((part, i) => ws.send(part, { binary: true, fin: i === parts.length - 1 }));
      },
      close: (code, reason) => {
        if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
        // A peer that never answers the close handshake (stopped, half-open) must not hold the socket.
        setTimeout(() => ws.terminate(), 2_000).unref();
      },
      bufferedBytes: () => ws.bufferedAmount,
    };
    let closed = false;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        connection.close(4000, 'text frames are not part of the protocol');
        return;
      }
      handler.onMessage(connection, data);
    });
    ws.on('close', (code, reason) => {
      if (closed) return;
      closed = true;
      handler.onClose(connection, code, reason.toString());
    });
    ws.on('error', () => {
      // 'close' follows every 'error' (e.g. maxPayload exceeded); nothing else to do here.
    });
    handler.onOpen(connection);
  }

  async #route(req: IncomingMessage, res: ServerResponse, endpoints: HttpEndpoints): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (path === '/healthz') return send(res, 200, 'text/plain', 'ok\n');
      if (path === '/readyz') return endpoints.ready() ? send(res, 200, 'text/plain', 'ready\n') : send(res, 503, 'text/plain', 'not ready\n');
      if (path === '/status') {
        if (!requestAuthorized(req, this.#options.token)) return send(res, 401, 'text/plain', 'unauthorized\n');
        return send(res, 200, 'application/json', `${JSON.stringify(endpoints.status(), null, 2)}\n`);
      }
      if (path === '/metrics' && endpoints.metrics !== undefined) {
        const { contentType, body } = await endpoints.metrics();
        return send(res, 200, contentType, body);
      }
      if (this.#live !== undefined && (await this.#live.handle(req, res, path ?? '/'))) return;
      return send(res, 404, 'text/plain', 'not found\n');
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      return send(res, 500, 'text/plain', `${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
