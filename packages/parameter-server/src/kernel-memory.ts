import { KERNELS_WASM_BASE64 } from './kernels-wasm.js';

/** Which implementation runs an optimizer's or a shard's inner loops. */
export type KernelKind = 'wasm-simd' | 'js';

/**
 * The exports of kernels.wat. Pointers are byte addresses in the memory the
 * instance was made with, `n` counts elements; scalars are float32 values
 * (float64 for `count` and `samples`). See kernels.wat for each rule.
 */
export interface Kernels {
  sgd(w: number, g: number, n: number, negLr: number): void;
  momentum(w: number, g: number, acc: number, n: number, m: number, negLr: number): void;
  nesterov(w: number, g: number, acc: number, n: number, m: number, negLr: number): void;
  adam(
    w: number,
    g: number,
    m: number,
    v: number,
    n: number,
    beta1: number,
    beta2: number,
    oneMinusBeta1: number,
    oneMinusBeta2: number,
    c1: number,
    c2: number,
    epsilon: number,
    negLr: number,
  ): void;
  rmsprop(w: number, g: number, ms: number, mom: number, n: number, decay: number, momentum: number, epsilon: number, oneMinusDecay: number, lr: number): void;
  rmspropCentered(
    w: number,
    g: number,
    ms: number,
    mom: number,
    mg: number,
    n: number,
    decay: number,
    momentum: number,
    epsilon: number,
    oneMinusDecay: number,
    lr: number,
  ): void;
  /** 1 when every x was finite, else 0. */
  addScaled(sum: number, x: number, n: number, count: number): number;
  mean(sum: number, mean: number, n: number, samples: number): void;
}

/** The names a kernels instance must export: what {@link Kernels} declares. */
export const KERNEL_NAMES: readonly (keyof Kernels)[] = ['sgd', 'momentum', 'nesterov', 'adam', 'rmsprop', 'rmspropCentered', 'addScaled', 'mean'];

/**
 * Elements per block when arrays that live outside a kernel memory are
 * copied through it: 64 KiB per float32 array, so a block's copy-in, update
 * and copy-out stay in the core's L2 cache. (At 1M parameters adam takes
 * about the same time with blocks of 16K to 64K elements, ~15% longer at 1K.)
 */
export const KERNEL_BLOCK = 16_384;

const PAGE_BYTES = 65_536;
/** wasm32's limit, 4 GiB; an engine may allow less (then allocation fails and the JS loops run). */
const MAX_PAGES = 65_536;

/** An opaque compiled WebAssembly.Module. */
export type WasmModule = object;

/**
 * The part of the WebAssembly JS API used here, typed locally: Node 20's
 * type definitions do not declare `WebAssembly` and this package does not
 * take in the DOM's. Injectable, so tests can stand in an engine without SIMD.
 */
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Memory: new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
}

/** This engine's WebAssembly API, if it has one. */
export function engineWasm(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}

/**
 * Compiles the kernels where the engine can run them, else undefined. The
 * test is the module itself: `WebAssembly.validate` of bytes that use SIMD
 * instructions fails on an engine without SIMD, so nothing is assumed from
 * a version number. Compilation is synchronous (the module is ~2 KB; Node
 * has no size limit on synchronous compilation).
 */
export function loadKernelModule(wasm: WasmApi | undefined): WasmModule | undefined {
  if (wasm === undefined || typeof wasm.validate !== 'function' || typeof wasm.Module !== 'function') return undefined;
  const bytes = kernelBytes();
  if (!wasm.validate(bytes)) return undefined;
  try {
    return new wasm.Module(bytes);
  } catch {
    return undefined;
  }
}

let cachedModule: WasmModule | null | undefined;

/** {@link loadKernelModule} of this engine's WebAssembly, once per process, on first use. */
export function kernelModule(): WasmModule | undefined {
  if (cachedModule === undefined) cachedModule = loadKernelModule(engineWasm()) ?? null;
  return cachedModule ?? undefined;
}

/** The kernels module's bytes. */
export function kernelBytes(): Uint8Array {
  return new Uint8Array(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
}

/** Bytes one array of `length` elements takes in a kernel memory: rounded up to 16 (a v128). */
export function arrayBytes(length: number, elementBytes: 4 | 8): number {
  return Math.ceil((length * elementBytes) / 16) * 16;
}

/**
 * One WebAssembly memory with its own instance of the kernels, where arrays
 * that the kernels work on live as typed-array views: a bump allocator of
 * fixed size. The size is set when it is created and never grows, because
 * growing a WebAssembly memory detaches its ArrayBuffer, and every view of
 * it (slots, weights) would go dead; so the owner adds up what it will
 * allocate first ({@link arrayBytes}).
 */
export class KernelMemory {
  readonly kernels: Kernels;
  readonly buffer: ArrayBuffer;
  #next = 0;

  private constructor(kernels: Kernels, buffer: ArrayBuffer) {
    this.kernels = kernels;
    this.buffer = buffer;
  }

  /**
   * A memory of at least `bytes`, or undefined where the kernels cannot run
   * (no WebAssembly SIMD), `bytes` exceeds wasm32's 4 GiB, or the engine
   * cannot allocate it: the caller then uses the JS loops.
   */
  static create(bytes: number): KernelMemory | undefined {
    const module = kernelModule();
    const wasm = engineWasm();
    if (module === undefined || wasm === undefined) return undefined;
    const pages = Math.max(1, Math.ceil(bytes / PAGE_BYTES));
    if (pages > MAX_PAGES) return undefined;
    let memory: { readonly buffer: ArrayBuffer };
    try {
      memory = new wasm.Memory({ initial: pages, maximum: pages });
    } catch (error) {
      // V8 throws RangeError when the engine's limit or the process's memory is exceeded.
      if (error instanceof RangeError) return undefined;
      throw error;
    }
    const { exports } = new wasm.Instance(module, { env: { memory } });
    return new KernelMemory(exports as unknown as Kernels, memory.buffer);
  }

  /** Bytes not yet allocated. */
  get free(): number {
    return this.buffer.byteLength - this.#next;
  }

  /** A zeroed float32 array in this memory, 16-byte aligned. */
  float32(length: number): Float32Array {
    return new Float32Array(this.buffer, this.#take(arrayBytes(length, 4)), length);
  }

  /** A zeroed float64 array in this memory, 16-byte aligned. */
  float64(length: number): Float64Array {
    return new Float64Array(this.buffer, this.#take(arrayBytes(length, 8)), length);
  }

  /** Whether `view` lies in this memory, so the kernels can address it without a copy. */
  holds(view: ArrayBufferView): boolean {
    return view.buffer === this.buffer;
  }

  #take(bytes: number): number {
    const at = this.#next;
    // The owner sized the memory for everything it allocates: running out is a bug here.
    if (bytes > this.free) throw new RangeError(`kernel memory: ${bytes} bytes wanted, ${this.free} free`);
    this.#next = at + bytes;
    return at;
  }
}
