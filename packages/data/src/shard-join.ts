import { dataErrorAt } from './data-error.js';

/** One shard as read: its samples' features and one raw label per sample. */
export interface ShardPart {
  /** The shard's features file, named in errors. */
  readonly file: string;
  readonly featureShape: readonly number[];
  readonly features: Float32Array;
  /** One raw value per sample (class id or target), not yet encoded. */
  readonly rawLabels: Float32Array;
}

/** Shards joined into one sample-major dataset body. */
export interface JoinedShards {
  readonly featureShape: readonly number[];
  readonly features: Float32Array;
  readonly rawLabels: Float32Array;
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

const shown = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/**
 * Concatenates shards in order. Every shard must have the first one's sample
 * shape, else DTRAIN_DATA_SHAPE naming the first shard that differs: a model
 * takes one input shape, and a silent reshape would scramble samples.
 * One part is returned as is, without a copy.
 */
export function joinShards(parts: readonly ShardPart[]): JoinedShards {
  const first = parts[0];
  if (first === undefined) throw new RangeError('joinShards: no shards');
  if (parts.length === 1) return first;
  let featureCount = 0;
  let labelCount = 0;
  for (const part of parts) {
    if (!sameShape(part.featureShape, first.featureShape)) {
      throw dataErrorAt(
        'DTRAIN_DATA_SHAPE',
        part.file,
        undefined,
        `samples have shape ${shown(part.featureShape)} but ${first.file} has ${shown(first.featureShape)}; every shard must share one sample shape`,
      );
    }
    featureCount += part.features.length;
    labelCount += part.rawLabels.length;
  }
  const features = new Float32Array(featureCount);
  const rawLabels = new Float32Array(labelCount);
  let f = 0;
  let l = 0;
  for (const part of parts) {
    features.set(part.features, f);
    rawLabels.set(part.rawLabels, l);
    f += part.features.length;
    l += part.rawLabels.length;
  }
  return { featureShape: first.featureShape, features, rawLabels };
}
