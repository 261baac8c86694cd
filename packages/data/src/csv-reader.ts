import { dataErrorAt } from './data-error.js';
import type { Dataset } from './dataset.js';
import { parseCsv } from './csv-parse.js';
import { checkCsvOptions, csvRowValues, resolveColumns } from './csv-record.js';
import type { ColumnLayout, CsvReaderOptions } from './csv-record.js';
import { encodeLabels, inferNumClasses } from './labels.js';
import { readDataFile } from './read-data-file.js';
import { GrowableFloat32 } from './growable-float32.js';
import type { DatasetReader } from './reader-registry.js';
import { describeShards, expandShardPaths } from './shard-paths.js';

export type { CsvReaderOptions } from './csv-record.js';

/** Reads a CSV file into a dataset with featureShape [number of feature columns]. */
export const csvReader: DatasetReader<CsvReaderOptions> = {
  format: 'csv',
  async read(input: CsvReaderOptions): Promise<Dataset> {
    const options = checkCsvOptions(input);
    const { header, labelEncoding, featureRefs } = options;
    let numClasses = options.numClasses;

    const files = await expandShardPaths(options.path);
    const features = new GrowableFloat32();
    const labels = new GrowableFloat32();
    let firstLayout: { readonly file: string; readonly featureCount: number } | undefined;
    for (const path of files) {
      const { bytes } = await readDataFile(path);
      const text = new TextDecoder('utf-8').decode(bytes);

      let names: string[] | undefined;
      let layout: ColumnLayout | undefined;
      parseCsv(text, path, (fields, line) => {
        if (layout === undefined) {
          if (header) names = fields.map((f) => f.trim());
          layout = resolveColumns(path, fields.length, names, options.labelRef, featureRefs);
          firstLayout ??= { file: path, featureCount: layout.features.length };
          if (layout.features.length !== firstLayout.featureCount) {
            throw dataErrorAt(
              'DTRAIN_DATA_SHAPE',
              path,
              { line },
              `has ${layout.features.length} feature columns but ${firstLayout.file} has ${firstLayout.featureCount}; every shard must share one sample shape`,
            );
          }
          if (header) return;
        }
        const row = csvRowValues(fields, line, layout, names, options, path);
        features.append(row.values);
        labels.push(row.label);
      });
    }

    const labelValues = labels.toArray();
    if (labelEncoding !== 'value') numClasses ??= inferNumClasses(labelValues, describeShards(files));
    const encoded = encodeLabels(labelValues, labelEncoding, numClasses);
    return {
      numSamples: labelValues.length,
      featureShape: [firstLayout?.featureCount ?? featureRefs?.length ?? 0],
      labelShape: encoded.labelShape,
      labelEncoding,
      numClasses,
      features: features.toArray(),
      labels: encoded.labels,
      source: describeShards(files),
    };
  },
};
