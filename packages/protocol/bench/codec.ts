/**
 * Codec throughput, each line beside a plain memcpy of the same bytes:
 * - a `dataChunk` message (1024 MNIST-sized samples: 3.1 MiB of features,
 *   40 KiB of labels), encode + decode. Encoding is one allocation plus one
 *   copy and decoding is zero-copy, so the round trip should stay within ~2x
 *   of a fresh-buffer copy (Buffer.from);
 * - one 4 MiB data-plane chunk frame (the default `cluster.chunkBytes`),
 *   writeChunkFrame into a reused buffer + decodeChunk, against a copy into
 *   a reused buffer: both are one memcpy, so the ratio should be ~1x;
 * - the fixed cost of a tensor-less message.
 *
 * Run: pnpm --filter @dtrain/protocol bench (or `npx tsx bench/codec.ts`).
 */
import { performance } from 'node:perf_hooks';
import { chunkFrameBytes, decodeChunk, decodeMessage, encodeMessage, writeChunkFrame, type DataChunkMessage } from '../src/index.js';

const MiB = 1024 * 1024;
let sink = 0;
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * Median wall time of each operation, ms. Operations run interleaved, one
 * sample of each per round after two warm-up rounds, so they see the same
 * allocator and GC state (large buffers cost page faults when fresh).
 */
function timeInterleaved(runs: number, operations: Record<string, () => number>): Record<string, number> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(operations).map((name) => [name, []]));
  for (let round = -2; round < runs; round++) {
    for (const [name, run] of Object.entries(operations)) {
      const start = performance.now();
      sink += run();
      const elapsed = performance.now() - start;
      if (round >= 0) samples[name]?.push(elapsed);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
}

function gbPerSecond(bytes: number, ms: number): string {
  return (bytes / (ms / 1000) / 1e9).toFixed(2);
}

function pad(text: string, width: number): string {
  return text.padStart(width);
}

console.log(`codec bench: median of N interleaved runs (node ${process.version}, ${process.arch})`);
function line(label: string, bytes: number, runs: number, ms: number, copyMs: number, copyLabel: string): void {
  console.log(
    `${label.padEnd(28)} ${pad(ms.toFixed(3), 8)} ms ${pad(gbPerSecond(bytes, ms), 6)} GB/s` +
      ` | ${copyLabel} ${pad(copyMs.toFixed(3), 8)} ms ${pad(gbPerSecond(bytes, copyMs), 6)} GB/s` +
      ` | ratio ${(ms / copyMs).toFixed(2)}x  (n=${runs})`,
  );
}

{
  const samples = 1024;
  const features = new Float32Array(samples * 784);
  const labels = new Float32Array(samples * 10);
  for (let i = 0; i < features.length; i += 1024) features[i] = i;
  const message: DataChunkMessage = { type: 'dataChunk', chunkId: 3, start: 3 * samples, count: samples, features, labels };
  const bytes = features.byteLength + labels.byteLength;
  const runs = 41;
  const ms = timeInterleaved(runs, {
    roundTrip: () => (decodeMessage(encodeMessage(message)) as DataChunkMessage).features.length,
    memcpy: () => Buffer.from(new Uint8Array(features.buffer)).byteLength + Buffer.from(new Uint8Array(labels.buffer)).byteLength,
  });
  line(`dataChunk ${(bytes / MiB).toFixed(2)} MiB round trip`, bytes, runs, ms['roundTrip'] ?? 0, ms['memcpy'] ?? 0, 'fresh memcpy');
}

{
  const values = new Float32Array((4 * MiB) / 4);
  for (let i = 0; i < values.length; i += 1024) values[i] = i;
  const frame = new Uint8Array(chunkFrameBytes(values.length));
  const target = new Uint8Array(values.byteLength);
  const source = new Uint8Array(values.buffer);
  const header = { kind: 'gradientChunk', workerId: 1, step: 100, version: 100, sampleCount: 128, offset: 0 } as const;
  const runs = 101;
  const ms = timeInterleaved(runs, {
    chunk: () => decodeChunk(frame.subarray(0, writeChunkFrame(frame, header, values))).count,
    memcpy: () => {
      target.set(source);
      return target[0] ?? 0;
    },
  });
  line('4 MiB chunk write + decode', values.byteLength, runs, ms['chunk'] ?? 0, ms['memcpy'] ?? 0, 'reused memcpy');
}

// Fixed per-message cost (prefix, msgpack header, validation), where no tensor bytes hide it.
const small = timeInterleaved(20, {
  heartbeat: () => {
    let n = 0;
    for (let i = 0; i < 10_000; i++) n += decodeMessage(encodeMessage({ type: 'heartbeat', kind: 'ping', sentAt: 1_712_345_678_901 + i })).type.length;
    return n;
  },
});
console.log(`heartbeat round trip ${(((small['heartbeat'] ?? 0) * 1000) / 10_000).toFixed(2)} µs per message (no tensors; median of 20 × 10k)`);
if (sink === 0) console.log('(unreachable: keeps the work observable)');
