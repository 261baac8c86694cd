import wabt from 'wabt';
import { describe, expect, it } from 'vitest';
import { createOptimizer, resolveOptimizerConfig } from './create-optimizer.js';
import { KERNEL_NAMES, KernelMemory, engineWasm, kernelBytes, kernelModule, loadKernelModule, type WasmApi } from './kernel-memory.js';
import { optimizerMemoryBytes } from './optimizer.js';
import { addScaled, meanInPlace } from './accumulate.js';
import { assembleKernels } from './testing/assemble-kernels.js';
import { freshSeed, randomFloat32, randomFloat32Array, type Random } from './testing/random-inputs.js';
import { expectSameBits } from './testing/same-bits.js';
import { seededRandom } from './testing/tfjs-cpu.js';

describe('the kernels module', () => {
  it('is kernels.wat assembled: the committed bytes have not drifted from the source', async () => {
    const assembled = await assembleKernels();
    // On failure: run `npx tsx scripts/assemble-kernels.ts` and commit src/kernels-wasm.ts.
    expect(Buffer.from(kernelBytes()).equals(Buffer.from(assembled))).toBe(true);
  });

  it('needs SIMD: a validator without the SIMD feature rejects it', async () => {
    const toolkit = await wabt();
    expect(() => toolkit.readWasm(kernelBytes(), { simd: false }).validate()).toThrow();
    expect(() => toolkit.readWasm(kernelBytes(), { simd: true }).validate()).not.toThrow();
  });

  it(`runs on this engine (node ${process.version}: WebAssembly SIMD since node 16.4) and exports exactly the declared kernels`, () => {
    const wasm = engineWasm() as WasmApi;
    expect(wasm.validate(kernelBytes())).toBe(true);
    expect(kernelModule()).toBeDefined();
    const memory = KernelMemory.create(0) as KernelMemory;
    expect(memory).toBeDefined();
    expect(Object.keys(memory.kernels).sort()).toEqual([...KERNEL_NAMES].sort());
    for (const name of KERNEL_NAMES) expect(typeof memory.kernels[name]).toBe('function');
  });

  it('is not loaded where the engine has no WebAssembly or rejects the module; the optimizers then run the JS loops', () => {
    const real = engineWasm() as WasmApi;
    expect(loadKernelModule(undefined)).toBeUndefined();
    // An engine without SIMD: validate() of the SIMD module is false.
    const noSimd: WasmApi = { ...real, validate: () => false, Module: real.Module };
    expect(loadKernelModule(noSimd)).toBeUndefined();
    // An engine whose compiler refuses it anyway.
    const refuses: WasmApi = {
      ...real,
      validate: (bytes) => real.validate(bytes),
      Module: class {
        constructor() {
          throw new Error('CompileError');
        }
      },
    };
    expect(loadKernelModule(refuses)).toBeUndefined();
    expect(loadKernelModule({ ...real, validate: (bytes) => real.validate(bytes), Module: real.Module })).toBeDefined();
    expect(createOptimizer({ name: 'adam', learningRate: 0.001 }, 8, undefined, { simd: false }).kernels).toBe('js');
    expect(createOptimizer({ name: 'adam', learningRate: 0.001 }, 8).kernels).toBe('wasm-simd');
  });
});

describe('KernelMemory', () => {
  it('hands out zeroed, 16-byte aligned, disjoint views of one fixed buffer, and refuses to overrun it', () => {
    const memory = KernelMemory.create(100_000) as KernelMemory;
    expect(memory.buffer.byteLength).toBe(131_072);
    const a = memory.float32(5);
    const b = memory.float64(3);
    const c = memory.float32(1);
    expect([a.byteOffset, b.byteOffset, c.byteOffset]).toEqual([0, 32, 64]);
    expect([...a, ...b, ...c].every((x) => x === 0)).toBe(true);
    expect(memory.holds(a) && memory.holds(b) && !memory.holds(new Float32Array(4))).toBe(true);
    expect(memory.free).toBe(131_072 - 80);
    expect(() => memory.float32(memory.free / 4 + 1)).toThrow(RangeError);
    expect(memory.float32(memory.free / 4).length).toBe((131_072 - 80) / 4);
  });

  it('is not created beyond wasm32 memory (4 GiB): the caller falls back to JS arrays', () => {
    expect(KernelMemory.create(2 ** 32 + 1)).toBeUndefined();
    // 2^29 parameters: adam's two slots alone are 4 GiB.
    expect(KernelMemory.create(optimizerMemoryBytes(resolveOptimizerConfig({ name: 'adam', learningRate: 0.001 }), 2 ** 29))).toBeUndefined();
  });
});

