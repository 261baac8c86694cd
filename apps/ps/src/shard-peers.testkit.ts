/**
 * Test support only (excluded from the build): the two kinds of peer a
 * shard process talks to, played over real sockets with the real protocol.
 * FakeCoordinator accepts the shard's control connection.
 * FakeWorker dials the shard's data link: an HTTP upgrade to `dtrain-data`,
 * then frames both ways, each as a record behind its u32 LE length.
 * Everything received is queued, and a test takes it in order with a
 * deadline that fails naming what it waited for.
 */
import { request } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  DATA_LINK_UPGRADE,
  DataLinkParser,
  PROTOCOL_VERSION,
  decodeMessage,
  encodeChunk,
  encodeMessage,
  recordLength,
  stateMessages,
  type Chunk,
  type Message,
  type ShardHelloMessage,
  type ShardSetupMessage,
} from '@dtrain/protocol';

/** How long a test waits for one thing from the shard before it fails, ms. */
export const WAIT_MS = 5_000;

type MessageOf<K extends Message['type']> = Extract<Message, { type: K }>;

/** What a received message was, for a failure: its type and its small fields. */
function describe(message: Message): string {
  const fields = Object.entries(message)
    .filter(([key, value]) => key !== 'type' && !ArrayBuffer.isView(value) && key !== 'layout')
    .map(([key, value]) => `${key}: ${JSON.stringify(value)}`);
  return `${message.type} { ${fields.join(', ')} }`;
}

/** A queue of things received, taken in arrival order. */
export class Inbox<T> {
  readonly #items: T[] = [];
  readonly #waiters: { resolve: (item: T) => void; reject: (error: Error) => void }[] = [];
  #ended: string | undefined;

  put(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) this.#items.push(item);
    else waiter.resolve(item);
  }

  /** Nothing more will arrive: waits fail at once instead of at their deadline. */
  end(why: string): void {
    this.#ended ??= why;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error(`${why} while waiting`));
  }

  /** Items received and not taken yet. */
  get size(): number {
    return this.#items.length;
  }

  /** The next item; fails after `timeoutMs` (or when the sender is gone) with `what` in the message. */
  take(what: string, timeoutMs = WAIT_MS): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift() as T);
    if (this.#ended !== undefined) return Promise.reject(new Error(`waiting for ${what}: ${this.#ended}`));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        resolve: (item: T) => {
          clearTimeout(timer);
          resolve(item);
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(new Error(`waiting for ${what}: ${error.message}`));
        },
      };
      this.#waiters.push(waiter);
    });
  }
}

/** Resolves with `promise`, or rejects after `ms` naming `what`. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** The coordinator's end of one shard connection, from its shardHello on. */
export class CoordinatorLink {
  readonly hello: ShardHelloMessage;
  /** The Authorization header the shard dialled with. */
  readonly authorization: string | undefined;
  readonly #ws: WebSocket;
  readonly #inbox: Inbox<Message>;

  constructor(ws: WebSocket, hello: ShardHelloMessage, authorization: string | undefined, inbox: Inbox<Message>) {
    this.#ws = ws;
    this.hello = hello;
    this.authorization = authorization;
    this.#inbox = inbox;
  }

  send(message: Message): void {
    this.#ws.send(encodeMessage(message));
  }

  /** The next message from the shard, which must be a `type`: anything else in between fails the test. */
  async next<K extends Message['type']>(type: K, timeoutMs = WAIT_MS): Promise<MessageOf<K>> {
    const message = await this.#inbox.take(`${type} from the shard`, timeoutMs);
    if (message.type !== type) throw new Error(`expected ${type} from the shard, got ${describe(message)}`);
    return message as MessageOf<K>;
  }

  /** The next message from the shard, whatever it is. */
  nextAny(what: string, timeoutMs = WAIT_MS): Promise<Message> {
    return this.#inbox.take(what, timeoutMs);
  }

  /** Messages received and not taken yet. */
  get pending(): number {
    return this.#inbox.size;
  }

