import { decodeChunk, encodeChunk, type WeightEntry } from '@dtrain/protocol';
import { describe, expect, it } from 'vitest';
import { createOptimizer } from './create-optimizer.js';
import type { OptimizerConfig } from './optimizer-config.js';
import { ParameterShard } from './parameter-shard.js';
import { freshSeed, randomFloat32, type Random } from './testing/random-inputs.js';
import { expectSameBits } from './testing/same-bits.js';
import { commitCollect, joinParts, pushWhole } from './testing/shard-steps.js';
import { seededRandom } from './testing/tfjs-cpu.js';

/** 4096-byte chunks hold 1024 elements; this layout spans 5 chunks, with a state entry across a boundary. */
const CHUNK_BYTES = 4096;
const layout: WeightEntry[] = [
  { name: 'd/kernel', shape: [30, 70], offset: 0, size: 2100, trainable: true },
  { name: 'bn/moving_mean', shape: [1500], offset: 2100, size: 1500, trainable: false },
  { name: 'd2/kernel', shape: [1200], offset: 3600, size: 1200, trainable: true },
  { name: 'd2/bias', shape: [7], offset: 4800, size: 7, trainable: true },
];
const TOTAL = 4807;

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

function shard(range = { start: 0, end: TOTAL }, optimizer: OptimizerConfig = { name: 'adam', learningRate: 0.01 }, weights = random(TOTAL, 1)): ParameterShard {
  return new ParameterShard({ layout, range, chunkBytes: CHUNK_BYTES, weights: weights.slice(range.start, range.end), optimizer });
}

/** Gradient values of every finite magnitude: subnormal, tiny, huge, ±0. */
function finiteArray(rand: Random, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    for (;;) {
      const x = randomFloat32(rand);
      if (Number.isFinite(x)) return x;
    }
  });
}

function bits(a: Float32Array): number[] {
  return [...new Uint32Array(a.buffer, a.byteOffset, a.length)];
}

