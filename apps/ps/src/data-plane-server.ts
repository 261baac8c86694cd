import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { renderMetrics, type Registry } from '@dtrain/metrics';
import { tokenMatches } from '@dtrain/protocol';

/** One worker's data-plane connection, as the shard sees it. */
export interface WorkerLink {
  readonly id: number;
  readonly remoteAddress: string;
  /** Set by the shard once the worker's dataHello is accepted. */
  workerId: number | undefined;
  /** Sends one frame given as parts (WebSocket fragments of one message; the parts are not copied). */
  sendParts(parts: readonly Uint8Array[]): void;
  send(frame: Uint8Array): void;
  close(code: number, reason: string): void;
}

export interface DataPlaneHandler {
  onOpen(link: WorkerLink): void;
  onFrame(link: WorkerLink, frame: Buffer): void;
  onClose(link: WorkerLink): void;
}

export interface DataPlaneServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Checked on the upgrade (Authorization: Bearer); '' accepts any worker. */
  readonly token: string;
  /** Largest WebSocket message accepted (one gradient chunk frame, or a control message). */
  readonly maxPayloadBytes: number;
  readonly registry: Registry;
  /** /readyz: true once the coordinator has set the shard up. */
  readonly ready: () => boolean;
}

/**
 * The shard's listening side: workers' WebSocket data-plane connections,
 * `/metrics` (its shard series and process metrics), `/healthz` and
 * `/readyz`, all on one port. It moves frames and decides nothing.
 */
export class DataPlaneServer {
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #o: DataPlaneServerOptions;
  #nextId = 1;

  constructor(handler: DataPlaneHandler, options: DataPlaneServerOptions) {
    this.#o = options;
    this.#http = createServer();
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes, perMessageDeflate: false });
    this.#http.on('request', (req, res) => void this.#route(req, res));
    this.#http.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head, handler));
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(this.#o.port, this.#o.host, () => {
        this.#http.off('error', reject);
        resolve((this.#http.address() as AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, handler: DataPlaneHandler): void {
    const header = req.headers.authorization ?? '';
    if (!tokenMatches(this.#o.token, header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '')) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#attach(ws, req, handler));
  }

  #attach(ws: WebSocket, req: IncomingMessage, handler: DataPlaneHandler): void {
    ws.binaryType = 'nodebuffer';
    const link: WorkerLink = {
      id: this.#nextId++,
      remoteAddress: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`,
      workerId: undefined,
      sendParts: (parts) => {
        if (ws.readyState !== ws.OPEN) return;
        parts.forEach((part, i) => ws.send(part, { binary: true, fin: i === parts.length - 1 }));
      },
      send: (frame) => {
        if (ws.readyState === ws.OPEN) ws.send(frame, { binary: true });
      },
      close: (code, reason) => {
        if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
        setTimeout(() => ws.terminate(), 2_000).unref();
      },
    };
    let closed = false;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return link.close(4000, 'text frames are not part of the protocol');
      handler.onFrame(link, data);
    });
    ws.on('close', () => {
      if (closed) return;
      closed = true;
      handler.onClose(link);
    });
    ws.on('error', () => {
      // 'close' follows.
    });
    handler.onOpen(link);
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (path === '/healthz') return send(res, 200, 'text/plain', 'ok\n');
      if (path === '/readyz') return this.#o.ready() ? send(res, 200, 'text/plain', 'ready\n') : send(res, 503, 'text/plain', 'not ready\n');
      if (path === '/metrics') {
        const { contentType, body } = await renderMetrics(this.#o.registry);
        return send(res, 200, contentType, body);
      }
      return send(res, 404, 'text/plain', 'not found\n');
    } catch (error) {
      return send(res, 500, 'text/plain', `${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
