import type { ByteSource, ByteSourceFactory } from './byte-source.js';
import { parseCsv } from './csv-parse.js';
import { checkCsvOptions, csvRowValues, resolveColumns } from './csv-record.js';
import type { CheckedCsvOptions, ColumnLayout, CsvReaderOptions } from './csv-record.js';
import { scanCsvRecords } from './csv-record-scan.js';
import { dataErrorAt } from './data-error.js';
import type { DataError } from './data-error.js';
import { GrowableFloat32 } from './growable-float32.js';
import { indexedDataset } from './indexed-dataset.js';
import type { IndexedDataset } from './indexed-dataset.js';
import { expandShardLocations, OpenSources, refuseGzip } from './indexed-shards.js';
import { inferNumClasses } from './labels.js';
import { RecordOffsets } from './record-offsets.js';
import { describeShards } from './shard-paths.js';

interface CsvShard {
  readonly source: ByteSource;
  /** Start of each data record, then the end of the last: numSamples + 1 offsets. */
  readonly offsets: Float64Array;
  readonly layout: ColumnLayout;
  readonly names: readonly string[] | undefined;
}

/**
 * Opens CSV shards (the `csv` reader's options) for reading by sample. One
 * streaming pass per shard finds the record boundaries (quoted line ends
 * included) and parses every row with the whole-file reader's checks, so a
 * bad cell is found at open naming file, line and column; it keeps only each
 * record's byte offset and raw label. Reads fetch the byte range of a run of
 * records and parse those again.
 */
export async function openIndexedCsv(input: CsvReaderOptions, open: ByteSourceFactory): Promise<IndexedDataset> {
  const options = checkCsvOptions(input);
  const files = await expandShardLocations(options.path);
  const sources = new OpenSources(open);
  return sources.guard(async () => {
    const shards: CsvShard[] = [];
    const labels = new GrowableFloat32();
    let firstLayout: { readonly file: string; readonly featureCount: number } | undefined;
    for (const file of files) {
      const source = await sources.open(file);
      refuseGzip(source, await source.read(0, Math.min(2, await source.size())));
      const offsets = new RecordOffsets();
      const decoder = new TextDecoder('utf-8');
      let layout: ColumnLayout | undefined;
      let names: string[] | undefined;
      let end = 0;
      await scanCsvRecords(source, (bytes, start, recordLine) => {
        parseCsv(decoder.decode(bytes), source.name, (fields, line) => {
          if (layout === undefined) {
            if (options.header) names = fields.map((f) => f.trim());
            layout = resolveColumns(source.name, fields.length, names, options.labelRef, options.featureRefs);
            firstLayout ??= { file: source.name, featureCount: layout.features.length };
            if (layout.features.length !== firstLayout.featureCount) {
              throw dataErrorAt(
                'DTRAIN_DATA_SHAPE',
                source.name,
                { line },
                `has ${layout.features.length} feature columns but ${firstLayout.file} has ${firstLayout.featureCount}; every shard must share one sample shape`,
              );
            }
            if (options.header) return;
          }
          labels.push(csvRowValues(fields, line, layout, names, options, source.name).label);
          offsets.push(start);
          end = start + bytes.length;
        }, recordLine);
      });
      offsets.push(end);
      // A shard with no rows at all has no layout; it adds no samples.
      shards.push({ source, offsets: offsets.toArray(), layout: layout ?? { width: 0, label: 0, features: [] }, names });
    }
    const rawLabels = labels.toArray();
    const numClasses = options.labelEncoding === 'value' ? undefined : (options.numClasses ?? inferNumClasses(rawLabels, describeShards(files)));
    const featureSize = firstLayout?.featureCount ?? options.featureRefs?.length ?? 0;
    const checked = { ...options, numClasses };
    return indexedDataset({
      format: 'csv',
      featureShape: [featureSize],
      labelEncoding: options.labelEncoding,
      numClasses,
      featureType: 'float32',
      shards: shards.map((s) => ({ file: s.source.name, numSamples: s.offsets.length - 1 })),
      source: describeShards(files),
      rawLabels,
      readRun: (run) => readRows(shards[run.shard] as CsvShard, run.first, run.count, featureSize, checked),
      close: () => sources.close(),
    });
  });
}

/** Features of rows [first, first + count) of one shard, from one range read. */
async function readRows(shard: CsvShard, first: number, count: number, featureSize: number, options: CheckedCsvOptions): Promise<Float32Array> {
  const { source, offsets, layout, names } = shard;
  const from = offsets[first] as number;
  const bytes = await source.read(from, (offsets[first + count] as number) - from);
  const out = new Float32Array(count * featureSize);
  let k = 0;
  const changed = (what: string): DataError =>
    dataErrorAt('DTRAIN_DATA_READ', source.name, { byteOffset: from }, `record ${first}: ${what}; the file changed after it was indexed`);
  // The range may hold line ends and blank lines between records: parseCsv skips them as indexing did.
  parseCsv(new TextDecoder('utf-8').decode(bytes), source.name, (fields) => {
    if (k >= count) throw changed(`expected ${count} records from here, found more`);
    out.set(csvRowValues(fields, undefined, layout, names, options, source.name).values, k * featureSize);
    k++;
  });
  if (k !== count) throw changed(`expected ${count} records from here, found ${k}`);
  return out;
}
