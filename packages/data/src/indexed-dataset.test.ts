import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeIdx } from './idx-format.js';
import { serveFolder } from './http-test-server.testkit.js';
import type { TestServer } from './http-test-server.testkit.js';
import { INDEXED_FORMATS, openIndexed } from './open-indexed.js';
import { SCAN_BLOCK_BYTES } from './record-offsets.js';
import { planRuns } from './sample-runs.js';
import { expectDataError, useTempDir } from './test-support.testkit.js';

const temp = useTempDir();
let server: TestServer;
let images = '';
let labels = '';
const N = 100;
const SIDE = 28;

beforeAll(async () => {
  const pixels = Array.from({ length: N * SIDE * SIDE }, (_, i) => (i * 7) % 256);
  images = await temp.write('images.idx', encodeIdx(0x08, [N, SIDE, SIDE], pixels));
  labels = await temp.write('labels.idx', encodeIdx(0x08, [N], Array.from({ length: N }, (_, i) => i % 10)));
  server = await serveFolder(() => dirname(images));
});

describe('planRuns', () => {
  it('groups consecutive ids of one shard into runs, in any order and with repeats', () => {
    const ids = Uint32Array.from([7, 5, 6, 2, 3, 3, 4, 9]);
    // Shards [0, 4) and [4, 10): 3 | 4 is a shard boundary, so 2-3 and 4-7 are separate runs.
    const plan = planRuns(ids, [0, 4, 10], 'test');
    expect(plan.runs).toEqual([
      { shard: 0, first: 2, count: 2 },
      { shard: 1, first: 0, count: 4 },
      { shard: 1, first: 5, count: 1 },
    ]);
    const located = Array.from(ids, (_, i) => {
      const run = plan.runs[plan.runOf[i] as number];
      return (run?.shard === 0 ? 0 : 4) + (run?.first ?? 0) + (plan.rowInRun[i] as number);
    });
    expect(located).toEqual(Array.from(ids));
  });

  it('rejects an id past the end with DTRAIN_DATA_RANGE', async () => {
    await expectDataError(() => planRuns(Uint32Array.from([1, 10]), [0, 4, 10], 'data.idx'), 'DTRAIN_DATA_RANGE', 'data.idx: sample 10 (position 1) does not exist; expected 0..9');
  });
});

describe('openIndexed', () => {
  it('reads only headers and labels at open, and one range per run of consecutive ids', async () => {
    server.log.length = 0;
    const url = (path: string): string => `${server.baseUrl}${path.slice(dirname(path).length + 1)}`;
    const ds = await openIndexed('idx', { images: url(images), labels: url(labels) });
    const imageBytesAtOpen = server.log
      .filter((line) => line.startsWith('GET /images.idx'))
      .map((line) => line.split(' ')[2]?.split('-').map(Number) ?? [0, 0])
      .reduce((n, [a, b]) => n + (b as number) - (a as number) + 1, 0);
    expect(imageBytesAtOpen).toBeLessThanOrEqual(1024);
    expect(ds.featureType).toBe('uint8');
    expect(ds.numClasses).toBe(10);

    server.log.length = 0;
    const batch = await ds.read(Uint32Array.from([7, 5, 6, 2, 3]));
    const row = SIDE * SIDE;
    expect(server.log.sort()).toEqual([`GET /images.idx ${16 + 2 * row}-${16 + 4 * row - 1}`, `GET /images.idx ${16 + 5 * row}-${16 + 8 * row - 1}`]);
    expect(batch.features[0]).toBe((7 * row * 7) % 256);
    expect(Array.from(batch.labels)).toEqual([7, 5, 6, 2, 3]);
    await ds.close();
  });

  it('refuses a gzip shard, naming it and saying to store shards uncompressed', async () => {
    const gz = await temp.write('images.idx.gz', encodeIdx(0x08, [2, 2], [1, 2, 3, 4]), true);
    await expectDataError(
      () => openIndexed('idx', { images: gz, labels }),
      'DTRAIN_DATA_READ',
      `${gz}: is gzip-compressed and cannot be read by byte range; store shards uncompressed for random access (gunzip it)`,
    );
    const jsonl = await temp.write('rows.jsonl.gz', '{"x":[1],"y":0}\n', true);
    await expectDataError(() => openIndexed('jsonl', { path: jsonl, featureField: 'x', labelField: 'y' }), 'DTRAIN_DATA_READ', /rows\.jsonl\.gz: is gzip-compressed/);
  });

  it('names a bad JSONL line by file and line at open, as the whole-file reader does', async () => {
    const path = await temp.write('bad.jsonl', '{"x":[1],"y":0}\n\n{"x":[2]}\n');
    await expectDataError(() => openIndexed('jsonl', { path, featureField: 'x', labelField: 'y' }), 'DTRAIN_DATA_FIELD', `${path}: line 3: no label field "y"`);
  });

  it('rejects an id past the end, unknown formats, bad options and missing files', async () => {
    const ds = await openIndexed('idx', { images, labels });
    await expectDataError(() => ds.read(Uint32Array.from([N])), 'DTRAIN_DATA_RANGE', `${images}: sample ${N} (position 0) does not exist; expected 0..${N - 1}`);
    await ds.close();
    expect(INDEXED_FORMATS).toEqual(['csv', 'idx', 'images', 'jsonl', 'npy']);
    await expectDataError(() => openIndexed('synthetic', {}), 'DTRAIN_DATA_FORMAT', "format 'synthetic' cannot be read by sample; expected one of 'csv', 'idx', 'images', 'jsonl', 'npy'");
    await expectDataError(() => openIndexed('idx', { images, labels, labelEncoding: 'value' }), 'DTRAIN_DATA_OPTIONS', /labelEncoding/);
    const absent = temp.path('absent.idx');
    await expectDataError(() => openIndexed('idx', { images: absent, labels }), 'DTRAIN_DATA_NOT_FOUND', `${absent}: file not found`);
  });

  it('reads a JSONL shard larger than one scan block', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ x: [i, i / 2, -i], y: i % 3, pad: 'p'.repeat(i % 1000) }));
    const path = await temp.write('big.jsonl', lines.join('\n'));
    expect((await stat(path)).size).toBeGreaterThan(SCAN_BLOCK_BYTES);
    const ds = await openIndexed('jsonl', { path, featureField: 'x', labelField: 'y' });
    expect(ds.numSamples).toBe(3000);
    const batch = await ds.read(Uint32Array.from([2999, 0, 1500]));
    expect(Array.from(batch.features)).toEqual([2999, 1499.5, -2999, 0, 0, 0, 1500, 750, -1500]);
    expect(Array.from(batch.labels)).toEqual([2999 % 3, 0, 0]);
    await ds.close();
  });
});
