import { connect, type Socket } from 'node:net';
import {
  DATA_LINK_UPGRADE,
  DataLinkParser,
  PROTOCOL_VERSION,
  backoffDelay,
  chunkFrameBytes,
  chunkRecordHead,
  encodeMessage,
  recordLength,
  type ChunkHeader,
  type ShardDescriptor,
} from '@dtrain/protocol';
import type { ChunkSink } from './data-plane.js';
import { WorkerError } from './errors.js';

export interface ShardConnectionsOptions {
  /** The welcome's shards, in range order, each with its data-plane address (`ws://host:port`). */
  readonly shards: readonly ShardDescriptor[];
  readonly workerId: number;
  readonly token: string;
  /** Elements of the job's largest chunk. */
  readonly chunkElements: number;
  /**
   * A weights chunk from a shard. `values` is the link's receive buffer:
   * read (copy) it before returning, it is overwritten by the next chunk.
   */
  readonly onChunk: (header: ChunkHeader, values: Float32Array) => void;
  /** A message frame from a shard (an error report, before it closes the link). */
  readonly onMessage: (frame: Uint8Array) => void;
  readonly log: { warn(message: string): void };
}

/** Socket reads land in one buffer per link, reused (no allocation per read). */
const READ_BUFFER_BYTES = 256 * 1024;
/** The upgrade answer is a few lines. */
const MAX_HANDSHAKE_BYTES = 8192;

interface Link {
  readonly shard: ShardDescriptor;
  socket: Socket | undefined;
  /** True once the upgrade was answered with 101. */
  open: boolean;
  attempt: number;
}

/**
 * A worker's data links to the shard processes of the job it joined: one
 * TCP connection per shard, upgraded from HTTP to `dtrain-data` (see
 * @dtrain/protocol's data-link) and opened with dataHello. Reads go into a
 * reused buffer and each weights chunk's payload is copied once, into a
 * reused chunk buffer, as it arrives; gradient chunks are written as their
 * head and a view of the shared gradients. A link that drops is reopened
 * with backoff (a restarted shard keeps its address); whether the worker
 * stays in the job is the coordinator's call, so these never give up on
 * their own: `close` ends them.
 */
export class ShardConnections {
  readonly #o: ShardConnectionsOptions;
  readonly #links: Link[];
  #closed = false;

  constructor(options: ShardConnectionsOptions) {
    this.#o = options;
    this.#links = options.shards.map((shard) => ({ shard, socket: undefined, open: false, attempt: 0 }));
    for (const link of this.#links) this.#open(link);
  }

  /** A ChunkSink: sends the chunk at `offset` to the shard whose range holds it (dropped while that link is down). */
  readonly send: ChunkSink = (head, payload, offset) => {
    const link = this.#links.find((l) => offset >= l.shard.start && offset < l.shard.end);
    const socket = link?.socket;
    if (socket === undefined || link?.open !== true) return;
    socket.cork();
    socket.write(chunkRecordHead(head, payload.byteLength));
    socket.write(payload);
    socket.uncork();
  };

  close(): void {
    this.#closed = true;
    for (const link of this.#links) link.socket?.destroy();
  }

  #open(link: Link): void {
    if (this.#closed) return;
    const { host, port } = addressOf(link.shard.url);
    const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const received = new Float32Array(this.#o.chunkElements);
    const parser = new DataLinkParser(
      {
        chunkTarget: (header) => {
          if (header.kind !== 'weightsChunk') throw new WorkerError('DTRAIN_WORKER_CHUNK', `a shard sent a ${header.kind}`);
          return header.count <= received.length ? received.subarray(0, header.count) : new Float32Array(header.count);
        },
        onChunk: (header, values) => this.#o.onChunk(header, values),
        onMessage: (frame) => this.#o.onMessage(frame),
      },
      { maxChunkFrameBytes: chunkFrameBytes(this.#o.chunkElements), maxMessageBytes: 1 << 20 },
    );
    let handshake = '';
    const socket = connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback: (bytes: number, buffer: Uint8Array): boolean => {
          let data = buffer.subarray(0, bytes);
          if (!link.open) {
            handshake += Buffer.from(data).toString('latin1');
            const end = handshake.indexOf('\r\n\r\n');
            if (end < 0) {
              if (handshake.length > MAX_HANDSHAKE_BYTES) socket.destroy(new WorkerError('DTRAIN_WORKER_CONNECT', 'no answer to the upgrade'));
              return true;
            }
            const status = handshake.slice(0, handshake.indexOf('\r\n'));
            if (!/^HTTP\/1\.1 101 /.test(status)) {
              socket.destroy(new WorkerError('DTRAIN_WORKER_CONNECT', `the shard answered the upgrade with ${JSON.stringify(status)}`));
              return false;
            }
            link.open = true;
            link.attempt = 0;
            socket.write(helloRecord(this.#o.workerId, this.#o.token));
            // Bytes after the answer are already records.
            data = data.subarray(data.byteLength - (handshake.length - end - 4));
          }
          try {
            parser.feed(data);
          } catch (error) {
            socket.destroy(error instanceof Error ? error : new WorkerError('DTRAIN_WORKER_INTERNAL', String(error)));
            return false;
          }
          return true;
        },
      },
    });
    link.socket = socket;
    link.open = false;
    socket.on('connect', () => {
      const auth = this.#o.token === '' ? '' : `Authorization: Bearer ${this.#o.token}\r\n`;
      socket.write(`GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: Upgrade\r\nUpgrade: ${DATA_LINK_UPGRADE}\r\n${auth}\r\n`);
    });
    socket.on('error', (error) => this.#o.log.warn(`shard ${link.shard.url}: ${error.message}`));
    socket.on('close', () => {
      if (link.socket === socket) {
        link.socket = undefined;
        link.open = false;
      }
      if (this.#closed) return;
      setTimeout(() => this.#open(link), backoffDelay(link.attempt++, { capMs: 2_000 }));
    });
  }
}

/** The dataHello record that opens a link. */
function helloRecord(workerId: number, token: string): Uint8Array {
  const frame = encodeMessage({ type: 'dataHello', protocolVersion: PROTOCOL_VERSION, token, workerId });
  const record = new Uint8Array(4 + frame.byteLength);
  record.set(recordLength(frame.byteLength));
  record.set(frame, 4);
  return record;
}

/** Host and port of a shard's advertised address (`ws://host:port`, the scheme is not looked at). */
export function addressOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  const port = Number(parsed.port === '' ? 7100 : parsed.port);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port };
}
