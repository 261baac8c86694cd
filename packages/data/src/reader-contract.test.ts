import { randomInt } from 'node:crypto';
import { csvReader } from './csv-reader.js';
import type { CsvReaderOptions } from './csv-reader.js';
import { encodeIdx } from './idx-format.js';
import type { IdxTypeCode } from './idx-format.js';
import { idxReader } from './idx-reader.js';
import type { IdxReaderOptions } from './idx-reader.js';
import { describeReaderContract } from './reader-contract.testkit.js';
import type { ReaderFixture } from './reader-contract.testkit.js';
import { createRng } from './rng.js';
import { syntheticReader } from './synthetic-reader.js';
import type { SyntheticReaderOptions } from './synthetic-reader.js';
import { useTempDir } from './test-support.testkit.js';

// Fresh random inputs each run: the contract must hold for any valid file.
const temp = useTempDir();

function idxFixture(typeCode: IdxTypeCode, gzip: boolean, labelEncoding: 'index' | 'onehot') {
  return async (): Promise<ReaderFixture<IdxReaderOptions>> => {
    const seed = randomInt(0, 2 ** 47);
    const rng = createRng(seed);
    const n = 1 + rng.nextInt(60);
    const dims = [n, 1 + rng.nextInt(5), 1 + rng.nextInt(5)];
    const numClasses = 2 + rng.nextInt(9);
    const size = n * (dims[1] as number) * (dims[2] as number);
    const values = Array.from({ length: size }, () =>
      typeCode === 0x08 ? rng.nextInt(256) : typeCode === 0x0b ? rng.nextInt(65536) - 32768 : rng.normal() * 100,
    );
    // Every class appears, so the default numClasses (max + 1) is known.
    const labels = Array.from({ length: n }, (_, i) => (i < numClasses ? i : rng.nextInt(numClasses)));
    const tag = `${typeCode}-${gzip}-${labelEncoding}-${seed}`;
    const images = await temp.write(`images-${tag}.idx`, encodeIdx(typeCode, dims, values), gzip);
    const labelsPath = await temp.write(`labels-${tag}.idx`, encodeIdx(0x08, [n], labels), gzip);
    const missing = temp.path(`absent-${tag}.idx`);
    const featureValues = typeCode === 0x0d ? values.map(Math.fround) : values;
    return {
      reader: idxReader,
      options: { images, labels: labelsPath, labelEncoding },
      expected: {
        numSamples: n,
        featureShape: dims.slice(1),
        labelEncoding,
        numClasses: Math.max(...labels) + 1,
        rawLabels: labels,
        features: featureValues,
      },
      missingFile: { images: missing, labels: labelsPath },
      missingPath: missing,
      invalidOptions: { images, labels: labelsPath, labelEncoding: 'value' },
      describe: `idx seed ${seed}`,
    };
  };
}

/** Quotes a CSV cell the way spreadsheet exports do, at random. */
function csvCell(value: string, rng: ReturnType<typeof createRng>): string {
  return rng.nextInt(3) === 0 ? `"${value}"` : value;
}

function csvFixture(header: boolean, labelEncoding: 'index' | 'onehot' | 'value') {
  return async (): Promise<ReaderFixture<CsvReaderOptions>> => {
    const seed = randomInt(0, 2 ** 47);
    const rng = createRng(seed);
    const n = 1 + rng.nextInt(50);
    const width = 2 + rng.nextInt(6);
    const labelIndex = rng.nextInt(width);
    const numClasses = 2 + rng.nextInt(5);
    const eol = rng.nextInt(2) === 0 ? '\r\n' : '\n';
    const names = Array.from({ length: width }, (_, c) => (c === labelIndex ? 'target' : `f,${c}`));
    const rows: string[] = header ? [names.map((name) => `"${name}"`).join(',')] : [];
    const features: number[] = [];
    const labels: number[] = [];
    for (let r = 0; r < n; r++) {
      const cells: string[] = [];
      for (let c = 0; c < width; c++) {
        let value: number;
        if (c === labelIndex) {
          value = labelEncoding === 'value' ? Number((rng.normal() * 10).toFixed(3)) : r < numClasses ? r : rng.nextInt(numClasses);
          labels.push(value);
        } else {
          value = Number((rng.normal() * 1000).toPrecision(6));
          features.push(value);
        }
        cells.push(csvCell(String(value), rng));
      }
      rows.push(cells.join(','));
    }
    const text = rows.join(eol) + eol + (rng.nextInt(2) === 0 ? eol : '');
    const tag = `${header}-${labelEncoding}-${seed}`;
    const path = await temp.write(`data-${tag}.csv`, text);
    const missing = temp.path(`absent-${tag}.csv`);
    const labelColumn = header ? 'target' : labelIndex;
    return {
      reader: csvReader,
      options: { path, labelColumn, header, labelEncoding },
      expected: {
        numSamples: n,
        featureShape: [width - 1],
        labelEncoding,
        numClasses: labelEncoding === 'value' ? undefined : Math.max(...labels) + 1,
        rawLabels: labels,
        features,
      },
      missingFile: { path: missing, labelColumn, header },
      missingPath: missing,
      invalidOptions: { path, labelColumn: -1 },
      describe: `csv seed ${seed}`,
    };
  };
}

function syntheticFixture(numClasses: number | undefined, labelEncoding: 'index' | 'onehot') {
  return (): Promise<ReaderFixture<SyntheticReaderOptions>> => {
    const seed = randomInt(0, 2 ** 47);
    const rng = createRng(seed);
    const numSamples = 1 + rng.nextInt(200);
    const featureShape = [1 + rng.nextInt(6), 1 + rng.nextInt(3)];
    const options: SyntheticReaderOptions = {
      numSamples,
      featureShape,
      seed,
      labelEncoding,
      ...(numClasses === undefined ? {} : { numClasses }),
    };
    return Promise.resolve({
      reader: syntheticReader,
      options,
      expected: {
        numSamples,
        featureShape,
        labelEncoding: numClasses === undefined ? 'value' : labelEncoding,
        numClasses,
      },
      invalidOptions: { numSamples: -1, featureShape, seed },
      describe: `synthetic seed ${seed}`,
    });
  };
}

describeReaderContract('idx, raw ubyte, index labels', idxFixture(0x08, false, 'index'));
describeReaderContract('idx, gzip float, onehot labels', idxFixture(0x0d, true, 'onehot'));
describeReaderContract('idx, gzip short, index labels', idxFixture(0x0b, true, 'index'));
describeReaderContract('csv, header, index labels', csvFixture(true, 'index'));
describeReaderContract('csv, no header, onehot labels', csvFixture(false, 'onehot'));
describeReaderContract('csv, header, value labels', csvFixture(true, 'value'));
describeReaderContract('synthetic, classification, onehot', syntheticFixture(4, 'onehot'));
describeReaderContract('synthetic, regression', syntheticFixture(undefined, 'index'));
