/**
 * Test support only (excluded from the build): random layouts, optimizer
 * configs, states and float32 values of every kind (subnormal, huge, ±0, ±∞,
 * NaN) for the property tests of the optimizers.
 */
import type { WeightEntry } from '@dtrain/protocol';
import type { OptimizerConfig } from '../optimizer-config.js';

export type Random = () => number;

const f32 = Math.fround;
const bits = new Uint32Array(1);
const asFloat = new Float32Array(bits.buffer);

function pick<T>(random: Random, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)] as T;
}

function int(random: Random, below: number): number {
  return Math.floor(random() * below);
}

/** A float32 with the given bit pattern. */
export function float32FromBits(pattern: number): number {
  bits[0] = pattern >>> 0;
  return asFloat[0] as number;
}

/**
 * A float32 value, mostly of the sizes training sees, often at the edges:
 * subnormal, tiny, huge (overflowing on the next multiply), ±0, exact small
 * integers and halves; now and then any bit pattern at all (±∞, NaN).
 */
export function randomFloat32(random: Random): number {
  const sign = random() < 0.5 ? -1 : 1;
  const r = random();
  if (r < 0.35) return f32(sign * random());
  if (r < 0.55) return f32(sign * (1 + random()) * 2 ** (int(random, 40) - 30));
  if (r < 0.7) return f32(sign * (1 + random()) * 2 ** (int(random, 279) - 150));
  if (r < 0.8) return sign * (1 + int(random, 2 ** 23 - 1)) * 2 ** -149;
  if (r < 0.85) return sign * 0;
  if (r < 0.9) return sign * (int(random, 8) / 2);
  return float32FromBits(int(random, 2 ** 32));
}

/** Like {@link randomFloat32}, but ≥ 0 except now and then (a second-moment slot). */
export function randomNonNegativeFloat32(random: Random): number {
  const value = randomFloat32(random);
  return random() < 0.97 ? Math.abs(value) : value;
}

export function randomFloat32Array(random: Random, length: number, draw: (random: Random) => number = randomFloat32): Float32Array {
  return Float32Array.from({ length }, () => draw(random));
}

/** A float32 in [0, 1], the range of adam's accumulated betas: 0, 1, β^t, 1 − 2^−k, subnormal, … */
export function randomUnitFloat32(random: Random): number {
  const r = random();
  if (r < 0.1) return pick(random, [0, 1]);
  if (r < 0.3) return f32(f32(random()) ** (1 + int(random, 100)));
  if (r < 0.45) return f32(1 - 2 ** -(1 + int(random, 30)));
  if (r < 0.6) return f32(2 ** -(int(random, 150)));
  if (r < 0.7) return (1 + int(random, 2 ** 23 - 1)) * 2 ** -149;
  return f32(random());
}

/** A dense layout of `size` elements: entries of random sizes (some empty), about one in four not trainable. */
export function randomLayout(random: Random, size: number): WeightEntry[] {
  const layout: WeightEntry[] = [];
  let offset = 0;
  while (offset < size) {
    const entrySize = random() < 0.1 ? 0 : Math.min(size - offset, 1 + int(random, Math.max(1, size / 3)));
    const name = `w${layout.length}`;
    layout.push({ name, shape: [entrySize], offset, size: entrySize, trainable: random() < 0.75 });
    offset += entrySize;
  }
  return layout;
}

/** A learning rate, momentum, … of any valid size: typical, tiny, huge. */
function positive(random: Random): number {
  return pick(random, [0.001, 0.01, 0.1, (1 + random()) * 10 ** (int(random, 40) - 30), 1e-30, 1e30]);
}

function unitInterval(random: Random, includeOne: boolean): number {
  const values = [0, 0.5, 0.9, 0.999, random(), 1 - 2 ** -(1 + int(random, 40))];
  return pick(random, includeOne ? [...values, 1] : values);
}

function epsilon(random: Random): number {
  return pick(random, [0, 1e-7, 1e-4, 2 ** -149, random() * 10 ** -int(random, 45)]);
}

/** Configs of one optimizer variant with random hyperparameters of every valid size. */
export type ConfigVariant = 'sgd' | 'momentum' | 'nesterov' | 'adam' | 'rmsprop' | 'rmsprop momentum' | 'centered' | 'centered momentum';

export const CONFIG_VARIANTS: readonly ConfigVariant[] = [
  'sgd',
  'momentum',
  'nesterov',
  'adam',
  'rmsprop',
  'rmsprop momentum',
  'centered',
  'centered momentum',
];

export function randomConfig(random: Random, variant: ConfigVariant): OptimizerConfig {
  const learningRate = positive(random);
  const momentum = pick(random, [0, 0.5, 0.9, random(), random() * 10]);
  switch (variant) {
    case 'sgd':
      return { name: 'sgd', learningRate };
    case 'momentum':
    case 'nesterov':
      return { name: 'momentum', learningRate, momentum, useNesterov: variant === 'nesterov' };
    case 'adam':
      return {
        name: 'adam',
        learningRate,
        beta1: unitInterval(random, false),
        beta2: unitInterval(random, false),
        epsilon: epsilon(random),
      };
    default:
      return {
        name: 'rmsprop',
        learningRate,
        decay: unitInterval(random, true),
        momentum: variant.endsWith('momentum') ? momentum : 0,
        epsilon: epsilon(random),
        centered: variant.startsWith('centered'),
      };
  }
}

/** A fresh random seed, to print with a failure so it can be replayed. */
export function freshSeed(): number {
  return (Math.random() * 2 ** 32) >>> 0;
}
