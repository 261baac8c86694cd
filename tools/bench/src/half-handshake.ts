import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * What a raw client does before it stops:
 * - `http-half`: writes the request line and some headers of a WebSocket
 *   upgrade, never the blank line that ends them;
 * - `ws-half-frame`: completes the upgrade (with the token, so it gets a 101)
 *   and writes the first half of a masked binary frame.
 */
export type HalfKind = 'http-half' | 'ws-half-frame';

/** How a raw client's connection ended. */
export interface HalfOutcome {
  readonly kind: HalfKind;
  /** The client sent its half (the connection was made, and for ws-half-frame the 101 came). */
  readonly sentHalf: boolean;
  /** The server closed (or reset) the connection before the client let go of it. */
  readonly closedByServer: boolean;
  /** ms from the half being sent to the server closing, when it did. */
  readonly serverCloseAfterMs: number | undefined;
  /** First line the server answered with, if any (e.g. `HTTP/1.1 408 Request Timeout`). */
  readonly answer: string | undefined;
  readonly error: string | undefined;
}

export interface HalfClientOptions {
  readonly port: number;
  readonly kind: HalfKind;
  /** Bearer token for the upgrade (ws-half-frame needs the right one to get a 101). */
  readonly token: string;
  /**
   * How long the client holds the connection after its half before it
   * vanishes (destroys the socket), ms; `linger` holds it until the server
   * closes it, at most `lingerLimitMs`.
   */
  readonly holdMs: number | 'linger';
  readonly lingerLimitMs: number;
  /** The whole attempt gives up after this (a connect or a 101 that never comes). */
  readonly connectTimeoutMs?: number;
}

function upgradeHead(port: number, token: string, complete: boolean): string {
  const lines = [
    'GET / HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
  ];
  if (!complete) return `${lines.slice(0, 4).join('\r\n')}\r\n`; // half: no key, no version, no blank line
  return `${[...lines, `Authorization: Bearer ${token}`].join('\r\n')}\r\n\r\n`;
}

/** The first half of a masked binary frame announcing `payload` bytes (a client must mask). */
export function halfFrame(payload = 4096): Buffer {
  const header = Buffer.alloc(4 + 4);
  header[0] = 0x82; // FIN, binary
  header[1] = 0x80 | 126; // masked, 16-bit length
  header.writeUInt16BE(payload, 2);
  randomBytes(4).copy(header, 4);
  return Buffer.concat([header, randomBytes(Math.floor(payload / 2))]);
}

/** One raw client: connects, sends its half, then vanishes or lingers. Never rejects. */
export function halfClient(o: HalfClientOptions): Promise<HalfOutcome> {
  return new Promise((resolve) => {
    const socket: Socket = connect(o.port, '127.0.0.1');
    let sentAt: number | undefined;
    let answer: string | undefined;
    let letGo = false;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (closedByServer: boolean, error?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({
        kind: o.kind,
        sentHalf: sentAt !== undefined,
        closedByServer,
        serverCloseAfterMs: closedByServer && sentAt !== undefined ? Date.now() - sentAt : undefined,
        answer,
        error,
      });
    };
    const giveUp = setTimeout(() => finish(false, 'no connection or upgrade in time'), o.connectTimeoutMs ?? 10_000);
    const sent = (): void => {
      sentAt = Date.now();
      clearTimeout(giveUp);
      if (o.holdMs === 'linger') {
        timer = setTimeout(() => finish(false, `server kept it open for ${o.lingerLimitMs} ms`), o.lingerLimitMs);
      } else {
        timer = setTimeout(() => {
          letGo = true;
          finish(false);
        }, o.holdMs);
      }
    };
    socket.setNoDelay(true);
    socket.once('connect', () => {
      if (o.kind === 'http-half') {
        socket.write(upgradeHead(o.port, o.token, false));
        sent();
      } else {
        socket.write(upgradeHead(o.port, o.token, true));
      }
    });
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      if (answer === undefined) {
        head += chunk.toString('latin1');
        const eol = head.indexOf('\r\n');
        if (eol >= 0) answer = head.slice(0, eol);
      }
      if (o.kind === 'ws-half-frame' && sentAt === undefined && answer !== undefined) {
        if (!answer.startsWith('HTTP/1.1 101 ')) return finish(false, `upgrade refused: ${answer}`);
        socket.write(halfFrame());
        sent();
      }
    });
    socket.on('error', (error) => {
      if (!letGo) finish(sentAt !== undefined, error.message);
    });
    socket.on('close', () => {
      if (!letGo) finish(sentAt !== undefined);
    });
  });
}

export interface WaveOptions {
  readonly port: number;
  readonly token: string;
  /** Clients in all. */
  readonly clients: number;
  /** Clients per wave, started together. */
  readonly perWave: number;
  /** Pause between the starts of two waves, ms. */
  readonly waveGapMs: number;
  /** Every n-th client completes the upgrade and sends half a frame; the rest half an HTTP request. */
  readonly wsEvery: number;
  /** Hold after the half before vanishing, ms: uniform in [min, max]. */
  readonly holdMs: readonly [number, number];
}

/** Runs `clients` vanishing half-handshake clients in waves; resolves with every outcome. */
export async function halfHandshakeWaves(o: WaveOptions): Promise<HalfOutcome[]> {
  const all: Promise<HalfOutcome>[] = [];
  const waves = Math.ceil(o.clients / o.perWave);
  for (let wave = 0; wave < waves; wave += 1) {
    for (let i = wave * o.perWave; i < Math.min(o.clients, (wave + 1) * o.perWave); i += 1) {
      const kind: HalfKind = (i + 1) % o.wsEvery === 0 ? 'ws-half-frame' : 'http-half';
      const [lo, hi] = o.holdMs;
      all.push(halfClient({ port: o.port, kind, token: o.token, holdMs: lo + Math.random() * (hi - lo), lingerLimitMs: 0 }));
    }
    if (wave < waves - 1) await new Promise((r) => setTimeout(r, o.waveGapMs));
  }
  return Promise.all(all);
}
