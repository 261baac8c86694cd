import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

/*
 * Image files for the image folder tests (not part of the build).
 */

/** Writes raw 8-bit pixels as a PNG or JPEG at `root/relative`, making folders as needed. */
export async function writeImage(root: string, relative: string, pixels: number[], width: number, channels: 1 | 3): Promise<string> {
  const file = join(root, relative);
  await mkdir(dirname(file), { recursive: true });
  const height = pixels.length / width / channels;
  const raw = sharp(Uint8Array.from(pixels), { raw: { width, height, channels } });
  // sharp writes 1-channel input as RGB unless told the colour space.
  const image = channels === 1 ? raw.toColourspace('b-w') : raw;
  await (file.endsWith('.png') ? image.png() : image.jpeg({ quality: 95 })).toFile(file);
  return file;
}
