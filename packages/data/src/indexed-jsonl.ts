import type { ByteSource, ByteSourceFactory } from './byte-source.js';
import { dataErrorAt } from './data-error.js';
import type { DataError } from './data-error.js';
import { badRowOf } from './bad-sample.js';
import type { BadRow } from './bad-sample.js';
import { GrowableFloat32 } from './growable-float32.js';
import { indexedDataset } from './indexed-dataset.js';
import type { IndexedDataset, RunRows } from './indexed-dataset.js';
import { expandShardLocations, OpenSources, refuseGzip } from './indexed-shards.js';
import { checkJsonlOptions, featureFieldName, parseJsonlFeatures, parseJsonlRecord } from './jsonl-record.js';
import type { Fail, FeatureSource, JsonlReaderOptions } from './jsonl-record.js';
import { inferNumClasses } from './labels.js';
import { RecordOffsets, scanLines } from './record-offsets.js';
import { describeShards } from './shard-paths.js';

interface JsonlShard {
  readonly source: ByteSource;
  /** Start of each record, then the end of the last: numSamples + 1 offsets. */
  readonly offsets: Float64Array;
}

/**
 * Opens JSON Lines shards (the `jsonl` reader's options) for reading by
 * sample. One streaming pass per shard parses every record, so a bad line
 * is found at open naming file and line, exactly as the whole-file reader
 * would, and keeps only each record's byte offset and raw label; reads then
 * fetch the byte range of a run of records and parse their features again.
 * A record that no longer parses then (the file changed in place) is a bad
 * row of the batch, not a failed read.
 */
export async function openIndexedJsonl(input: JsonlReaderOptions, open: ByteSourceFactory): Promise<IndexedDataset> {
  const options = checkJsonlOptions(input);
  const files = await expandShardLocations(options.path);
  const sources = new OpenSources(open);
  return sources.guard(async () => {
    const shards: JsonlShard[] = [];
    const labels = new GrowableFloat32();
    let width: { readonly count: number; readonly where: string } | undefined =
      options.source.kind === 'fields' ? { count: options.source.fields.length, where: 'featureFields' } : undefined;
    for (const file of files) {
      const source = await sources.open(file);
      const offsets = new RecordOffsets();
      const decoder = new TextDecoder('utf-8');
      let end = 0;
      let first = true;
      await scanLines(source, (bytes, start, line) => {
        if (first) refuseGzip(source, bytes);
        first = false;
        const text = decoder.decode(bytes).trim();
        if (text === '') return;
        const fail = (code: DataError['code'], what: string): never => {
          throw dataErrorAt(code, source.name, { line }, what);
        };
        const { values, label } = parseJsonlRecord(text, options, fail);
        width ??= { count: values.length, where: `${source.name}: line ${line}` };
        if (values.length !== width.count) {
          fail('DTRAIN_DATA_SHAPE', `${featureFieldName(options.source)} has ${values.length} values but ${width.where} has ${width.count}; every record must have the same number of features`);
        }
        offsets.push(start);
        labels.push(label);
        end = start + bytes.length;
      });
      offsets.push(end);
      shards.push({ source, offsets: offsets.toArray() });
    }
    const rawLabels = labels.toArray();
    const numClasses = options.labelEncoding === 'value' ? undefined : (options.numClasses ?? inferNumClasses(rawLabels, describeShards(files)));
    const featureSize = width?.count ?? 0;
    return indexedDataset({
      format: 'jsonl',
      featureShape: [featureSize],
      labelEncoding: options.labelEncoding,
      numClasses,
      featureType: 'float32',
      shards: shards.map((s) => ({ file: s.source.name, numSamples: s.offsets.length - 1 })),
      source: describeShards(files),
      rawLabels,
      readRun: (run) => readRecords(shards[run.shard] as JsonlShard, run.first, run.count, featureSize, options.source),
      close: () => sources.close(),
    });
  });
}

/**
 * Features of records [first, first + count) of one shard, from one range
 * read. Each record is parsed on its own, between its offset and the next
 * (its line end and any blank lines trimmed away, as indexing did): one that
 * no longer parses is a bad row naming its byte, and the others are read.
 */
async function readRecords(shard: JsonlShard, first: number, count: number, featureSize: number, features: FeatureSource): Promise<RunRows> {
  const { source, offsets } = shard;
  const from = offsets[first] as number;
  const bytes = await source.read(from, (offsets[first + count] as number) - from);
  const decoder = new TextDecoder('utf-8');
  const out = new Float32Array(count * featureSize);
  const bad: BadRow[] = [];
  for (let k = 0; k < count; k++) {
    const start = offsets[first + k] as number;
    const fail: Fail = (code, what) => {
      throw dataErrorAt(code, source.name, { byteOffset: start }, what);
    };
    try {
      const text = decoder.decode(bytes.subarray(start - from, (offsets[first + k + 1] as number) - from)).trim();
      const values = parseJsonlFeatures(text, features, fail);
      if (values.length !== featureSize) {
        fail('DTRAIN_DATA_SHAPE', `${featureFieldName(features)} has ${values.length} values but the dataset was indexed with ${featureSize}; every record must have the same number of features`);
      }
      out.set(values, k * featureSize);
    } catch (error) {
      const row = badRowOf(error, k);
      if (row === undefined) throw error;
      bad.push(row);
    }
  }
  return { features: out, bad };
}
