import { mkdir, rm, stat, truncate } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from './dataset.js';
import { encodeIdx } from './idx-format.js';
import type { IdxTypeCode } from './idx-format.js';
import { csvReader } from './csv-reader.js';
import { writeImage } from './image-files.testkit.js';
import { imageFolderReader } from './image-folder-reader.js';
import { idxReader } from './idx-reader.js';
import type { IndexedDataset } from './indexed-dataset.js';
import { serveFolder } from './http-test-server.testkit.js';
import type { TestServer } from './http-test-server.testkit.js';
import { jsonlReader } from './jsonl-reader.js';
import type { NpyDtype } from './npy-format.js';
import { encodeNpy } from './npy-format.testkit.js';
import { npyReader } from './npy-reader.js';
import { openIndexed } from './open-indexed.js';
import type { IndexedFormat } from './open-indexed.js';
import { createRng } from './rng.js';
import type { Rng } from './rng.js';
import { expectDataError, freshSeed, useTempDir } from './test-support.testkit.js';

/*
 * The contract every indexed format owes: reading all ids in order gives
 * exactly what the whole-file reader gives for the same files, shuffled ids
 * give the same rows, a truncated shard is a DataError naming the file (at
 * open when indexing reads that far, else DTRAIN_DATA_UNREADABLE at read).
 * Image folders are local only: they run the first part, and a broken or
 * vanished image instead of a truncated shard.
 * Fresh random files each run; the seed is printed on failure.
 */

const temp = useTempDir();
let server: TestServer;
let dir = '';

beforeAll(async () => {
  dir = dirname(await temp.write('.ready', ''));
  server = await serveFolder(() => dir);
});

/** Paths as the server's URLs, for the same test over http. */
const toUrl = (path: string): string => `${server.baseUrl}${basename(path)}`;

interface Fixture {
  readonly format: IndexedFormat;
  /** Reader options naming the shard files, built from a path mapper (local paths or URLs). */
  readonly options: (name: (path: string) => string) => unknown;
  readonly whole: () => Promise<Dataset>;
  /** A features shard to cut short, and the byte to cut it at (default: drop its last byte). */
  readonly truncateAt: { readonly path: string; readonly size?: number };
  readonly featureType: 'uint8' | 'float32';
}

type Shards = number[];

function shardSizes(rng: Rng): Shards {
  return Array.from({ length: 1 + rng.nextInt(3) }, () => 1 + rng.nextInt(30));
}

function value(rng: Rng, kind: 'byte' | 'short' | 'float'): number {
  return kind === 'byte' ? rng.nextInt(256) : kind === 'short' ? rng.nextInt(65536) - 32768 : Math.fround(rng.normal() * 100);
}

async function idxFixture(seed: number, typeCode: IdxTypeCode, labelEncoding: 'index' | 'onehot'): Promise<Fixture> {
  const rng = createRng(seed);
  const dims = [1 + rng.nextInt(4), 1 + rng.nextInt(4)];
  const kind = typeCode === 0x08 ? 'byte' : typeCode === 0x0b ? 'short' : 'float';
  const images: string[] = [];
  const labels: string[] = [];
  for (const [s, n] of shardSizes(rng).entries()) {
    const values = Array.from({ length: n * (dims[0] as number) * (dims[1] as number) }, () => value(rng, kind));
    images.push(await temp.write(`idx-${seed}-images-${s}.idx`, encodeIdx(typeCode, [n, ...dims], values)));
    labels.push(await temp.write(`idx-${seed}-labels-${s}.idx`, encodeIdx(0x08, [n], Array.from({ length: n }, () => rng.nextInt(7)))));
  }
  const first = images[0] as string;
  return {
    format: 'idx',
    options: (name) => ({ images: images.map(name), labels: labels.map(name), labelEncoding, numClasses: 7 }),
    whole: () => idxReader.read({ images, labels, labelEncoding, numClasses: 7 }),
    truncateAt: { path: first },
    featureType: typeCode === 0x08 ? 'uint8' : 'float32',
  };
}

