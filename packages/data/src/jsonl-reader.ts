import { dataErrorAt } from './data-error.js';
import type { DataError } from './data-error.js';
import type { Dataset } from './dataset.js';
import { GrowableFloat32 } from './growable-float32.js';
import { checkJsonlOptions, featureFieldName, parseJsonlRecord } from './jsonl-record.js';
import type { JsonlReaderOptions } from './jsonl-record.js';
import { encodeLabels, inferNumClasses } from './labels.js';
import { readDataFile } from './read-data-file.js';
import type { DatasetReader } from './reader-registry.js';
import { describeShards, expandShardPaths } from './shard-paths.js';

export type { JsonlReaderOptions } from './jsonl-record.js';

/** Reads JSON Lines into a dataset with featureShape [features per record]. Blank lines are skipped. */
export const jsonlReader: DatasetReader<JsonlReaderOptions> = {
  format: 'jsonl',
  async read(input: JsonlReaderOptions): Promise<Dataset> {
    const options = checkJsonlOptions(input);
    const { source, labelEncoding } = options;
    let numClasses = options.numClasses;

    const files = await expandShardPaths(options.path);
    const features = new GrowableFloat32();
    const labels = new GrowableFloat32();
    /** The feature count every record must have, and where it was first seen. */
    let width: { readonly count: number; readonly where: string } | undefined =
      source.kind === 'fields' ? { count: source.fields.length, where: 'featureFields' } : undefined;

    for (const file of files) {
      const { bytes } = await readDataFile(file);
      const lines = new TextDecoder('utf-8').decode(bytes).split('\n');
      for (const [index, rawLine] of lines.entries()) {
        const text = rawLine.trim();
        if (text === '') continue;
        const line = index + 1;
        const fail = (code: DataError['code'], what: string): never => {
          throw dataErrorAt(code, file, { line }, what);
        };
        const { values, label } = parseJsonlRecord(text, options, fail);
        width ??= { count: values.length, where: `${file}: line ${line}` };
        if (values.length !== width.count) {
          fail('DTRAIN_DATA_SHAPE', `${featureFieldName(source)} has ${values.length} values but ${width.where} has ${width.count}; every record must have the same number of features`);
        }
        features.append(values);
        labels.push(label);
      }
    }

    const labelValues = labels.toArray();
    if (labelEncoding !== 'value') numClasses ??= inferNumClasses(labelValues, describeShards(files));
    const encoded = encodeLabels(labelValues, labelEncoding, numClasses);
    return {
      numSamples: labelValues.length,
      featureShape: [width?.count ?? 0],
      labelShape: encoded.labelShape,
      labelEncoding,
      numClasses,
      features: features.toArray(),
      labels: encoded.labels,
      source: describeShards(files),
    };
  },
};
