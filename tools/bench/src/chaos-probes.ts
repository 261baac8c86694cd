import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * What the chaos soak watches from outside: the job's progress (polled from
 * /status, so it sees what an operator sees, through coordinator restarts)
 * and the two hostile clients it injects once per run.
 */

/** dtrain's frame prefix: magic 'dt' and protocol 3 (were it stale, decoding would only fail one check earlier). */
const FRAME_PREFIX = [0x64, 0x74, 3] as const;

interface StatusSample {
  readonly state: string;
  readonly step: number;
  readonly samples: number;
}

/**
 * Polls /status every `intervalMs`. A commit is a step number higher than
 * the one read just before (a coordinator restart or a rollback lowers it;
 * the steps computed again count as commits when they come). The longest
 * stall is the longest time between two commits, or from the last one to
 * now, with `intervalMs` resolution.
 */
export class StepWatch {
  readonly #url: string;
  readonly #token: string;
  readonly #timer: NodeJS.Timeout;
  #previous: StatusSample | undefined;
  #polling = false;
  firstCommitAt: number | undefined;
  lastCommitAt: number | undefined;
  longestStallMs = 0;
  /** When the longest stall began, ms since the watch started. */
  longestStallFromMs = 0;
  commits = 0;
  /** Steps committed in each whole second since t0 (the timeline a fault's cost is read from). */
  readonly perSecond: number[] = [];
  /** Samples those steps applied, per second. */
  readonly samplesPerSecond: number[] = [];
  readonly #t0: number;

  /** `t0`: the time (Date.now()) that second 0 of the timeline starts at. */
  constructor(port: number, token: string, t0 = Date.now(), intervalMs = 200) {
    this.#t0 = t0;
    this.#url = `http://127.0.0.1:${port}/status`;
    this.#token = token;
    this.#timer = setInterval(() => void this.#poll(), intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#stall(Date.now());
  }

  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const response = await fetch(this.#url, { headers: { authorization: `Bearer ${this.#token}` }, signal: AbortSignal.timeout(2_000) });
      if (!response.ok) return;
      const s = (await response.json()) as StatusSample;
      const now = Date.now();
      if (this.#previous !== undefined && s.step > this.#previous.step) {
        this.commits += s.step - this.#previous.step;
        const second = Math.floor((now - this.#t0) / 1000);
        while (this.perSecond.length <= second) this.perSecond.push(0);
        while (this.samplesPerSecond.length <= second) this.samplesPerSecond.push(0);
        this.perSecond[second] = (this.perSecond[second] ?? 0) + s.step - this.#previous.step;
        this.samplesPerSecond[second] = (this.samplesPerSecond[second] ?? 0) + Math.max(0, s.samples - this.#previous.samples);
        this.firstCommitAt ??= now;
        this.#stall(now);
        this.lastCommitAt = now;
      }
      this.#previous = s;
    } catch {
      // The coordinator is restarting: nothing committed while it is away.
    } finally {
      this.#polling = false;
    }
  }

  #stall(now: number): void {
    if (this.lastCommitAt === undefined) return;
    const stall = now - this.lastCommitAt;
    if (stall > this.longestStallMs) {
      this.longestStallMs = stall;
      this.longestStallFromMs = this.lastCommitAt - this.#t0;
    }
  }
}

export interface GarbageResult {
  readonly connections: number;
  readonly frames: number;
  /** Connections the server closed within the wait (it must close every one). */
  readonly closedByServer: number;
}

/**
 * A rogue client that holds the job's token (an insider's bug, not an
 * outsider: one without the token never gets past the upgrade's 401):
 * `connections` WebSocket connections to the coordinator, each sending one
 * to three binary frames of random bytes, some starting like a dtrain frame.
 * Resolves once the server has closed every connection or `waitMs` passed.
 */
export async function garbageFrames(port: number, token: string, connections: number, random: () => number, waitMs = 5_000): Promise<GarbageResult> {
  let frames = 0;
  const results = await Promise.all(
    Array.from({ length: connections }, async () => {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      const closed = new Promise<boolean>((resolve) => {
        socket.once('close', () => resolve(true));
        setTimeout(() => resolve(false), waitMs).unref();
      });
      const key = randomBytes(16).toString('base64');
      socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${token}\r\n\r\n`);
      if (await upgraded(socket)) {
        const count = 1 + Math.floor(random() * 3);
        for (let i = 0; i < count; i += 1) {
          const payload = randomBytes(1 + Math.floor(random() * 2048));
          // Half the frames start with a plausible dtrain prefix (magic 'dt', the protocol version, a type byte) so decoding gets past the first check.
          if (random() < 0.5 && payload.length >= 4) payload.set([...FRAME_PREFIX, Math.floor(random() * 40)], 0);
          socket.write(clientFrame(payload, random));
          frames += 1;
        }
      }
      const wasClosed = await closed;
      socket.destroy();
      return wasClosed;
    }),
  );
  return { connections, frames, closedByServer: results.filter(Boolean).length };
}

/** Random bytes on a raw TCP connection to a shard's data port (not even a valid upgrade); whether the shard closed it within `waitMs`. */
export async function garbageBytes(port: number, bytes: number, waitMs = 5_000): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const closed = new Promise<boolean>((resolve) => {
    socket.once('close', () => resolve(true));
    setTimeout(() => resolve(false), waitMs).unref();
  });
  socket.write(randomBytes(bytes));
  // Read (and drop) the answer: a paused socket never sees the server's FIN.
  socket.resume();
  const result = await closed;
  socket.destroy();
  return result;
}

/** Waits for the end of the HTTP response head; whether it was 101 Switching Protocols. */
function upgraded(socket: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      // Drop whatever follows: a paused socket never sees the server's FIN.
      socket.resume();
      resolve(head.startsWith('HTTP/1.1 101'));
    };
    socket.on('data', onData);
    socket.once('close', () => resolve(false));
  });
}

/** One masked binary WebSocket frame, as a client must send it (RFC 6455 §5.2). */
function clientFrame(payload: Buffer, random: () => number): Buffer {
  const n = payload.length;
  const lengthBytes = n < 126 ? 0 : n < 65_536 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + 4);
  head[0] = 0x82;
  head[1] = 0x80 | (lengthBytes === 0 ? n : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) head.writeUInt16BE(n, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(n), 2);
  const mask = head.subarray(2 + lengthBytes);
  for (let i = 0; i < 4; i += 1) mask[i] = Math.floor(random() * 256);
  const masked = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 1) masked[i] = (payload[i] as number) ^ (mask[i % 4] as number);
  return Buffer.concat([head, masked]);
}