async function npyFixture(seed: number, dtype: NpyDtype, labelEncoding: 'index' | 'value'): Promise<Fixture> {
  const rng = createRng(seed);
  const shape = [1 + rng.nextInt(3), 1 + rng.nextInt(3)];
  const kind = dtype === 'u1' ? 'byte' : dtype === 'i2' ? 'short' : 'float';
  const features: string[] = [];
  const labels: string[] = [];
  for (const [s, n] of shardSizes(rng).entries()) {
    const values = Array.from({ length: n * (shape[0] as number) * (shape[1] as number) }, () => value(rng, kind));
    features.push(await temp.write(`npy-${seed}-x-${s}.npy`, encodeNpy(dtype, [n, ...shape], values)));
    const ys = Array.from({ length: n }, () => (labelEncoding === 'value' ? Math.fround(rng.normal()) : rng.nextInt(5)));
    labels.push(await temp.write(`npy-${seed}-y-${s}.npy`, encodeNpy(labelEncoding === 'value' ? 'f4' : 'i4', [n], ys)));
  }
  const extra = labelEncoding === 'value' ? {} : { numClasses: 5 };
  return {
    format: 'npy',
    options: (name) => ({ features: features.map(name), labels: labels.map(name), labelEncoding, ...extra }),
    whole: () => npyReader.read({ features, labels, labelEncoding, ...extra }),
    truncateAt: { path: features[0] as string },
    featureType: dtype === 'u1' ? 'uint8' : 'float32',
  };
}

async function jsonlFixture(seed: number, style: 'array' | 'fields', labelEncoding: 'index' | 'onehot' | 'value'): Promise<Fixture> {
  const rng = createRng(seed);
  const width = 1 + rng.nextInt(5);
  const classNames = ['cat', 'dog', 'eel'];
  const paths: string[] = [];
  for (const [s, n] of shardSizes(rng).entries()) {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const xs = Array.from({ length: width }, () => Math.round(rng.normal() * 1000) / 8);
      const label = labelEncoding === 'value' ? rng.normal() : classNames[rng.nextInt(3)];
      const record = style === 'array' ? { x: xs, y: label, note: 'ünïcode ✓' } : { ...Object.fromEntries(xs.map((v, f) => [`f${f}`, v])), y: label };
      // Blank lines, CRLF and a unicode field: what real files hold between records.
      lines.push(JSON.stringify(record) + (rng.nextInt(4) === 0 ? '\r' : ''));
      if (rng.nextInt(5) === 0) lines.push('   ');
    }
    paths.push(await temp.write(`jsonl-${seed}-${s}.jsonl`, lines.join('\n') + (rng.nextInt(2) === 0 ? '\n' : '')));
  }
  const features = style === 'array' ? { featureField: 'x' } : { featureFields: Array.from({ length: width }, (_, f) => `f${f}`) };
  const labels = labelEncoding === 'value' ? {} : { classNames };
  return {
    format: 'jsonl',
    options: (name) => ({ path: paths.map(name), labelField: 'y', labelEncoding, ...features, ...labels }),
    whole: () => jsonlReader.read({ path: paths, labelField: 'y', labelEncoding, ...features, ...labels }),
    truncateAt: { path: paths[0] as string, size: 7 },
    featureType: 'float32',
  };
}

async function csvFixture(seed: number, header: boolean, labelEncoding: 'index' | 'value'): Promise<Fixture> {
  const rng = createRng(seed);
  const width = 1 + rng.nextInt(4);
  const classNames = ['setosa', 'versicolor'];
  const paths: string[] = [];
  let cutAt = 0;
  for (const [s, n] of shardSizes(rng).entries()) {
    const eol = ['\n', '\r\n', '\r'][rng.nextInt(3)] as string;
    const rows: string[] = [];
    // Header names with a comma, and a note column of quoted text with commas, quotes and line ends: not a feature.
    if (header) rows.push(['"note, free text"', ...Array.from({ length: width }, (_, f) => `"f,${f}"`), 'target'].join(','));
    for (let i = 0; i < n; i++) {
      const note = `"row ${i}, says ""hi""${rng.nextInt(2) === 0 ? '\nacross lines\r\n' : ''}"`;
      const xs = Array.from({ length: width }, () => String(Math.round(rng.normal() * 1000) / 4));
      const label = labelEncoding === 'value' ? String(rng.normal()) : (classNames[rng.nextInt(2)] as string);
      rows.push([note, ...xs.map((x) => (rng.nextInt(3) === 0 ? `"${x}"` : x)), label].join(','));
      if (rng.nextInt(6) === 0) rows.push('');
    }
    const bom = rng.nextInt(3) === 0 ? '\ufeff' : '';
    const text = bom + rows.join(eol) + (rng.nextInt(2) === 0 ? eol : '');
    if (s === 0) cutAt = new TextEncoder().encode(text.slice(0, text.indexOf('"row 0') + 4)).length;
    paths.push(await temp.write(`csv-${seed}-${s}.csv`, text));
  }
  const features = Array.from({ length: width }, (_, f) => (header ? `f,${f}` : f + 1));
  const labelColumn = header ? 'target' : width + 1;
  const labels = labelEncoding === 'value' ? {} : { classNames };
  return {
    format: 'csv',
    options: (name) => ({ path: paths.map(name), header, labelColumn, featureColumns: features, labelEncoding, ...labels }),
    whole: () => csvReader.read({ path: paths, header, labelColumn, featureColumns: features, labelEncoding, ...labels }),
    // Cut inside the first record's quoted note: an unclosed quote.
    truncateAt: { path: paths[0] as string, size: cutAt },
    featureType: 'float32',
  };
}

