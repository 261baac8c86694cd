import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { renderMetrics, type Registry } from '@dtrain/metrics';
import {
  DATA_LINK_UPGRADE,
  DataLinkParser,
  HTTP_SERVER_LIMITS,
  chunkRecordHead,
  encodeMessage,
  recordLength,
  toErrorMessage,
  tokenMatches,
  type ChunkHeader,
} from '@dtrain/protocol';

/** One worker's data link, as the shard sees it. */
export interface WorkerLink {
  readonly id: number;
  readonly remoteAddress: string;
  /** Set by the shard once the worker's dataHello is accepted. */
  workerId: number | undefined;
  /** Sends one chunk frame given as its 32-byte head and its payload (the payload is written where it lies, not copied). */
  sendChunk(head: Uint8Array, payload: Uint8Array): void;
  /** Sends one message frame. */
  send(frame: Uint8Array): void;
  /** Reports `error` to the worker (an error message) and closes the link. */
  fail(error: unknown): void;
  close(): void;
}

/** What the shard does with a link's traffic; the server only moves bytes. */
export interface DataPlaneHandler {
  onOpen(link: WorkerLink): void;
  /** Where a chunk's payload goes (`header.count` elements); throw a ProtocolError to refuse it. */
  chunkTarget(link: WorkerLink, header: ChunkHeader): Float32Array;
  onChunk(link: WorkerLink, header: ChunkHeader, values: Float32Array): void;
  onMessage(link: WorkerLink, frame: Uint8Array): void;
  onClose(link: WorkerLink): void;
}

export interface DataPlaneServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Checked on the upgrade (Authorization: Bearer); '' accepts any worker. */
  readonly token: string;
  /** Largest chunk frame and message frame a worker may send. */
  readonly maxChunkFrameBytes: () => number;
  readonly maxMessageBytes: number;
  readonly registry: Registry;
  /** /readyz: true once the coordinator has set the shard up. */
  readonly ready: () => boolean;
}

/**
 * The shard's listening side, one port: the workers' data links (an HTTP
 * upgrade to `dtrain-data`, then length-prefixed frames both ways; see
 * @dtrain/protocol's data-link), `/metrics` (its shard series and process
 * metrics), `/healthz` and `/readyz`. It moves bytes and decides nothing.
 */
export class DataPlaneServer {
  readonly #http: Server;
  readonly #o: DataPlaneServerOptions;
  readonly #sockets = new Set<Socket>();
  #nextId = 1;

  constructor(handler: DataPlaneHandler, options: DataPlaneServerOptions) {
    this.#o = options;
    this.#http = createServer(HTTP_SERVER_LIMITS);
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
    for (const socket of this.#sockets) socket.destroy();
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  #upgrade(req: IncomingMessage, duplex: Duplex, head: Buffer, handler: DataPlaneHandler): void {
    const socket = duplex as Socket;
    if ((req.headers.upgrade ?? '').toLowerCase() !== DATA_LINK_UPGRADE) {
      socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const header = req.headers.authorization ?? '';
    if (!tokenMatches(this.#o.token, header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '')) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${DATA_LINK_UPGRADE}\r\nConnection: Upgrade\r\n\r\n`);
    socket.setNoDelay(true);
    this.#sockets.add(socket);
    let closed = false;
    const link: WorkerLink = {
      id: this.#nextId++,
      remoteAddress: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`,
      workerId: undefined,
      sendChunk: (chunkHead, payload) => {
        if (closed) return;
        socket.cork();
        socket.write(chunkRecordHead(chunkHead, payload.byteLength));
        socket.write(payload);
        socket.uncork();
      },
      send: (frame) => {
        if (closed) return;
        socket.cork();
        socket.write(recordLength(frame.byteLength));
        socket.write(frame);
        socket.uncork();
      },
      fail: (error) => {
        if (closed) return;
        link.send(encodeMessage(toErrorMessage(error)));
        link.close();
      },
      close: () => {
        if (closed) return;
        // A peer that sent one bad frame is not trusted with the next: nothing more of it is read.
        closed = true;
        socket.end();
        // A peer that never reads must not hold the socket.
        setTimeout(() => socket.destroy(), 2_000).unref();
      },
    };
    const parser = new DataLinkParser(
      {
        chunkTarget: (chunkHeader) => handler.chunkTarget(link, chunkHeader),
        // The rest of a read that held a bad frame is not handled.
        onChunk: (chunkHeader, values) => {
          if (!closed) handler.onChunk(link, chunkHeader, values);
        },
        onMessage: (frame) => {
          if (!closed) handler.onMessage(link, frame);
        },
      },
      { maxChunkFrameBytes: this.#o.maxChunkFrameBytes(), maxMessageBytes: this.#o.maxMessageBytes },
    );
    const feed = (bytes: Uint8Array): void => {
      if (closed) return;
      try {
        parser.feed(bytes);
      } catch (error) {
        link.fail(error);
      }
    };
    socket.on('data', feed);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      closed = true;
      this.#sockets.delete(socket);
      handler.onClose(link);
    });
    handler.onOpen(link);
    if (head.byteLength > 0) feed(head);
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