describe('ParameterShard', () => {
  it('applies the sample-weighted mean through the optimizer once, exactly as the whole-layout optimizer does', async () => {
    for (const optimizer of [
      { name: 'sgd', learningRate: 0.1 },
      { name: 'adam', learningRate: 0.01 },
      { name: 'momentum', learningRate: 0.05, momentum: 0.9, useNesterov: true },
      { name: 'rmsprop', learningRate: 0.01, centered: true, momentum: 0.5 },
    ] as const) {
      const w0 = random(TOTAL, 1);
      const ps = shard(undefined, optimizer, w0);
      const reference = createOptimizer(optimizer, layout);
      const expected = w0.slice();
      for (let step = 0; step < 3; step += 1) {
        const a = random(TOTAL, 10 + step);
        const b = random(TOTAL, 20 + step);
        expect(pushWhole(ps, { workerId: 1, step, sampleCount: 64 }, a).every((o) => o === 'accepted')).toBe(true);
        expect(pushWhole(ps, { workerId: 2, step, sampleCount: 16 }, b).every((o) => o === 'accepted')).toBe(true);
        const { outcome, weights } = await commitCollect(ps, step, [
          { workerId: 1, step },
          { workerId: 2, step },
        ]);
        expect(outcome).toEqual({ committed: true, version: step + 1, sampleCount: 80 });
        const mean = Float32Array.from({ length: TOTAL }, (_, i) => (64 * (a[i] as number) + 16 * (b[i] as number)) / 80);
        reference.apply(expected, mean);
        // State entries take the mean of the pushed values instead of an optimizer step.
        expected.set(mean.subarray(2100, 3600), 2100);
        expect(bits(weights), optimizer.name).toEqual(bits(expected));
        expect(bits(ps.weights)).toEqual(bits(expected));
      }
    }
  });

  it('sums, averages and steps bit for bit the same with the WebAssembly SIMD kernels as with the JS loops', async () => {
    const seed = freshSeed();
    const rand = seededRandom(seed);
    for (const optimizer of [
      { name: 'sgd', learningRate: 0.1 },
      { name: 'adam', learningRate: 0.01 },
      { name: 'momentum', learningRate: 0.05, momentum: 0.9, useNesterov: true },
      { name: 'rmsprop', learningRate: 0.01, centered: true, momentum: 0.5 },
    ] as const) {
      const range = [{ start: 0, end: TOTAL }, { start: 1024, end: 4096 }, { start: 3072, end: TOTAL }][Math.floor(rand() * 3)] as { start: number; end: number };
      const what = `seed ${seed}, ${optimizer.name}, range [${range.start}, ${range.end})`;
      const w0 = finiteArray(rand, TOTAL);
      const make = (simd: boolean) =>
        new ParameterShard({ layout, range, chunkBytes: CHUNK_BYTES, weights: w0.slice(range.start, range.end), optimizer, simd });
      const fast = make(true);
      const slow = make(false);
      expect([fast.kernels, slow.kernels]).toEqual(['wasm-simd', 'js']);
      for (let step = 0; step < 6; step += 1) {
        const workers = [1, 2, 3].slice(0, 1 + Math.floor(rand() * 3));
        for (const workerId of workers) {
          const push = { workerId, step, sampleCount: 1 + Math.floor(rand() * 1000) };
          const g = finiteArray(rand, TOTAL);
          // Now and then one NaN or ±Infinity: the kernel's finiteness probe must agree.
          if (rand() < 0.15) g[range.start + Math.floor(rand() * (range.end - range.start))] = [Number.NaN, Infinity, -Infinity][Math.floor(rand() * 3)] as number;
          expect(pushWhole(fast, push, g), what).toEqual(pushWhole(slow, push, g));
          expect(fast.push(workerId), what).toEqual(slow.push(workerId));
        }
        const included = workers.map((workerId) => ({ workerId, step }));
        const a = await commitCollect(fast, step, included);
        const b = await commitCollect(slow, step, included);
        expect(a.outcome, what).toEqual(b.outcome);
        expectSameBits(a.weights, b.weights, `${what}, step ${step}: sent weights`);
        expectSameBits(fast.weights, slow.weights, `${what}, step ${step}: weights`);
        const fastState = fast.optimizerState();
        const slowState = slow.optimizerState();
        for (const [name, slot] of Object.entries(slowState.arrays)) {
          expectSameBits(fastState.arrays[name] as Float32Array, slot, `${what}, step ${step}: slot ${name}`);
        }
      }
    }
  });

  it('K shards over any split give the same weights and optimizer state as one', async () => {
    const one = shard();
    const bounds = [0, 1024, 3072, TOTAL];
    const parts = [0, 1, 2].map((k) => shard({ start: bounds[k] as number, end: bounds[k + 1] as number }));
    for (let step = 0; step < 4; step += 1) {
      const g = random(TOTAL, 100 + step);
      for (const s of [one, ...parts]) {
        pushWhole(s, { workerId: 3, step, sampleCount: 32 }, g);
        expect((await commitCollect(s, step, [{ workerId: 3, step }])).outcome.committed).toBe(true);
      }
    }
    const joined = new Float32Array(TOTAL);
    parts.forEach((p) => joined.set(p.weights, p.range.start));
    expect(bits(joined)).toEqual(bits(one.weights));
    const m = new Float32Array(TOTAL);
    parts.forEach((p) => m.set(p.optimizerState().arrays['m'] as Float32Array, p.range.start));
    expect(bits(m)).toEqual(bits(one.optimizerState().arrays['m'] as Float32Array));
  });

  it('classifies chunks: duplicate, stale, malformed; sums each chunk once', async () => {
    const ps = shard();
    const g = random(TOTAL, 5);
    const frame = (over: Partial<{ workerId: number; step: number; version: number; sampleCount: number; offset: number }>, values = g.subarray(0, 1024)) =>
      decodeChunk(encodeChunk({ kind: 'gradientChunk', workerId: 1, step: 0, version: 0, sampleCount: 8, offset: 0, ...over }, values));
    expect(ps.acceptChunk(frame({}))).toBe('accepted');
    expect(ps.acceptChunk(frame({}))).toBe('duplicate');
    expect(ps.acceptChunk(frame({ version: 1 }))).toBe('stale');
    expect(ps.acceptChunk(frame({ offset: 512 }))).toBe('malformed');
    expect(ps.acceptChunk(frame({ offset: 1024 }, g.subarray(0, 10)))).toBe('malformed');
    expect(ps.acceptChunk(frame({ offset: 1024, sampleCount: 9 }, g.subarray(1024, 2048)))).toBe('malformed');
    expect(ps.acceptChunk(frame({ offset: 8192 }))).toBe('malformed');
    expect(ps.acceptChunk(frame({ sampleCount: 0 }))).toBe('malformed');
    expect(ps.push(1)).toMatchObject({ step: 0, sampleCount: 8, complete: false, nonFinite: false });
    // The rest of the push, then a commit: the duplicate did not count twice.
    for (const span of ps.plan.chunksOf(ps.range).slice(1)) {
      expect(ps.acceptChunk(frame({ offset: span.offset }, g.subarray(span.offset, span.offset + span.count)))).toBe('accepted');
    }
    const { outcome } = await commitCollect(ps, 0, [{ workerId: 1, step: 0 }]);
    expect(outcome.committed).toBe(true);
    const reference = shard();
    pushWhole(reference, { workerId: 1, step: 0, sampleCount: 8 }, g);
    await commitCollect(reference, 0, [{ workerId: 1, step: 0 }]);
    expect(bits(ps.weights)).toEqual(bits(reference.weights));
  });

  it('refuses a commit that would leave out a push already in the sum, then commits the re-run step', async () => {
    const ps = shard();
    const before = ps.weights.slice();
    pushWhole(ps, { workerId: 1, step: 0, sampleCount: 8 }, random(TOTAL, 1));
    pushWhole(ps, { workerId: 2, step: 0, sampleCount: 8 }, random(TOTAL, 2));
    // Worker 4 died after two of its five chunks.
    for (const span of ps.plan.chunksOf(ps.range).slice(0, 2)) {
      ps.acceptChunk(decodeChunk(encodeChunk({ kind: 'gradientChunk', workerId: 4, step: 0, version: 0, sampleCount: 8, offset: span.offset }, random(span.count, 9))));
    }
    const refused = await commitCollect(ps, 0, [
      { workerId: 1, step: 0 },
      { workerId: 2, step: 0 },
    ]);
    expect(refused.outcome).toEqual({ committed: false, reason: "worker 4's push for step 0 is in the sum but not in the step" });
    expect(bits(ps.weights)).toEqual(bits(before));
    expect(ps.version).toBe(0);
    // The step runs again without worker 4: same result as a clean shard.
    const clean = shard();
    for (const s of [ps, clean]) {
      pushWhole(s, { workerId: 1, step: 0, sampleCount: 8 }, random(TOTAL, 1));
      pushWhole(s, { workerId: 2, step: 0, sampleCount: 8 }, random(TOTAL, 2));
      const again = await commitCollect(s, 0, [
        { workerId: 1, step: 0 },
        { workerId: 2, step: 0 },
      ]);
      expect(again.outcome.committed).toBe(true);
    }
    expect(bits(ps.weights)).toEqual(bits(clean.weights));
  });

  it('marks a push with NaN values non-finite and will not commit it or a step that leaves it out', async () => {
    const ps = shard();
    const g = random(TOTAL, 3);
    g[4000] = Number.NaN;
    const outcomes = pushWhole(ps, { workerId: 1, step: 0, sampleCount: 8 }, g);
    expect(outcomes).toEqual(['accepted', 'accepted', 'accepted', 'non-finite', 'accepted']);
    expect(ps.push(1)).toMatchObject({ complete: true, nonFinite: true });
    expect((await commitCollect(ps, 0, [{ workerId: 1, step: 0 }])).outcome).toEqual({ committed: false, reason: 'push of worker 1 for step 0 is not finite' });
    pushWhole(ps, { workerId: 1, step: 0, sampleCount: 8 }, g);
    pushWhole(ps, { workerId: 2, step: 0, sampleCount: 8 }, random(TOTAL, 4));
    expect((await commitCollect(ps, 0, [{ workerId: 2, step: 0 }])).outcome.committed).toBe(false);
    expect(ps.weights.every(Number.isFinite)).toBe(true);
  });

  it('hands out views of its live weights: no copy per chunk, nothing kept by the shard', async () => {
    const ps = shard();
    pushWhole(ps, { workerId: 1, step: 0, sampleCount: 8 }, random(TOTAL, 1));
    const payloads: Uint8Array[] = [];
    await ps.commit(0, [{ workerId: 1, step: 0 }], (parts) => payloads.push(parts.payload));
    expect(payloads).toHaveLength(5);
    for (const payload of payloads) expect(payload.buffer).toBe(ps.weights.buffer);
    expect(payloads.reduce((n, p) => n + p.byteLength, 0)).toBe(TOTAL * 4);
  });

  it('serves the current weights as chunks for a joining worker', () => {
    const w0 = random(TOTAL, 1);
    const ps = shard(undefined, undefined, w0);
    const chunks = ps.currentChunks(0);
    expect(chunks).toHaveLength(5);
    const assembled = new Float32Array(TOTAL);
    for (const parts of chunks) {
      const chunk = decodeChunk(joinParts(parts));
      expect(chunk).toMatchObject({ kind: 'weightsChunk', version: 0 });
      assembled.set(chunk.values, chunk.offset);
    }
    expect(bits(assembled)).toEqual(bits(w0));
  });

  it('refuses ranges that do not sit on chunk boundaries', () => {
    expect(() => shard({ start: 0, end: 1000 })).toThrow(/chunk boundaries/);
    expect(() => shard({ start: 10, end: TOTAL })).toThrow(/chunk boundaries/);
    expect(() => shard({ start: 0, end: TOTAL + 1 })).toThrow(/inside the layout/);
  });
});

