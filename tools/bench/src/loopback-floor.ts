import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expectSuccess, spawnWatched } from './watched-process.js';

/** One timed transfer from a child process to this one over 127.0.0.1. */
export interface LoopbackRound {
  readonly bytes: number;
  /** From the first byte received to the end of the stream. */
  readonly seconds: number;
  readonly bytesPerSecond: number;
}

export interface LoopbackFloor {
  readonly rounds: readonly LoopbackRound[];
  /** Median of the rounds' rates: the floor's denominator. */
  readonly bytesPerSecond: number;
}

export interface LoopbackOptions {
  /** Timed transfers; the median rate is the result. Default 3. */
  readonly rounds?: number;
  /** Seconds the sender writes per round. Default 0.5. */
  readonly secondsPerRound?: number;
  /** Bytes per write (the chunk frame size is the natural choice). Default 4 MiB. */
  readonly writeBytes?: number;
}

/**
 * Raw TCP throughput over loopback from one Node process to another: a
 * child writes large buffers, this process counts what arrives. No protocol,
 * no copies beyond the kernel's: the floor any data plane over loopback pays.
 */
export async function measureLoopbackFloor(o: LoopbackOptions = {}): Promise<LoopbackFloor> {
  const rounds: LoopbackRound[] = [];
  for (let i = 0; i < (o.rounds ?? 3); i += 1) rounds.push(await measureRound(o.secondsPerRound ?? 0.5, o.writeBytes ?? 4 * 1024 * 1024));
  return { rounds, bytesPerSecond: medianRate(rounds) };
}

/** The median of the rounds' rates (the upper middle one for an even count); NaN for none. */
export function medianRate(rounds: readonly LoopbackRound[]): number {
  const rates = rounds.map((r) => r.bytesPerSecond).sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)] ?? Number.NaN;
}

async function measureRound(seconds: number, writeBytes: number): Promise<LoopbackRound> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('loopback floor: the server has no TCP port');
    const received = new Promise<LoopbackRound>((resolve, reject) => {
      server.once('connection', (socket: Socket) => {
        let bytes = 0;
        let first = 0;
        socket.on('data', (data: Buffer) => {
          if (bytes === 0) first = performance.now();
          bytes += data.length;
        });
        socket.once('end', () => {
          const s = (performance.now() - first) / 1000;
          resolve({ bytes, seconds: s, bytesPerSecond: bytes / s });
        });
        socket.once('error', reject);
      });
    });
    const sender = spawnWatched([fileURLToPath(new URL('./loopback-sender.js', import.meta.url)), String(address.port), String(seconds), String(writeBytes)], {
      label: 'loopback sender',
      timeoutMs: seconds * 1000 + 30_000,
    });
    const [round] = await Promise.all([received, sender.exited.then(expectSuccess)]);
    return round;
  } finally {
    server.close();
  }
}
