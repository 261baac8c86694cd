import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { imageFolderReader } from './image-folder-reader.js';
import { writeImage } from './image-files.testkit.js';
import { expectDataError, useTempDir } from './test-support.testkit.js';

const temp = useTempDir();

/** A fresh folder under the temp dir. */
async function folder(name: string): Promise<string> {
  await temp.write('.keep', '');
  const path = temp.path(name);
  await mkdir(path, { recursive: true });
  return path;
}

describe('images reader', () => {
  it('reads grayscale PNGs exactly: classes in sorted folder order, files in name order', async () => {
    const root = await folder('gray');
    await writeImage(root, 'zebra/b.png', [1, 2, 3, 4, 5, 6], 3, 1);
    await writeImage(root, 'zebra/a.png', [10, 20, 30, 40, 50, 60], 3, 1);
    await writeImage(root, 'ant/x.png', [0, 255, 0, 255, 0, 255], 3, 1);
    await writeFile(join(root, 'zebra', 'notes.txt'), 'not an image');
    await writeFile(join(root, 'README.md'), 'files beside the class folders are not samples');
    const ds = await imageFolderReader.read({ path: root });
    expect(ds.numSamples).toBe(3);
    expect(ds.featureShape).toEqual([2, 3, 1]);
    expect(ds.numClasses).toBe(2);
    expect(Array.from(ds.labels)).toEqual([0, 1, 1]);
    expect(Array.from(ds.features)).toEqual([0, 255, 0, 255, 0, 255, 10, 20, 30, 40, 50, 60, 1, 2, 3, 4, 5, 6]);
    expect(ds.source).toBe(root);
  });

  it('converts and resizes PNG and JPEG to featureShape, RGB or grayscale', async () => {
    const root = await folder('mixed');
    const red = Array.from({ length: 8 * 6 }, (_, i) => (i % 3 === 0 ? 250 : 5));
    await writeImage(root, 'red/r.jpg', red, 4, 3);
    await writeImage(root, 'white/w.PNG', Array.from({ length: 25 }, () => 255), 5, 1);
    const rgb = await imageFolderReader.read({ path: root, featureShape: [2, 3, 3], labelEncoding: 'onehot' });
    expect(rgb.featureShape).toEqual([2, 3, 3]);
    expect(Array.from(rgb.labels)).toEqual([1, 0, 0, 1]);
    const [r, g, b] = Array.from(rgb.features.subarray(0, 3));
    // JPEG is lossy: near, not equal.
    expect(r).toBeGreaterThan(230);
    expect(g).toBeLessThan(30);
    expect(b).toBeLessThan(30);
    expect(Array.from(rgb.features.subarray(18))).toEqual(Array.from({ length: 18 }, () => 255));
    const gray = await imageFolderReader.read({ path: root, featureShape: [4, 4, 1] });
    expect(gray.featureShape).toEqual([4, 4, 1]);
    expect(gray.features.length).toBe(32);
    expect(Array.from(gray.features.subarray(16))).toEqual(Array.from({ length: 16 }, () => 255));
  });

  it('takes the class order from classNames, and refuses a folder not in it', async () => {
    const root = await folder('named');
    await writeImage(root, 'b/1.png', [7], 1, 1);
    await writeImage(root, 'a/1.png', [9], 1, 1);
    const ds = await imageFolderReader.read({ path: root, classNames: ['b', 'c', 'a'] });
    expect(ds.numClasses).toBe(3);
    expect(Array.from(ds.labels)).toEqual([0, 2]);
    expect(Array.from(ds.features)).toEqual([7, 9]);
    await expectDataError(
      () => imageFolderReader.read({ path: root, classNames: ['a'] }),
      'DTRAIN_DATA_OPTIONS',
      `${join(root, 'b')}: folder "b" is not among the classNames ["a"]`,
    );
  });

  it('without featureShape, names the first image whose size differs', async () => {
    const root = await folder('sizes');
    await writeImage(root, 'a/1.png', [1, 2, 3, 4], 2, 1);
    const odd = await writeImage(root, 'b/1.png', [1, 2, 3], 3, 1);
    await expectDataError(
      () => imageFolderReader.read({ path: root }),
      'DTRAIN_DATA_SHAPE',
      `${odd}: image is 3×1 but ${join(root, 'a', '1.png')} is 2×2; every image must share one size (or set featureShape to resize them)`,
    );
    expect((await imageFolderReader.read({ path: root, featureShape: [2, 2, 1] })).numSamples).toBe(2);
  });

  it('names an image that does not decode: garbage and a truncated JPEG', async () => {
    const root = await folder('broken');
    await writeImage(root, 'a/good.png', [1, 2, 3, 4], 2, 1);
    const garbage = join(root, 'b', 'garbage.png');
    await mkdir(dirname(garbage), { recursive: true });
    await writeFile(garbage, 'this is not a PNG');
    await expectDataError(() => imageFolderReader.read({ path: root }), 'DTRAIN_DATA_IMAGE', new RegExp(`^${garbage}: does not decode as a PNG or JPEG image \\(.+\\)$`));

    const root2 = await folder('truncated');
    const jpeg = await writeImage(root2, 'a/cut.jpg', Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 37) % 256), 64, 3);
    const bytes = await sharp(jpeg).jpeg().toBuffer();
    await writeFile(jpeg, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expectDataError(() => imageFolderReader.read({ path: root2 }), 'DTRAIN_DATA_IMAGE', new RegExp(`^${jpeg}: does not decode`));
  });

  it('rejects a missing folder, a folder without classes and bad options', async () => {
    const missing = temp.path('no-such-folder');
    await expectDataError(() => imageFolderReader.read({ path: missing }), 'DTRAIN_DATA_NOT_FOUND', `${missing}: file not found`);
    const empty = await folder('empty');
    await expectDataError(() => imageFolderReader.read({ path: empty }), 'DTRAIN_DATA_SHAPE', `${empty}: has no class subfolders; expected one folder per class`);
    await mkdir(join(empty, 'a'));
    await expectDataError(() => imageFolderReader.read({ path: empty }), 'DTRAIN_DATA_SHAPE', `${empty}: holds no .png/.jpg/.jpeg files in its class folders`);
    await expectDataError(
      () => imageFolderReader.read({ path: empty, featureShape: [4, 4, 2] }),
      'DTRAIN_DATA_OPTIONS',
      'images reader: featureShape: expected [height, width, channels] with channels 1 (grayscale) or 3 (RGB), got [4,4,2]',
    );
  });
});
