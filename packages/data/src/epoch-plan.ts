import { checkBoolean, checkInteger } from './check-options.js';
import type { Batch } from './dataset.js';
import { createRng, deriveSeed } from './rng.js';

/** What determines an epoch's plan; the same values always give the same plan. */
export interface EpochPlanOptions {
  /** Samples in the training set; sample ids are 0..numSamples-1. */
  readonly numSamples: number;
  /** Samples per batch (≥ 1); the last batch holds the remainder. */
  readonly batchSize: number;
  /** The job's seed. */
  readonly seed: number;
  /** Epoch number (≥ 0): each epoch gets its own shuffle. */
  readonly epoch: number;
  /** Shuffle the samples; false keeps them in id order (for debugging). Default: true. */
  readonly shuffle?: boolean;
}

const WHERE = 'epoch plan';
/** Keeps epoch shuffles apart from other streams drawn from the job seed. */
const EPOCH_SALT = 0xe90c;

/** Checked plan options with defaults filled in. */
export interface ResolvedEpochPlanOptions {
  readonly numSamples: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly epoch: number;
  readonly shuffle: boolean;
}

/** Checks plan options (DTRAIN_DATA_OPTIONS naming the field) and fills in defaults. */
export function resolveEpochPlanOptions(options: EpochPlanOptions): ResolvedEpochPlanOptions {
  return {
    numSamples: checkInteger(options.numSamples, WHERE, 'numSamples', 0),
    batchSize: checkInteger(options.batchSize, WHERE, 'batchSize', 1),
    seed: checkInteger(options.seed, WHERE, 'seed', Number.MIN_SAFE_INTEGER),
    epoch: checkInteger(options.epoch, WHERE, 'epoch', 0),
    shuffle: checkBoolean(options.shuffle, WHERE, 'shuffle', true),
  };
}

/** Number of batches in an epoch: ceil(numSamples / batchSize); no sample is dropped. */
export function batchCount(numSamples: number, batchSize: number): number {
  return Math.ceil(numSamples / batchSize);
}

/** The epoch's sample order: a permutation of 0..numSamples-1 seeded by (seed, epoch). */
export function epochOrder(options: EpochPlanOptions): Uint32Array {
  const { numSamples, seed, epoch, shuffle } = resolveEpochPlanOptions(options);
  if (!shuffle) return Uint32Array.from({ length: numSamples }, (_, i) => i);
  return createRng(deriveSeed(seed, EPOCH_SALT, epoch)).permutation(numSamples);
}

/**
 * Cuts the epoch's shuffled order into batches of batchSize; the last batch
 * keeps the remainder. batchId is the batch's index within the epoch, so a
 * plan can be rebuilt from its options alone (a restarted coordinator does).
 */
export function planEpoch(options: EpochPlanOptions): Batch[] {
  const { batchSize, epoch } = resolveEpochPlanOptions(options);
  const order = epochOrder(options);
  const batches: Batch[] = [];
  for (let start = 0, batchId = 0; start < order.length; start += batchSize, batchId++) {
    // slice, not subarray: each batch owns its buffer, so encoders that send
    // `.buffer` whole cannot leak the rest of the epoch.
    batches.push({ batchId, epoch, sampleIds: order.slice(start, start + batchSize) });
  }
  return batches;
}
