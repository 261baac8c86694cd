import type { FlatRange, WeightEntry } from '@dtrain/protocol';
import { ParameterServerError } from './parameter-server-error.js';

/**
 * Checks that a layout is the dense, in-order layout the engine produces:
 * entry i starts where entry i-1 ends, sizes are the products of the shapes,
 * names are unique. Everything downstream (weights.bin, optimizer slots, the
 * wire format) relies on "flat array = entries back to back in layout order".
 *
 * @returns the total element count.
 * @throws ParameterServerError `DTRAIN_PS_LAYOUT` naming the first bad entry.
 */
export function validateLayout(layout: readonly WeightEntry[]): number {
  const names = new Set<string>();
  let offset = 0;
  layout.forEach((entry, index) => {
    const where = `layout[${index}] (${JSON.stringify(entry.name)})`;
    if (typeof entry.name !== 'string' || entry.name === '') {
      throw layoutError(`layout[${index}].name must be a non-empty string`);
    }
    if (names.has(entry.name)) throw layoutError(`${where}: duplicate weight name`);
    names.add(entry.name);
    if (!Array.isArray(entry.shape) || !entry.shape.every(isNonNegativeInteger)) {
      throw layoutError(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(entry.shape)}`);
    }
    const product = entry.shape.reduce((a, b) => a * b, 1);
    if (entry.size !== product) {
      throw layoutError(`${where}: size ${entry.size} is not the product of shape [${entry.shape.join(', ')}] (${product})`);
    }
    if (entry.offset !== offset) {
      throw layoutError(`${where}: offset ${entry.offset} should be ${offset} (entries are back to back in layout order)`);
    }
    if (typeof entry.trainable !== 'boolean') throw layoutError(`${where}: trainable must be a boolean`);
    offset += entry.size;
  });
  return offset;
}

/** Like {@link validateLayout}, and also that `length` elements fit it exactly. */
export function validateLayoutFor(layout: readonly WeightEntry[], length: number, what: string): number {
  const total = validateLayout(layout);
  if (length !== total) {
    throw layoutError(`${what} has ${length} elements but the layout describes ${total}`);
  }
  return total;
}

/**
 * The trainable element ranges as flat `[start0, end0, start1, end1, …]`, with
 * adjacent trainable entries merged so the optimizer's inner loops run long.
 */
export function trainableRanges(layout: readonly WeightEntry[]): Uint32Array {
  const bounds: number[] = [];
  for (const entry of layout) {
    if (!entry.trainable || entry.size === 0) continue;
    const last = bounds.length - 1;
    if (last > 0 && bounds[last] === entry.offset) bounds[last] = entry.offset + entry.size;
    else bounds.push(entry.offset, entry.offset + entry.size);
  }
  return Uint32Array.from(bounds);
}

/** The non-trainable element ranges, in the same form as {@link trainableRanges}. */
export function stateRanges(layout: readonly WeightEntry[]): Uint32Array {
  return trainableRanges(layout.map((entry) => ({ ...entry, trainable: !entry.trainable })));
}

/**
 * Flat `[start0, end0, …]` ranges (as from {@link trainableRanges}) clipped to
 * `within` and shifted so that `within.start` is index 0: what a shard or an
 * optimizer over that range sees.
 */
export function localRanges(ranges: Uint32Array, within: FlatRange): Uint32Array {
  const out: number[] = [];
  for (let r = 0; r < ranges.length; r += 2) {
    const from = Math.max(within.start, ranges[r] as number);
    const to = Math.min(within.end, ranges[r + 1] as number);
    if (from < to) out.push(from - within.start, to - within.start);
  }
  return Uint32Array.from(out);
}

function isNonNegativeInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function layoutError(message: string): ParameterServerError {
  return new ParameterServerError('DTRAIN_PS_LAYOUT', message);
}