const asFloats = (a: Uint8Array | Float32Array): number[] => Array.from(a);

function describeIndexedContract(name: string, make: (seed: number) => Promise<Fixture>, overHttp: boolean): void {
  describe(`indexed contract: ${name}${overHttp ? ' over http' : ''}`, () => {
    it('reads all ids in order exactly as the whole-file reader, and shuffled ids as the same rows', async () => {
      const seed = freshSeed(`${name} seed`);
      const fixture = await make(seed);
      const whole = await fixture.whole();
      const indexed = await openIndexed(fixture.format, fixture.options(overHttp ? toUrl : (p) => p));
      try {
        expect(indexed.numSamples).toBe(whole.numSamples);
        expect([...indexed.featureShape]).toEqual([...whole.featureShape]);
        expect([...indexed.labelShape]).toEqual([...whole.labelShape]);
        expect(indexed.numClasses).toBe(whole.numClasses);
        expect(indexed.labelEncoding).toBe(whole.labelEncoding);
        expect(indexed.featureType).toBe(fixture.featureType);
        expect(indexed.shards.reduce((n, s) => n + s.numSamples, 0)).toBe(whole.numSamples);

        const all = await indexed.read(Uint32Array.from({ length: whole.numSamples }, (_, i) => i));
        expect(all.features).toBeInstanceOf(fixture.featureType === 'uint8' ? Uint8Array : Float32Array);
        expect(asFloats(all.features)).toEqual(asFloats(whole.features));
        expect(Array.from(all.labels)).toEqual(Array.from(whole.labels));
        expect(all.bad).toEqual([]);

        const ids = createRng(seed).shuffle(Uint32Array.from({ length: whole.numSamples * 2 }, (_, i) => i % whole.numSamples));
        await expectRows(indexed, whole, ids);
      } finally {
        await indexed.close();
      }
    });

    it('rejects a shard truncated before open, naming the file', async () => {
      const fixture = await make(freshSeed(`${name} seed`));
      const { path, size } = fixture.truncateAt;
      await truncate(path, size ?? (await stat(path)).size - 1);
      const shown = overHttp ? toUrl(path) : path;
      let caught: unknown;
      try {
        await (await openIndexed(fixture.format, fixture.options(overHttp ? toUrl : (p) => p))).close();
      } catch (error) {
        caught = error;
      }
      const error = await expectDataError(() => Promise.reject(caught), expectedTruncationCode(fixture.format), /./);
      expect(error.file).toBe(shown);
      expect(error.message.startsWith(`${shown}: `)).toBe(true);
    });

    it('rejects a shard truncated after open at read with DTRAIN_DATA_UNREADABLE, naming the file', async () => {
      const fixture = await make(freshSeed(`${name} seed`));
      const indexed = await openIndexed(fixture.format, fixture.options(overHttp ? toUrl : (p) => p));
      try {
        const { path } = fixture.truncateAt;
        await truncate(path, 0);
        const count = indexed.shards[0]?.numSamples ?? 0;
        const error = await expectDataError(() => indexed.read(Uint32Array.from({ length: count }, (_, i) => i)), 'DTRAIN_DATA_UNREADABLE', /file ends early/);
        expect(error.file).toBe(overHttp ? toUrl(path) : path);
        expect(error.message.startsWith(`${error.file as string}: `)).toBe(true);
      } finally {
        await indexed.close();
      }
    });

    if (overHttp) {
      it('rejects a read of a shard removed after open with DTRAIN_DATA_UNREADABLE, naming the URL', async () => {
        const fixture = await make(freshSeed(`${name} seed`));
        const indexed = await openIndexed(fixture.format, fixture.options(toUrl));
        try {
          const { path } = fixture.truncateAt;
          await rm(path);
          const error = await expectDataError(() => indexed.read(Uint32Array.from([0])), 'DTRAIN_DATA_UNREADABLE', `${toUrl(path)}: file not found (HTTP 404)`);
          expect(error.file).toBe(toUrl(path));
        } finally {
          await indexed.close();
        }
      });
    }
  });
}