describe("the shard's kernels equal its JS loops", () => {
  it('addScaled: float64 sums of count·x bit for bit, and the same finiteness verdict, for every remainder and position', () => {
    const seed = freshSeed();
    const random = seededRandom(seed);
    const memory = KernelMemory.create(1 << 20) as KernelMemory;
    const sum = memory.float64(4096);
    const x = memory.float32(4096);
    const expected = new Float64Array(4096);
    for (let trial = 0; trial < 1500; trial++) {
      const n = trial < 500 ? trial % 13 : Math.floor(random() * 3000);
      const at = Math.floor(random() * (4096 - n));
      const values = randomFloat32Array(random, n, finite);
      // A NaN or ±Infinity in one trial of three, at any position: the vector loop's and the tail's.
      if (n > 0 && trial % 3 === 0) values[Math.floor(random() * n)] = [Number.NaN, Infinity, -Infinity][trial % 9 / 3] as number;
      const count = [1, 7, 64, 1 + Math.floor(random() * 5000)][trial % 4] as number;
      x.set(values);
      const finiteByKernel = memory.kernels.addScaled(sum.byteOffset + 8 * at, x.byteOffset, n, count) === 1;
      const finiteByJs = addScaled(expected, at, values, count);
      expect(finiteByKernel, `seed ${seed}, trial ${trial}`).toBe(finiteByJs);
      expectSame64(sum, expected, `seed ${seed}, trial ${trial}`);
      if (trial % 50 === 0) {
        sum.fill(0);
        expected.fill(0);
      }
    }
  });

  it('mean: f32(sum / samples) over the sum\'s own memory, at any start and length', () => {
    const seed = freshSeed();
    const random = seededRandom(seed);
    const memory = KernelMemory.create(1 << 20) as KernelMemory;
    const sum = memory.float64(2048);
    const mean = new Float32Array(sum.buffer, sum.byteOffset, 2048);
    const jsSum = new Float64Array(2048);
    const jsMean = new Float32Array(jsSum.buffer, 0, 2048);
    for (let trial = 0; trial < 400; trial++) {
      const values = Float64Array.from({ length: 2048 }, () => randomFloat32(random) * (1 + Math.floor(random() * 1000)));
      sum.set(values);
      jsSum.set(values);
      const samples = [1, 3, 80, 1 + Math.floor(random() * 100_000)][trial % 4] as number;
      // Ascending chunks, as a commit converts them: each must be converted before the next is read.
      let lo = 0;
      while (lo < 2048) {
        const hi = Math.min(2048, lo + (trial < 200 ? trial % 11 : 1 + Math.floor(random() * 1500)) + 1);
        memory.kernels.mean(sum.byteOffset + 8 * lo, mean.byteOffset + 4 * lo, hi - lo, samples);
        meanInPlace(jsSum, jsMean, lo, hi, samples);
        lo = hi;
      }
      expectSameBits(mean, jsMean, `seed ${seed}, trial ${trial}`);
    }
  });
});

function finite(random: Random): number {
  for (;;) {
    const x = randomFloat32(random);
    if (Number.isFinite(x)) return x;
  }
}

function expectSame64(actual: Float64Array, expected: Float64Array, what: string): void {
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) expect.fail(`${what}[${i}]: kernel ${actual[i]}, JS ${expected[i]}`);
  }
}