describe('prepare (phase one of a commit across shards)', () => {
  it('answers for exactly the included pushes and takes no chunk of the step afterwards', async () => {
    const layout = [{ name: 'w', shape: [8], offset: 0, size: 8, trainable: true }];
    const shard = new ParameterShard({ layout, range: { start: 0, end: 8 }, chunkBytes: 4096, weights: new Float32Array(8), optimizer: { name: 'sgd', learningRate: 1 } });
    const chunk = (workerId: number, value: number) => ({ kind: 'gradientChunk' as const, workerId, step: 0, version: 0, sampleCount: 1, offset: 0, count: 8, values: new Float32Array(8).fill(value) });
    expect(shard.acceptChunk(chunk(0, 1))).toBe('accepted');
    expect(shard.prepare(0, [{ workerId: 0, step: 0 }])).toBeUndefined();
    // A late push of the prepared step cannot change the answer given.
    expect(shard.acceptChunk(chunk(1, 100))).toBe('stale');
    const outcome = await shard.commit(0, [{ workerId: 0, step: 0 }], () => undefined);
    expect(outcome).toStrictEqual({ committed: true, version: 1, sampleCount: 1 });
    expect([...shard.weights]).toStrictEqual(new Array(8).fill(-1));
  });

  it('refuses when a push outside the step reached the sum, and reopens the step on abort', () => {
    const layout = [{ name: 'w', shape: [8], offset: 0, size: 8, trainable: true }];
    const shard = new ParameterShard({ layout, range: { start: 0, end: 8 }, chunkBytes: 4096, weights: new Float32Array(8), optimizer: { name: 'sgd', learningRate: 1 } });
    const chunk = (workerId: number) => ({ kind: 'gradientChunk' as const, workerId, step: 3, version: 0, sampleCount: 2, offset: 0, count: 8, values: new Float32Array(8) });
    shard.acceptChunk(chunk(0));
    shard.acceptChunk(chunk(1));
    expect(shard.prepare(3, [{ workerId: 0, step: 3 }])).toBe("worker 1's push for step 3 is in the sum but not in the step");
    shard.abortStep();
    expect(shard.acceptChunk(chunk(0))).toBe('accepted');
  });
});
