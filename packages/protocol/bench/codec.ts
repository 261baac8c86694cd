/**
 * Codec throughput: encode + decode of a `gradients` message at 1, 10 and
 * 100 MB of float32, against one plain memcpy of the same bytes, and the
 * fixed cost of a tensor-less message. Encoding is one allocation plus one
 * copy and decoding is zero-copy, so the round trip should stay within ~2x
 * of the memcpy line at every size. Both lines are dominated by the
 * allocator (fresh pages fault in), which is why GB/s is not monotonic in size.
 *
 * Run: pnpm --filter @dtrain/protocol bench (or `npx tsx bench/codec.ts`).
 */
import { performance } from 'node:perf_hooks';
import { decodeMessage, encodeMessage, type GradientsMessage } from '../src/index.js';

const MB = 1024 * 1024;
let sink = 0;
const SIZES: readonly { bytes: number; runs: number }[] = [
  { bytes: 1 * MB, runs: 41 },
  { bytes: 10 * MB, runs: 21 },
  { bytes: 100 * MB, runs: 9 },
];

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

console.log(`codec bench: gradients message, median of N runs (node ${process.version}, ${process.arch})`);
for (const { bytes, runs } of SIZES) {
  const gradients = new Float32Array(bytes / 4);
  for (let i = 0; i < gradients.length; i += 1024) gradients[i] = i;
  const message: GradientsMessage = { type: 'gradients', workerId: 1, step: 100, version: 100, batchId: 7, sampleCount: 128, loss: 0.3, computeSeconds: 0.05, gradients };
  const frame = encodeMessage(message);

  const ms = timeInterleaved(runs, {
    roundTrip: () => (decodeMessage(encodeMessage(message)) as GradientsMessage).gradients.length,
    encode: () => encodeMessage(message).byteLength,
    decode: () => (decodeMessage(frame) as GradientsMessage).gradients.length,
    memcpy: () => Buffer.from(new Uint8Array(gradients.buffer)).byteLength,
  });
  const [roundTrip, encode, decode, memcpy] = [ms['roundTrip'] ?? 0, ms['encode'] ?? 0, ms['decode'] ?? 0, ms['memcpy'] ?? 0];
  const label = pad(`${bytes / MB} MB`, 6);
  console.log(
    `${label}  round trip ${pad(roundTrip.toFixed(3), 8)} ms ${pad(gbPerSecond(bytes, roundTrip), 6)} GB/s` +
      ` | encode ${pad(encode.toFixed(3), 8)} ms  decode ${pad(decode.toFixed(4), 7)} ms` +
      ` | memcpy ${pad(memcpy.toFixed(3), 8)} ms ${pad(gbPerSecond(bytes, memcpy), 6)} GB/s` +
      ` | round trip / memcpy ${(roundTrip / memcpy).toFixed(2)}x  (n=${runs})`,
  );
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
