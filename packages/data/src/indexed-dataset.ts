import type { BadRow, BadSample } from './bad-sample.js';
import { asUnreadable, DataError } from './data-error.js';
import type { LabelEncoding } from './dataset.js';
import { encodeLabels } from './labels.js';
import { planRuns } from './sample-runs.js';
import type { SampleRun } from './sample-runs.js';

/** Rows of an indexed dataset, in the order of the ids asked for. */
export interface IndexedBatch {
  /**
   * ids.length × featureSize values, sample-major. A Uint8Array when every
   * shard stores 8-bit unsigned values (IDX ubyte, npy uint8): bytes stay
   * bytes until the batch tensor is built. Float32Array otherwise.
   */
  readonly features: Uint8Array | Float32Array;
  /** ids.length × labelSize, encoded as `labelEncoding` says. */
  readonly labels: Float32Array;
  /**
   * The samples whose features could not be read (a record that does not
   * parse, an image that does not decode), by ascending position; their
   * feature and label rows are zeros. Empty for idx and npy, whose bytes are
   * their values.
   */
  readonly bad: readonly BadSample[];
}

/** The features of one run of samples, and those of its samples that could not be read. */
export interface RunRows {
  /** run.count × featureSize values of the dataset's featureType; a bad row's are zeros. */
  readonly features: Uint8Array | Float32Array;
  /** Bad rows of the run, each at most once. */
  readonly bad: readonly BadRow[];
}

/** One shard as indexed: what it is named and how many samples it holds. */
export interface IndexedShard {
  readonly file: string;
  readonly numSamples: number;
}

/**
 * A dataset opened without reading its contents: an index of its shards
 * (samples per shard, byte offsets where the format allows, one raw label
 * per sample) from which any list of sample ids is read on demand, by byte
 * range. What a worker reads its own samples through.
 */
export interface IndexedDataset {
  /** The format name, as for the whole-file readers ('idx', 'npy', 'jsonl', 'csv', 'images'). */
  readonly format: string;
  readonly numSamples: number;
  readonly featureShape: readonly number[];
  readonly labelShape: readonly number[];
  readonly labelEncoding: LabelEncoding;
  readonly numClasses: number | undefined;
  /** What `read` returns as features: 'uint8' when every shard holds unsigned bytes. */
  readonly featureType: 'uint8' | 'float32';
  readonly shards: readonly IndexedShard[];
  /** Where it came from, for messages: the first shard and how many more. */
  readonly source: string;
  /**
   * The samples `ids` names (any order, repeats allowed); an id past the end
   * is DTRAIN_DATA_RANGE. A sample whose record cannot be parsed or decoded
   * is listed in `bad` rather than failing the read; a shard that cannot be
   * read (vanished, shorter than indexed, the server down) rejects it with
   * DTRAIN_DATA_UNREADABLE naming the shard.
   */
  read(ids: Uint32Array): Promise<IndexedBatch>;
  /** Releases the shards' byte sources. */
  close(): Promise<void>;
}

/** What a format contributes: its metadata and how to read one run of samples' features. */
export interface IndexedParts {
  readonly format: string;
  readonly featureShape: readonly number[];
  readonly labelEncoding: LabelEncoding;
  readonly numClasses: number | undefined;
  readonly featureType: 'uint8' | 'float32';
  readonly shards: readonly IndexedShard[];
  readonly source: string;
  /**
   * One raw label per sample (class id or target), all shards in order. Held
   * in memory: 4 bytes a sample, the same order as the offset index, and
   * needed anyway to check labels and infer numClasses before training.
   */
  readonly rawLabels: Float32Array;
  /**
   * The features of one run, of `featureType`, and its bad rows. Rejects
   * when the shard cannot be read: anything but a DataError is taken as
   * DTRAIN_DATA_UNREADABLE naming the shard.
   */
  readRun(run: SampleRun): Promise<RunRows>;
  close(): Promise<void>;
  /** Range reads in flight per `read` call. Default 8. */
  readonly concurrency?: number;
}

const shapeSize = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Builds an {@link IndexedDataset} from a format's parts: run planning, parallel reads, label encoding. */
export function indexedDataset(parts: IndexedParts): IndexedDataset {
  const featureSize = shapeSize(parts.featureShape);
  const shardStarts = new Float64Array(parts.shards.length + 1);
  parts.shards.forEach((shard, i) => {
    shardStarts[i + 1] = (shardStarts[i] as number) + shard.numSamples;
  });
  const numSamples = shardStarts[parts.shards.length] as number;
  const labelShape = parts.labelEncoding === 'onehot' ? [parts.numClasses as number] : [1];
  const labelSize = labelShape[0] as number;
  const concurrency = parts.concurrency ?? 8;

  return {
    format: parts.format,
    numSamples,
    featureShape: parts.featureShape,
    labelShape,
    labelEncoding: parts.labelEncoding,
    numClasses: parts.numClasses,
    featureType: parts.featureType,
    shards: parts.shards,
    source: parts.source,
    async read(ids: Uint32Array): Promise<IndexedBatch> {
      const plan = planRuns(ids, shardStarts, parts.source);
      const runData: RunRows[] = new Array(plan.runs.length);
      // A few reads in flight: enough to hide a round trip, few enough not to flood a server.
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < plan.runs.length) {
          const index = next++;
          const run = plan.runs[index] as SampleRun;
          try {
            runData[index] = await parts.readRun(run);
          } catch (error) {
            // Unknown errors are normalised here, at the boundary: they concern the shard.
            throw error instanceof DataError ? error : asUnreadable(error, (parts.shards[run.shard] as IndexedShard).file);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, plan.runs.length) }, lane));

      const badOfRun = runData.map((data) => (data.bad.length === 0 ? undefined : new Map(data.bad.map((b) => [b.row, b]))));
      const features = parts.featureType === 'uint8' ? new Uint8Array(ids.length * featureSize) : new Float32Array(ids.length * featureSize);
      const raw = new Float32Array(ids.length);
      const bad: BadSample[] = [];
      for (let i = 0; i < ids.length; i++) {
        const runIndex = plan.runOf[i] as number;
        const row = plan.rowInRun[i] as number;
        const badRow = badOfRun[runIndex]?.get(row);
        raw[i] = parts.rawLabels[ids[i] as number] as number;
        if (badRow !== undefined) {
          bad.push({ position: i, id: ids[i] as number, reason: badRow.reason, message: badRow.message });
          continue;
        }
        const data = (runData[runIndex] as RunRows).features;
        features.set(data.subarray(row * featureSize, (row + 1) * featureSize), i * featureSize);
      }
      const { labels } = encodeLabels(raw, parts.labelEncoding, parts.numClasses);
      for (const { position } of bad) labels.fill(0, position * labelSize, (position + 1) * labelSize);
      return { features, labels, bad };
    },
    close: () => parts.close(),
  };
}
