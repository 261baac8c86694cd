import WebSocket from 'ws';
import { DEFAULT_MAX_MESSAGE_BYTES, PROTOCOL_VERSION, backoffDelay, encodeMessage, type ShardDescriptor } from '@dtrain/protocol';
import type { ChunkSink } from './data-plane.js';

export interface ShardConnectionsOptions {
  /** The welcome's shards, in range order, each with its data-plane URL. */
  readonly shards: readonly ShardDescriptor[];
  readonly workerId: number;
  readonly token: string;
  readonly ca?: string | Buffer;
  /** Every binary message from any shard (weights chunks, errors), in each connection's order. */
  readonly onFrame: (frame: Buffer) => void;
  readonly log: { warn(message: string): void };
}

interface Link {
  readonly shard: ShardDescriptor;
  ws: WebSocket | undefined;
  attempt: number;
}

/** Fills the WebSocket masking key with zeros: ws then skips masking (see the coordinator connection). */
function zeroMask(mask: Uint8Array): void {
  mask.fill(0);
}

/**
 * A worker's data-plane connections to the shard processes of the job it
 * joined: one per shard, each opened with dataHello (worker id and token)
 * and reopened with backoff whenever it drops (a restarted shard keeps its
 * URL). Gradient chunks go to the shard that owns their offset; weights
 * chunks from every shard go to `onFrame`. Whether the worker stays in the
 * job is the coordinator's call, so these never give up on their own;
 * `close` ends them.
 */
export class ShardConnections {
  readonly #o: ShardConnectionsOptions;
  readonly #links: Link[];
  #closed = false;

  constructor(options: ShardConnectionsOptions) {
    this.#o = options;
    this.#links = options.shards.map((shard) => ({ shard, ws: undefined, attempt: 0 }));
    for (const link of this.#links) this.#open(link);
  }

  /** A ChunkSink: sends the chunk at `offset` to the shard whose range holds it (dropped while that one is down). */
  readonly send: ChunkSink = (header, payload, offset) => {
    const ws = this.#links.find((l) => offset >= l.shard.start && offset < l.shard.end)?.ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) return;
    // Two fragments of one message: the header, then the payload straight from shared memory.
    ws.send(header, { binary: true, fin: false });
    ws.send(payload, { binary: true, fin: true });
  };

  close(): void {
    this.#closed = true;
    for (const link of this.#links) link.ws?.close(1000, 'worker leaving the job');
  }

  #open(link: Link): void {
    if (this.#closed) return;
    const headers: Record<string, string> = {};
    if (this.#o.token !== '') headers.authorization = `Bearer ${this.#o.token}`;
    const ws = new WebSocket(link.shard.url, {
      headers,
      maxPayload: DEFAULT_MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
      generateMask: zeroMask,
      ...(this.#o.ca === undefined ? {} : { ca: this.#o.ca }),
    });
    ws.binaryType = 'nodebuffer';
    link.ws = ws;
    ws.on('open', () => {
      link.attempt = 0;
      ws.send(encodeMessage({ type: 'dataHello', protocolVersion: PROTOCOL_VERSION, token: this.#o.token, workerId: this.#o.workerId }));
    });
    ws.on('message', (data: Buffer) => this.#o.onFrame(data));
    ws.on('error', (error) => this.#o.log.warn(`shard ${link.shard.url}: ${error.message}`));
    ws.on('close', () => {
      if (link.ws === ws) link.ws = undefined;
      if (this.#closed) return;
      setTimeout(() => this.#open(link), backoffDelay(link.attempt++, { capMs: 2_000 }));
    });
  }
}
