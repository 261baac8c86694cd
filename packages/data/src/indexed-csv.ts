import type { ByteSource, ByteSourceFactory } from './byte-source.js';
import { parseCsv } from './csv-parse.js';
import { badRowOf } from './bad-sample.js';
import type { BadRow } from './bad-sample.js';
import { checkCsvOptions, csvRowFeatures, csvRowValues, resolveColumns } from './csv-record.js';
import type { ColumnLayout, CsvReaderOptions } from './csv-record.js';
import { scanCsvRecords } from './csv-record-scan.js';
import { DataError, dataErrorAt, describePosition } from './data-error.js';
import { GrowableFloat32 } from './growable-float32.js';
import { indexedDataset } from './indexed-dataset.js';
import type { IndexedDataset, RunRows } from './indexed-dataset.js';
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
 * records and parse their features again; a record that no longer parses
 * then (the file changed in place) is a bad row of the batch, not a failed
 * read.
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
    return indexedDataset({
      format: 'csv',
      featureShape: [featureSize],
      labelEncoding: options.labelEncoding,
      numClasses,
      featureType: 'float32',
      shards: shards.map((s) => ({ file: s.source.name, numSamples: s.offsets.length - 1 })),
      source: describeShards(files),
      rawLabels,
      readRun: (run) => readRows(shards[run.shard] as CsvShard, run.first, run.count, featureSize, options.header),
      close: () => sources.close(),
    });
  });
}

/**
 * Features of rows [first, first + count) of one shard, from one range read.
 * Each record is parsed on its own, between its offset and the next (its
 * line end and any blank lines are skipped, as indexing did): one that no
 * longer parses is a bad row naming its byte and column, and the others are
 * read. Its label cell is not looked at: labels were indexed at open.
 */
async function readRows(shard: CsvShard, first: number, count: number, featureSize: number, header: boolean): Promise<RunRows> {
  const { source, offsets, layout, names } = shard;
  const from = offsets[first] as number;
  const bytes = await source.read(from, (offsets[first + count] as number) - from);
  const decoder = new TextDecoder('utf-8');
  const out = new Float32Array(count * featureSize);
  const bad: BadRow[] = [];
  for (let k = 0; k < count; k++) {
    const start = offsets[first + k] as number;
    try {
      const text = decoder.decode(bytes.subarray(start - from, (offsets[first + k + 1] as number) - from));
      const fields = oneRecord(text, source.name, start);
      out.set(csvRowFeatures(fields, { byteOffset: start }, layout, names, header, source.name), k * featureSize);
    } catch (error) {
      const row = badRowOf(error, k);
      if (row === undefined) throw error;
      bad.push(row);
    }
  }
  return { features: out, bad };
}

/**
 * The cells of the one record `text` holds. A syntax error is placed at the
 * record's byte in the shard (parseCsv counts lines from the record's start,
 * which would name line 1 of a file that has many).
 */
function oneRecord(text: string, file: string, byteOffset: number): string[] {
  const records: string[][] = [];
  try {
    parseCsv(text, file, (fields) => {
      records.push(fields);
    });
  } catch (error) {
    if (!(error instanceof DataError) || error.position === undefined) throw error;
    const { line: _line, ...rest } = error.position;
    const prefix = `${file}: ${describePosition(error.position)}: `;
    const what = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    throw dataErrorAt(error.code, file, { ...rest, byteOffset }, what, error);
  }
  if (records.length !== 1) {
    throw dataErrorAt('DTRAIN_DATA_CSV_SYNTAX', file, { byteOffset }, `expected one record here, found ${records.length}; the file changed after it was indexed`);
  }
  return records[0] as string[];
}