/** Binary formats check sizes against their headers; text formats find a record cut in half. */
function expectedTruncationCode(format: IndexedFormat): 'DTRAIN_DATA_TRUNCATED' | 'DTRAIN_DATA_JSON' | 'DTRAIN_DATA_CSV_SYNTAX' {
  return format === 'jsonl' ? 'DTRAIN_DATA_JSON' : format === 'csv' ? 'DTRAIN_DATA_CSV_SYNTAX' : 'DTRAIN_DATA_TRUNCATED';
}

async function expectRows(indexed: IndexedDataset, whole: Dataset, ids: Uint32Array): Promise<void> {
  const batch = await indexed.read(ids);
  const f = indexed.featureShape.reduce((a, b) => a * b, 1);
  const l = indexed.labelShape.reduce((a, b) => a * b, 1);
  expect(batch.features.length).toBe(ids.length * f);
  for (const [i, id] of ids.entries()) {
    expect(asFloats(batch.features.subarray(i * f, (i + 1) * f)), `features of sample ${id}`).toEqual(asFloats(whole.features.subarray(id * f, (id + 1) * f)));
    expect(Array.from(batch.labels.subarray(i * l, (i + 1) * l)), `labels of sample ${id}`).toEqual(Array.from(whole.labels.subarray(id * l, (id + 1) * l)));
  }
}

for (const overHttp of [false, true]) {
  describeIndexedContract('idx ubyte onehot', (seed) => idxFixture(seed, 0x08, 'onehot'), overHttp);
  describeIndexedContract('idx short index', (seed) => idxFixture(seed, 0x0b, 'index'), overHttp);
  describeIndexedContract('idx float index', (seed) => idxFixture(seed, 0x0d, 'index'), overHttp);
  describeIndexedContract('npy uint8 index', (seed) => npyFixture(seed, 'u1', 'index'), overHttp);
  describeIndexedContract('npy float32 value', (seed) => npyFixture(seed, 'f4', 'value'), overHttp);
  describeIndexedContract('npy int16 index', (seed) => npyFixture(seed, 'i2', 'index'), overHttp);
  describeIndexedContract('jsonl array onehot', (seed) => jsonlFixture(seed, 'array', 'onehot'), overHttp);
  describeIndexedContract('jsonl fields value', (seed) => jsonlFixture(seed, 'fields', 'value'), overHttp);
  describeIndexedContract('csv header index', (seed) => csvFixture(seed, true, 'index'), overHttp);
  describeIndexedContract('csv no header value', (seed) => csvFixture(seed, false, 'value'), overHttp);
}

/** A random folder tree: 2-3 classes (one maybe without a folder), PNG and JPEG files, grayscale or RGB, all of one size. */
async function imageTree(seed: number): Promise<{ readonly root: string; readonly files: readonly string[] }> {
  const rng = createRng(seed);
  const root = join(dir, `images-${seed}`);
  await mkdir(root, { recursive: true });
  const [height, width] = [1 + rng.nextInt(5), 1 + rng.nextInt(5)];
  const channels = rng.nextInt(2) === 0 ? 1 : 3;
  const files: string[] = [];
  for (const cls of ['ant', 'bee', 'cat'].slice(0, 2 + rng.nextInt(2))) {
    for (let i = 0, n = rng.nextInt(5); i < n; i++) {
      const pixels = Array.from({ length: height * width * channels }, () => rng.nextInt(256));
      files.push(await writeImage(root, `${cls}/${String(i).padStart(2, '0')}.${rng.nextInt(3) === 0 ? 'jpg' : 'png'}`, pixels, width, channels));
    }
  }
  // At least one image, so the tree is a dataset.
  if (files.length === 0) files.push(await writeImage(root, 'ant/only.png', [7], 1, 1));
  return { root, files: files.sort() };
}