  /**
   * A whole setup as the coordinator sends it: shardSetup, the weights and
   * each optimizer array as shardState frames of one chunk each, shardSetupDone.
   */
  setup(setup: Omit<ShardSetupMessage, 'type'>, weights: Float32Array, arrays: Readonly<Record<string, Float32Array>> = {}, chunkElements = setup.chunkBytes / 4): void {
    this.send({ type: 'shardSetup', ...setup });
    for (const message of stateMessages(setup.generation, 'weights', weights, chunkElements)) this.send(message);
    for (const name of setup.optimizerState?.arrays ?? []) {
      const array = arrays[name];
      if (array === undefined) throw new Error(`setup: no values for optimizer array ${name}`);
      for (const message of stateMessages(setup.generation, name, array, chunkElements)) this.send(message);
    }
    this.send({ type: 'shardSetupDone', generation: setup.generation });
  }

  close(code: number, reason: string): void {
    this.#ws.close(code, reason);
  }
}

/** A coordinator that accepts shard connections on 127.0.0.1 and hands each over after its shardHello. */
export class FakeCoordinator {
  readonly url: string;
  readonly #wss: WebSocketServer;
  readonly #links = new Inbox<CoordinatorLink>();

  private constructor(wss: WebSocketServer) {
    this.#wss = wss;
    this.url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on('connection', (ws, req) => {
      const inbox = new Inbox<Message>();
      ws.on('close', (code, reason) => inbox.end(`the connection closed (${code} ${reason.toString()})`));
      let link: CoordinatorLink | undefined;
      ws.on('message', (data: Buffer) => {
        const message = decodeMessage(data);
        if (link !== undefined) return inbox.put(message);
        if (message.type !== 'shardHello') throw new Error(`a shard's first message must be shardHello, got ${describe(message)}`);
        link = new CoordinatorLink(ws, message, req.headers.authorization, inbox);
        this.#links.put(link);
      });
    });
  }

  static async start(): Promise<FakeCoordinator> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    return new FakeCoordinator(wss);
  }

  /** The next shard connection whose shardHello arrived. */
  nextLink(timeoutMs = WAIT_MS): Promise<CoordinatorLink> {
    return this.#links.take('a shard connection with its shardHello', timeoutMs);
  }

  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

/** An HTTP upgrade to the data link at `url`: 101 with its socket, or the status it was refused with. */
function upgrade(url: string, headers: Readonly<Record<string, string>>): Promise<{ status: number; socket?: Socket; head?: Buffer }> {
  const { hostname, port } = new URL(url);
  return within(
    WAIT_MS,
    `the ${DATA_LINK_UPGRADE} upgrade to ${url}`,
    new Promise((resolve, reject) => {
      const req = request({ host: hostname, port: Number(port), path: '/', headers: { connection: 'Upgrade', upgrade: DATA_LINK_UPGRADE, ...headers } });
      req.on('upgrade', (_res, socket, head) => resolve({ status: 101, socket, head }));
      req.on('response', (res) => {
        resolve({ status: res.statusCode ?? 0 });
        res.resume();
        req.destroy();
      });
      req.on('error', reject);
      req.end();
    }),
  );
}

/** The HTTP status a data-link upgrade to `url` gets with these headers (101 when it is accepted). */
export async function upgradeStatus(url: string, headers: Readonly<Record<string, string>>): Promise<number> {
  const answer = await upgrade(url, headers);
  answer.socket?.destroy();
  return answer.status;
}

export interface FakeWorkerOptions {
  readonly workerId: number;
  /** Token in the dataHello; default 't' (the upgrade always carries `Bearer t`). */
  readonly token?: string;
}

/** A gradient chunk as a worker sends it, for the chunk of the range at `offset`. */
export interface GradientChunk {
  readonly workerId: number;
  readonly step: number;
  readonly version: number;
  readonly sampleCount: number;
  readonly offset: number;
  readonly values: Float32Array;
}

/** One worker's data link to a shard, after its dataHello. */
export class FakeWorker {
  readonly workerId: number;
  /** weightsChunk frames, decoded. */
  readonly weights = new Inbox<Chunk>();
  /** Message frames (an `error` before the shard closes the link). */
  readonly messages = new Inbox<Message>();
  /** Resolves when the link has closed, from either end. */
  readonly closed: Promise<void>;
  readonly #socket: Socket;

