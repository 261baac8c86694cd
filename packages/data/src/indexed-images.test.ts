import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openByteSource } from './byte-source.js';
import type { ByteSourceFactory } from './byte-source.js';
import { writeImage } from './image-files.testkit.js';
import { imageFolderReader } from './image-folder-reader.js';
import { openIndexed } from './open-indexed.js';
import { expectDataError, useTempDir } from './test-support.testkit.js';

const temp = useTempDir();

async function folder(name: string): Promise<string> {
  await temp.write('.keep', '');
  const path = temp.path(name);
  await mkdir(path, { recursive: true });
  return path;
}

/** A byte source factory that records which files are opened, and how many are open at once at most. */
function countingOpen(): { readonly open: ByteSourceFactory; readonly opened: string[]; readonly maxOpen: () => number } {
  const opened: string[] = [];
  let open = 0;
  let max = 0;
  return {
    opened,
    maxOpen: () => max,
    open: async (location) => {
      opened.push(location);
      open++;
      max = Math.max(max, open);
      const source = await openByteSource(location);
      return {
        name: source.name,
        size: () => source.size(),
        // A little latency, so reads that may overlap do.
        read: async (offset, length) => {
          await new Promise((resolve) => setTimeout(resolve, 2));
          return source.read(offset, length);
        },
        close: async () => {
          open--;
          await source.close?.();
        },
      };
    },
  };
}

describe('indexed images', () => {
  it('opens by listing (no image read), then reads and decodes only the files asked for', async () => {
    const root = await folder('lazy');
    const a0 = await writeImage(root, 'a/0.png', [1, 2, 3, 4], 2, 1);
    const a1 = join(root, 'a', '1.png');
    await writeFile(a1, 'not a PNG: open must not notice');
    const b0 = await writeImage(root, 'b/0.png', [5, 6, 7, 8], 2, 1);
    const counting = countingOpen();
    const ds = await openIndexed('images', { path: root }, { openSource: counting.open });
    try {
      expect(counting.opened).toEqual([]);
      expect(ds.numSamples).toBe(3);
      expect(ds.featureShape).toEqual([2, 2, 1]);
      expect(ds.shards).toEqual([
        { file: join(root, 'a'), numSamples: 2 },
        { file: join(root, 'b'), numSamples: 1 },
      ]);
      const batch = await ds.read(Uint32Array.from([2, 0]));
      expect(counting.opened.sort()).toEqual([a0, b0].sort());
      expect(Array.from(batch.features)).toEqual([5, 6, 7, 8, 1, 2, 3, 4]);
      expect(Array.from(batch.labels)).toEqual([1, 0]);
      expect(batch.bad).toEqual([]);
      const withBad = await ds.read(Uint32Array.from([1]));
      expect(withBad.bad).toEqual([{ position: 0, id: 1, reason: 'decode', message: expect.stringMatching(new RegExp(`^${a1}: does not decode as a PNG or JPEG image \\(.+\\)$`)) as unknown as string }]);
      expect(Array.from(withBad.features)).toEqual([0, 0, 0, 0]);
    } finally {
      await ds.close();
    }
  });

  it('without featureShape takes the first image’s shape, and an image of another size is a bad row with the whole-file reader’s message', async () => {
    const root = await folder('sizes');
    const first = await writeImage(root, 'a/1.png', [1, 2, 3, 4, 5, 6], 3, 1);
    const odd = await writeImage(root, 'b/1.png', [1, 2, 3, 4], 2, 1);
    const ds = await openIndexed('images', { path: root });
    try {
      expect(ds.featureShape).toEqual([2, 3, 1]);
      const batch = await ds.read(Uint32Array.from([0, 1]));
      const message = `${odd}: image is 2×2 but ${first} is 3×2; every image must share one size (or set featureShape to resize them)`;
      expect(batch.bad).toEqual([{ position: 1, id: 1, reason: 'shape', message }]);
      expect(Array.from(batch.features)).toEqual([1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0]);
      await expectDataError(() => imageFolderReader.read({ path: root }), 'DTRAIN_DATA_SHAPE', message);
    } finally {
      await ds.close();
    }
  });

  it('keeps a class without images (an empty folder, or none) as a class with no samples', async () => {
    const root = await folder('empty-class');
    await mkdir(join(root, 'b'));
    await writeImage(root, 'c/1.png', [9], 1, 1);
    const ds = await openIndexed('images', { path: root, classNames: ['a', 'b', 'c'], labelEncoding: 'onehot' });
    try {
      expect(ds.numClasses).toBe(3);
      expect(ds.shards.map((s) => s.numSamples)).toEqual([0, 1]);
      const batch = await ds.read(Uint32Array.from([0]));
      expect(Array.from(batch.labels)).toEqual([0, 0, 1]);
      expect(Array.from(batch.features)).toEqual([9]);
    } finally {
      await ds.close();
    }
  });

  it('decodes a few images at a time, however the ids fall into runs', async () => {
    const root = await folder('many');
    for (let i = 0; i < 40; i++) await writeImage(root, `${i % 4}/${String(i).padStart(2, '0')}.png`, [i], 1, 1);
    const counting = countingOpen();
    const ds = await openIndexed('images', { path: root }, { openSource: counting.open });
    try {
      const ids = Uint32Array.from({ length: 40 }, (_, i) => (i * 7) % 40);
      const batch = await ds.read(ids);
      expect(counting.opened).toHaveLength(40);
      expect(counting.maxOpen()).toBeGreaterThan(1);
      expect(counting.maxOpen()).toBeLessThanOrEqual(8);
      expect(batch.features).toHaveLength(40);
    } finally {
      await ds.close();
    }
  });

  it('refuses an http(s) folder, and names a missing folder as the whole-file reader does', async () => {
    await expectDataError(
      () => openIndexed('images', { path: 'http://127.0.0.1:9/train' }),
      'DTRAIN_DATA_OPTIONS',
      'images reader: path: http://127.0.0.1:9/train: an image folder is listed from the file system and cannot be read over http(s); expected a local or mounted folder',
    );
    const missing = join(await folder('x'), 'absent');
    await expectDataError(() => openIndexed('images', { path: missing }), 'DTRAIN_DATA_NOT_FOUND', `${missing}: file not found`);
    await expectDataError(() => openIndexed('images', { path: missing, featureShape: [2, 2, 2] }), 'DTRAIN_DATA_OPTIONS', /featureShape: expected \[height, width, channels\]/);
  });
});