describe('indexed contract: images', () => {
  const variants: { readonly name: string; readonly extra: (rng: Rng) => { featureShape?: number[]; labelEncoding?: 'onehot'; classNames?: string[] } }[] = [
    { name: 'own size', extra: () => ({}) },
    { name: 'resized, onehot, given classNames', extra: (rng) => ({ featureShape: [1 + rng.nextInt(4), 1 + rng.nextInt(4), rng.nextInt(2) === 0 ? 1 : 3], labelEncoding: 'onehot', classNames: ['cat', 'bee', 'dog', 'ant'] }) },
  ];
  for (const variant of variants) {
    it(`reads all ids in order exactly as the whole-file reader, and shuffled ids as the same rows (${variant.name})`, async () => {
      const seed = freshSeed('images seed');
      const { root } = await imageTree(seed);
      const options = { path: root, ...variant.extra(createRng(seed + 1)) };
      const whole = await imageFolderReader.read(options);
      const indexed = await openIndexed('images', options);
      try {
        expect(indexed.format).toBe('images');
        expect(indexed.numSamples).toBe(whole.numSamples);
        expect([...indexed.featureShape]).toEqual([...whole.featureShape]);
        expect([...indexed.labelShape]).toEqual([...whole.labelShape]);
        expect(indexed.numClasses).toBe(whole.numClasses);
        expect(indexed.labelEncoding).toBe(whole.labelEncoding);
        expect(indexed.featureType).toBe('uint8');
        expect(indexed.source).toBe(root);
        const all = await indexed.read(Uint32Array.from({ length: whole.numSamples }, (_, i) => i));
        expect(all.features).toBeInstanceOf(Uint8Array);
        expect(asFloats(all.features)).toEqual(asFloats(whole.features));
        expect(Array.from(all.labels)).toEqual(Array.from(whole.labels));
        expect(all.bad).toEqual([]);
        const ids = createRng(seed).shuffle(Uint32Array.from({ length: whole.numSamples * 2 }, (_, i) => i % whole.numSamples));
        await expectRows(indexed, whole, ids);
      } finally {
        await indexed.close();
      }
    });
  }

  it('reads an image broken after open as a bad row naming it, and the others as before', async () => {
    const seed = freshSeed('images seed');
    const { root, files } = await imageTree(seed);
    const whole = await imageFolderReader.read({ path: root, labelEncoding: 'onehot' });
    const indexed = await openIndexed('images', { path: root, labelEncoding: 'onehot' });
    try {
      const broken = createRng(seed).nextInt(files.length);
      const file = files[broken] as string;
      await truncate(file, Math.floor((await stat(file)).size / 2));
      const ids = createRng(seed + 1).shuffle(Uint32Array.from({ length: whole.numSamples }, (_, i) => i));
      const batch = await indexed.read(ids);
      const position = ids.indexOf(broken);
      expect(batch.bad).toHaveLength(1);
      expect(batch.bad[0]).toMatchObject({ position, id: broken, reason: 'decode' });
      expect(batch.bad[0]?.message).toMatch(new RegExp(`^${file}: does not decode as a PNG or JPEG image \\(.+\\)$`));
      const f = indexed.featureShape.reduce((a, b) => a * b, 1);
      const l = indexed.labelShape[0] as number;
      expect(Array.from(batch.features.subarray(position * f, (position + 1) * f)).every((v) => v === 0)).toBe(true);
      expect(Array.from(batch.labels.subarray(position * l, (position + 1) * l)).every((v) => v === 0)).toBe(true);
      for (const [i, id] of ids.entries()) {
        if (i === position) continue;
        expect(asFloats(batch.features.subarray(i * f, (i + 1) * f)), `features of sample ${id}`).toEqual(asFloats(whole.features.subarray(id * f, (id + 1) * f)));
        expect(Array.from(batch.labels.subarray(i * l, (i + 1) * l)), `labels of sample ${id}`).toEqual(Array.from(whole.labels.subarray(id * l, (id + 1) * l)));
      }
    } finally {
      await indexed.close();
    }
  });

  it('rejects a read of an image removed after open with DTRAIN_DATA_UNREADABLE, naming it', async () => {
    const { root, files } = await imageTree(freshSeed('images seed'));
    const indexed = await openIndexed('images', { path: root });
    try {
      const last = files.length - 1;
      await rm(files[last] as string);
      const error = await expectDataError(() => indexed.read(Uint32Array.from([last])), 'DTRAIN_DATA_UNREADABLE', `${files[last] as string}: file not found`);
      expect(error.file).toBe(files[last]);
    } finally {
      await indexed.close();
    }
  });
});
