import { randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { csvReader } from './csv-reader.js';
import type { CsvReaderOptions } from './csv-reader.js';
import { encodeIdx } from './idx-format.js';
import type { IdxTypeCode } from './idx-format.js';
import { idxReader } from './idx-reader.js';
import { imageFolderReader } from './image-folder-reader.js';
import type { ImageFolderReaderOptions } from './image-folder-reader.js';
import { jsonlReader } from './jsonl-reader.js';
import type { JsonlReaderOptions } from './jsonl-reader.js';
import type { NpyDtype } from './npy-format.js';
import { encodeNpy } from './npy-format.testkit.js';
import { npyReader } from './npy-reader.js';
import type { NpyReaderOptions } from './npy-reader.js';
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

/** Two to four IDX shard pairs read through one glob each. */
function idxShardFixture() {
  return async (): Promise<ReaderFixture<IdxReaderOptions>> => {
    const seed = randomInt(0, 2 ** 47);
    const rng = createRng(seed);
    const shards = 2 + rng.nextInt(3);
    const sampleShape = [1 + rng.nextInt(5), 1 + rng.nextInt(5)];
    const numClasses = 2 + rng.nextInt(9);
    const features: number[] = [];
    const labels: number[] = [];
    for (let shard = 0; shard < shards; shard++) {
      const n = 1 + rng.nextInt(20);
      const values = Array.from({ length: n * sampleShape[0]! * sampleShape[1]! }, () => rng.nextInt(256));
      const ids = Array.from({ length: n }, (_, i) => (labels.length + i < numClasses ? labels.length + i : rng.nextInt(numClasses)));
      features.push(...values);
      labels.push(...ids);
      await temp.write(`shard-images-${seed}-${shard}.idx`, encodeIdx(0x08, [n, ...sampleShape], values), rng.nextInt(2) === 0);
      await temp.write(`shard-labels-${seed}-${shard}.idx`, encodeIdx(0x08, [n], ids), rng.nextInt(2) === 0);
    }
    const images = temp.path(`shard-images-${seed}-*.idx`);
    const labelsPath = temp.path(`shard-labels-${seed}-*.idx`);
    const missing = temp.path(`absent-shard-${seed}.idx`);
    return {
      reader: idxReader,
      options: { images, labels: labelsPath },
      expected: { numSamples: labels.length, featureShape: sampleShape, labelEncoding: 'index', numClasses: Math.max(...labels) + 1, rawLabels: labels, features },
      missingFile: { images: missing, labels: temp.path(`shard-labels-${seed}-0.idx`) },
      missingPath: missing,
      invalidOptions: { images: [], labels: labelsPath },
      describe: `idx shards seed ${seed}`,
    };
  };
}

/** Two to four CSV shards with headers whose column order differs, read through one glob. */
function csvShardFixture() {
  return async (): Promise<ReaderFixture<CsvReaderOptions>> => {
    const seed = randomInt(0, 2 ** 47);
    const rng = createRng(seed);
    const shards = 2 + rng.nextInt(3);
    const numClasses = 2 + rng.nextInt(5);
    const features: number[] = [];
    const labels: number[] = [];
    for (let shard = 0; shard < shards; shard++) {
      const labelFirst = rng.nextInt(2) === 0;
      const rows = [labelFirst ? 'label,a,b' : 'a,b,label'];
      const n = 1 + rng.nextInt(20);
      for (let r = 0; r < n; r++) {
        const x = [Number((rng.normal() * 10).toFixed(4)), Number((rng.normal() * 10).toFixed(4))];
        const y = labels.length < numClasses ? labels.length : rng.nextInt(numClasses);
        features.push(...x);
        labels.push(y);
        rows.push(labelFirst ? [y, ...x].join(',') : [...x, y].join(','));
      }
      await temp.write(`shard-${seed}-${shard}.csv`, rows.join('\n') + '\n', rng.nextInt(2) === 0);
    }
    const path = temp.path(`shard-${seed}-*.csv`);
    const missing = temp.path(`absent-shard-${seed}.csv`);
    return {
      reader: csvReader,
      options: { path, labelColumn: 'label', featureColumns: ['a', 'b'] },
      expected: { numSamples: labels.length, featureShape: [2], labelEncoding: 'index', numClasses: Math.max(...labels) + 1, rawLabels: labels, features },
      missingFile: { path: [temp.path(`shard-${seed}-0.csv`), missing], labelColumn: 'label' },
      missingPath: missing,
      invalidOptions: { path: [path, 7], labelColumn: 'label' },
      describe: `csv shards seed ${seed}`,
    };
  };
}

function jsonlFixture(shards: number, fields: 'array' | 'fields', labelEncoding: 'index' | 'onehot' | 'value') {
  return async (): Promise<ReaderFixture<JsonlReaderOptions>> => {
    const seed = randomInt(0, 2 ** 47);
    const rng = createRng(seed);
    const width = 1 + rng.nextInt(6);
    const numClasses = 2 + rng.nextInt(5);
    const features: number[] = [];
    const labels: number[] = [];
    const tag = `${shards}-${fields}-${labelEncoding}-${seed}`;
    for (let shard = 0; shard < shards; shard++) {
      const n = 1 + rng.nextInt(30);
      const lines: string[] = [];
      for (let r = 0; r < n; r++) {
        const x = Array.from({ length: width }, () => Number((rng.normal() * 100).toPrecision(6)));
        const k = labels.length;
        const y = labelEncoding === 'value' ? Number((rng.normal() * 10).toFixed(3)) : k < numClasses ? k : rng.nextInt(numClasses);
        features.push(...x);
        labels.push(y);
        const record = fields === 'array' ? { id: k, x, y } : { y, ...Object.fromEntries(x.map((v, i) => [`f${i}`, v])) };
        lines.push(JSON.stringify(record) + (rng.nextInt(4) === 0 ? '\n' : ''));
      }
      await temp.write(`rows-${tag}-${String(shard).padStart(3, '0')}.jsonl`, lines.join('\n') + '\n', rng.nextInt(2) === 0);
    }
    const path = shards === 1 ? temp.path(`rows-${tag}-000.jsonl`) : temp.path(`rows-${tag}-*.jsonl`);
    const featureOption = fields === 'array' ? { featureField: 'x' } : { featureFields: Array.from({ length: width }, (_, i) => `f${i}`) };
    const missing = temp.path(`absent-${tag}.jsonl`);
    return {
      reader: jsonlReader,
      options: { path, ...featureOption, labelField: 'y', labelEncoding },
      expected: {
        numSamples: labels.length,
        featureShape: [width],
        labelEncoding,
        numClasses: labelEncoding === 'value' ? undefined : Math.max(...labels) + 1,
        rawLabels: labels,
        features,
      },
      missingFile: { path: missing, ...featureOption, labelField: 'y' },
      missingPath: missing,
      invalidOptions: { path, labelField: 'y' },
      describe: `jsonl seed ${seed}`,
    };
  };
}

const NPY_DRAWS: Record<NpyDtype, (rng: ReturnType<typeof createRng>) => number> = {
  u1: (rng) => rng.nextInt(256),
  i1: (rng) => rng.nextInt(256) - 128,
  u2: (rng) => rng.nextInt(65536),
  i2: (rng) => rng.nextInt(65536) - 32768,
  u4: (rng) => rng.nextUint32(),
  i4: (rng) => rng.nextUint32() - 2 ** 31,
  i8: (rng) => (rng.nextInt(2 ** 20) - 2 ** 19) * 2 ** 20 + rng.nextInt(2 ** 20),
  f4: (rng) => rng.normal() * 100,
  f8: (rng) => rng.normal() * 1e-3,
};

function npyFixture(dtype: NpyDtype, shards: number, labelEncoding: 'index' | 'onehot') {
  return async (): Promise<ReaderFixture<NpyReaderOptions>> => {
    const seed = randomInt(0, 2 ** 47);
    const rng = createRng(seed);
    const sampleShape = [1 + rng.nextInt(4), 1 + rng.nextInt(4)];
    const numClasses = 2 + rng.nextInt(8);
    const tag = `${dtype}-${shards}-${labelEncoding}-${seed}`;
    const features: number[] = [];
    const labels: number[] = [];
    const version = (1 + rng.nextInt(3)) as 1 | 2 | 3;
    for (let shard = 0; shard < shards; shard++) {
      const n = 1 + rng.nextInt(40);
      const values = Array.from({ length: n * sampleShape[0]! * sampleShape[1]! }, () => NPY_DRAWS[dtype](rng));
      // Every class appears, so the default numClasses (max + 1) is known.
      const ids = Array.from({ length: n }, (_, i) => (labels.length + i < numClasses ? labels.length + i : rng.nextInt(numClasses)));
      labels.push(...ids);
      features.push(...values);
      const gzip = rng.nextInt(2) === 0;
      await temp.write(`x-${tag}-${shard}.npy`, encodeNpy(dtype, [n, ...sampleShape], values, { version }), gzip);
      await temp.write(`y-${tag}-${shard}.npy`, encodeNpy('i8', [n], ids, { version }), gzip);
    }
    const pattern = (kind: string) => (shards === 1 ? temp.path(`${kind}-${tag}-0.npy`) : temp.path(`${kind}-${tag}-*.npy`));
    const missing = temp.path(`absent-${tag}.npy`);
    return {
      reader: npyReader,
      options: { features: pattern('x'), labels: pattern('y'), labelEncoding },
      expected: {
        numSamples: labels.length,
        featureShape: sampleShape,
        labelEncoding,
        numClasses: Math.max(...labels) + 1,
        rawLabels: labels,
        features,
      },
      missingFile: { features: missing, labels: temp.path(`y-${tag}-0.npy`) },
      missingPath: missing,
      invalidOptions: { features: pattern('x'), labels: pattern('y'), featureShape: [0] },
      describe: `npy seed ${seed}`,
    };
  };
}

function imagesFixture(labelEncoding: 'index' | 'onehot') {
  return async (): Promise<ReaderFixture<ImageFolderReaderOptions>> => {
    const seed = randomInt(0, 2 ** 47);
    const rng = createRng(seed);
    const [height, width] = [1 + rng.nextInt(6), 1 + rng.nextInt(6)];
    const numClasses = 2 + rng.nextInt(3);
    await temp.write('.keep', '');
    const root = temp.path(`images-${labelEncoding}-${seed}`);
    const features: number[] = [];
    const labels: number[] = [];
    for (let c = 0; c < numClasses; c++) {
      await mkdir(join(root, `class-${c}`), { recursive: true });
      const count = 1 + rng.nextInt(4);
      for (let i = 0; i < count; i++) {
        const pixels = Uint8Array.from({ length: height * width }, () => rng.nextInt(256));
        // Lossless grayscale PNG, so the features are known exactly.
        await sharp(pixels, { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toFile(join(root, `class-${c}`, `img-${i}.png`));
        features.push(...pixels);
        labels.push(c);
      }
    }
    const missing = temp.path(`absent-images-${seed}`);
    return {
      reader: imageFolderReader,
      options: { path: root, labelEncoding },
      expected: { numSamples: labels.length, featureShape: [height, width, 1], labelEncoding, numClasses, rawLabels: labels, features },
      missingFile: { path: missing },
      missingPath: missing,
      invalidOptions: { path: root, featureShape: [height, width, 4] },
      describe: `images seed ${seed}`,
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
describeReaderContract('csv, header, sharded by glob', csvShardFixture());
describeReaderContract('idx, sharded by glob', idxShardFixture());
describeReaderContract('jsonl, array field, index labels', jsonlFixture(1, 'array', 'index'));
describeReaderContract('jsonl, named fields, 3 shards, onehot labels', jsonlFixture(3, 'fields', 'onehot'));
describeReaderContract('jsonl, array field, 2 shards, value labels', jsonlFixture(2, 'array', 'value'));
describeReaderContract('npy, uint8, index labels', npyFixture('u1', 1, 'index'));
describeReaderContract('npy, float32, 3 shards, onehot labels', npyFixture('f4', 3, 'onehot'));
describeReaderContract('npy, int16, index labels', npyFixture('i2', 1, 'index'));
describeReaderContract('npy, int64, 2 shards, index labels', npyFixture('i8', 2, 'index'));
describeReaderContract('npy, float64, index labels', npyFixture('f8', 1, 'index'));
describeReaderContract('images, grayscale PNG, index labels', imagesFixture('index'));
describeReaderContract('images, grayscale PNG, onehot labels', imagesFixture('onehot'));
describeReaderContract('synthetic, classification, onehot', syntheticFixture(4, 'onehot'));
describeReaderContract('synthetic, regression', syntheticFixture(undefined, 'index'));