  private constructor(workerId: number, socket: Socket, head: Buffer | undefined) {
    this.workerId = workerId;
    this.#socket = socket;
    // Each chunk into an array of its own: the test keeps them.
    const parser = new DataLinkParser(
      {
        chunkTarget: (header) => new Float32Array(header.count),
        onChunk: (header, values) => this.weights.put({ ...header, values }),
        onMessage: (frame) => this.messages.put(decodeMessage(frame)),
      },
      { maxChunkFrameBytes: 2 ** 31, maxMessageBytes: 1 << 20 },
    );
    const feed = (bytes: Buffer): void => {
      try {
        parser.feed(bytes);
      } catch (error) {
        this.#end(`the shard sent a bad record (${error instanceof Error ? error.message : String(error)})`);
        socket.destroy();
      }
    };
    if (head !== undefined && head.byteLength > 0) feed(head);
    socket.on('data', feed);
    socket.on('error', () => {
      // 'close' follows.
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.#end('the link closed');
        resolve();
      });
    });
  }

  /** Upgrades to the data link at `url` and sends the dataHello (nothing comes back until the shard has weights to send). */
  static async connect(url: string, o: FakeWorkerOptions): Promise<FakeWorker> {
    const answer = await upgrade(url, { authorization: 'Bearer t' });
    if (answer.socket === undefined) throw new Error(`worker ${o.workerId}: the data-link upgrade to ${url} was refused with HTTP ${answer.status}`);
    const worker = new FakeWorker(o.workerId, answer.socket, answer.head);
    worker.send({ type: 'dataHello', protocolVersion: PROTOCOL_VERSION, token: o.token ?? 't', workerId: o.workerId });
    return worker;
  }

  #end(why: string): void {
    this.messages.end(why);
    this.weights.end(why);
  }

  send(message: Message): void {
    this.sendFrame(encodeMessage(message));
  }

  /** One frame as it is, as one record. */
  sendFrame(frame: Uint8Array): void {
    this.sendBytes(Buffer.concat([recordLength(frame.byteLength), frame]));
  }

  /** Bytes on the link as they are, outside any record framing. */
  sendBytes(bytes: Uint8Array): void {
    if (!this.#socket.destroyed) this.#socket.write(bytes);
  }

  /** One gradient chunk frame; workerId defaults to this worker's. */
  push(chunk: Omit<GradientChunk, 'workerId'> & { readonly workerId?: number }): void {
    const { values, ...header } = chunk;
    this.sendFrame(encodeChunk({ kind: 'gradientChunk', workerId: this.workerId, ...header }, values));
  }

  /** The next `count` weightsChunk frames. */
  async nextWeights(count: number): Promise<Chunk[]> {
    const chunks: Chunk[] = [];
    for (let i = 0; i < count; i += 1) chunks.push(await this.weights.take(`weightsChunk ${i + 1} of ${count} at worker ${this.workerId}`));
    return chunks;
  }

  /** The next message, which must be an `error`. */
  async nextError(): Promise<MessageOf<'error'>> {
    const message = await this.messages.take(`an error message at worker ${this.workerId}`);
    if (message.type !== 'error') throw new Error(`expected an error at worker ${this.workerId}, got ${describe(message)}`);
    return message;
  }

  close(): void {
    this.#socket.destroy();
  }
}

/**
 * The chunks of one version laid out as the range's weights: each chunk
 * exactly once, covering [start, start + size).
 */
export function weightsOf(chunks: readonly Chunk[], start: number, size: number): Float32Array {
  const weights = new Float32Array(size);
  const seen = new Set<number>();
  for (const chunk of chunks) {
    if (chunk.kind !== 'weightsChunk') throw new Error(`expected weightsChunk frames, got ${chunk.kind}`);
    if (seen.has(chunk.offset)) throw new Error(`the chunk at offset ${chunk.offset} arrived twice`);
    seen.add(chunk.offset);
    weights.set(chunk.values, chunk.offset - start);
  }
  const covered = chunks.reduce((n, chunk) => n + chunk.count, 0);
  if (covered !== size) throw new Error(`the chunks cover ${covered} of ${size} elements`);
  return weights;
}
