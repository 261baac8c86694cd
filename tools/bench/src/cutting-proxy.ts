import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * How long a proxied connection lives once it is a WebSocket (the 101 went
 * back to the client), ms, given its index among the connections accepted
 * while cutting; `undefined` leaves it alone.
 */
export type Lifetime = (index: number) => number | undefined;

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  upgraded: boolean;
  cutTimer: NodeJS.Timeout | undefined;
}

/** What the proxy counted. */
export interface ProxyCounts {
  /** Client connections accepted, in all. */
  readonly accepted: number;
  /** Accepted while cutting: reconnects of clients whose connection was cut. */
  readonly acceptedWhileCutting: number;
  /** Connection pairs the proxy destroyed on schedule. */
  readonly cuts: number;
  /** Pairs that completed a WebSocket upgrade (HTTP 101 seen from upstream). */
  readonly upgrades: number;
  /** Pairs still open. */
  readonly open: number;
}

/**
 * A loopback TCP proxy in front of the coordinator for real `dtrain worker`
 * processes. Passing through, it is invisible. While cutting, it destroys
 * each connection pair (both sockets, as a dropped link or a killed NAT entry
 * would) `lifetime(i)` ms after the coordinator's `101 Switching Protocols`
 * went back to the worker: the worker has seen its WebSocket open (so its
 * backoff starts from the first step again) and then loses it, and its own
 * reconnect logic dials again, until `passThrough`.
 */
export class CuttingProxy {
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  readonly #upstreamPort: number;
  #lifetime: Lifetime | undefined;
  #accepted = 0;
  #acceptedWhileCutting = 0;
  #cuts = 0;
  #upgrades = 0;

  constructor(upstreamPort: number) {
    this.#upstreamPort = upstreamPort;
    this.#server = createServer((client) => this.#accept(client));
  }

  /** Listens on a free loopback port; resolves with it. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => resolve((this.#server.address() as AddressInfo).port));
    });
  }

  get counts(): ProxyCounts {
    return { accepted: this.#accepted, acceptedWhileCutting: this.#acceptedWhileCutting, cuts: this.#cuts, upgrades: this.#upgrades, open: this.#pairs.size };
  }

  /**
   * Starts cutting: every open WebSocket pair now, every later one on its
   * schedule, until `passThrough`.
   */
  cut(lifetime: Lifetime): void {
    this.#acceptedWhileCutting = 0;
    this.#lifetime = lifetime;
    for (const pair of this.#pairs) if (pair.upgraded) this.#schedule(pair, 0);
  }

  /** Stops cutting (connections already scheduled are still cut). */
  passThrough(): void {
    this.#lifetime = undefined;
  }

  /** Closes the listener and every pair. */
  async close(): Promise<void> {
    this.passThrough();
    for (const pair of this.#pairs) this.#destroy(pair);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.#accepted += 1;
    const index = this.#lifetime === undefined ? -1 : this.#acceptedWhileCutting++;
    const upstream = connect(this.#upstreamPort, '127.0.0.1');
    const pair: Pair = { client, upstream, upgraded: false, cutTimer: undefined };
    this.#pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    let head = '';
    upstream.on('data', (chunk: Buffer) => {
      if (!pair.upgraded && head.length < 64) {
        head += chunk.toString('latin1', 0, Math.min(chunk.length, 64));
        if (/^HTTP\/1\.1 101 /.test(head)) {
          pair.upgraded = true;
          this.#upgrades += 1;
          // After the 101 is written: the worker must see its socket open.
          if (client.write(chunk)) this.#schedule(pair, index);
          else client.once('drain', () => this.#schedule(pair, index));
          return;
        }
      }
      if (!client.write(chunk)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    });
    client.on('data', (chunk: Buffer) => {
      if (!upstream.write(chunk)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
    });
    const end = (): void => this.#destroy(pair);
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  }

  #schedule(pair: Pair, index: number): void {
    if (this.#lifetime === undefined || pair.cutTimer !== undefined || !this.#pairs.has(pair)) return;
    const ms = this.#lifetime(index);
    if (ms === undefined) return;
    pair.cutTimer = setTimeout(() => {
      if (!this.#pairs.has(pair)) return;
      this.#cuts += 1;
      this.#destroy(pair);
    }, ms);
  }

  #destroy(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return;
    clearTimeout(pair.cutTimer);
    pair.client.destroy();
    pair.upstream.destroy();
  }
}
