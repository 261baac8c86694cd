import { DataError } from './data-error.js';

/**
 * A seeded pseudo-random generator (xoshiro128**). Same seed, same sequence, on
 * every platform: everything here is 32-bit integer arithmetic.
 */
export interface Rng {
  /** A uniform unsigned 32-bit integer. */
  nextUint32(): number;
  /** A uniform float in [0, 1) with 32 random bits. */
  next(): number;
  /** A uniform integer in [0, n), without modulo bias; 1 ≤ n ≤ 2^32. */
  nextInt(n: number): number;
  /** A standard normal deviate (Box–Muller). */
  normal(): number;
  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [index: number]: number }>(array: T): T;
  /** A uniformly random permutation of 0..n-1. */
  permutation(n: number): Uint32Array;
}

const TWO_POW_32 = 0x1_0000_0000;

/** The murmur3 finaliser: a cheap bijective 32-bit mix with good avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function checkSeed(seed: number, what: string): void {
  if (!Number.isSafeInteger(seed)) {
    throw new DataError('DTRAIN_DATA_OPTIONS', `${what}: expected a safe integer, got ${String(seed)}`);
  }
}

/** Folds a safe integer (negative too) into two 32-bit words so no seed bits are lost. */
function seedWords(seed: number): [number, number] {
  return [seed >>> 0, Math.floor(seed / TWO_POW_32) >>> 0];
}

/**
 * A 32-bit seed derived from `seed` and any number of integer salts (epoch,
 * sample index, purpose). Different salts give unrelated streams, so one job
 * seed can drive the split, every epoch's shuffle and synthetic samples.
 */
export function deriveSeed(seed: number, ...salts: number[]): number {
  checkSeed(seed, 'seed');
  const [lo, hi] = seedWords(seed);
  let h = fmix32(lo ^ 0x9e37_79b9);
  h = fmix32((h + Math.imul(hi ^ 0x7f4a_7c15, 0x2545_f491)) >>> 0);
  for (const salt of salts) {
    checkSeed(salt, 'seed salt');
    const [slo, shi] = seedWords(salt);
    h = fmix32((h + Math.imul(slo ^ 0x6a09_e667, 0x9e37_79b9)) >>> 0);
    h = fmix32((h ^ Math.imul(shi ^ 0xbb67_ae85, 0x85eb_ca6b)) >>> 0);
  }
  return h;
}

/**
 * A generator seeded with any safe integer. The state is filled by splitmix32
 * from the seed so that nearby seeds (0, 1, 2, …) give unrelated sequences.
 */
export function createRng(seed: number): Rng {
  checkSeed(seed, 'seed');
  const [lo, hi] = seedWords(seed);
  let sm = fmix32(lo ^ fmix32(hi ^ 0x5bd1_e995));
  const splitmix = (): number => {
    sm = (sm + 0x9e37_79b9) >>> 0;
    return fmix32(sm);
  };
  let s0 = splitmix();
  let s1 = splitmix();
  let s2 = splitmix();
  let s3 = splitmix();
  // xoshiro's one forbidden state; splitmix practically never yields it.
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };

  const nextInt = (n: number): number => {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new DataError('DTRAIN_DATA_OPTIONS', `nextInt: expected an integer in [1, 2^32], got ${n}`);
    }
    // Reject the top partial block so every residue is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let r = nextUint32();
    while (r >= limit) r = nextUint32();
    return r % n;
  };

  let spare: number | undefined;
  const normal = (): number => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    // 1 - u keeps the logarithm's argument in (0, 1].
    const u = 1 - nextUint32() / TWO_POW_32;
    const v = nextUint32() / TWO_POW_32;
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };

  const shuffle = <T extends { length: number; [index: number]: number }>(array: T): T => {
    for (let i = array.length - 1; i > 0; i--) {
      const j = nextInt(i + 1);
      const tmp = array[i] as number;
      array[i] = array[j] as number;
      array[j] = tmp;
    }
    return array;
  };

  return {
    nextUint32,
    next: () => nextUint32() / TWO_POW_32,
    nextInt,
    normal,
    shuffle,
    permutation: (n: number): Uint32Array => {
      const perm = new Uint32Array(n);
      for (let i = 0; i < n; i++) perm[i] = i;
      return shuffle(perm);
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
