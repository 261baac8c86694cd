import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createRng } from '@dtrain/data';

/**
 * A synthetic 8-bit image dataset as NumPy .npy shards, written streaming
 * for the "larger than memory" benchmark: per shard `train-NNNN-x.npy`
 * (uint8, shape [n, height, width, channels]) and `train-NNNN-y.npy`
 * (uint8 class ids, shape [n]).
 *
 * Each image is its class's template plus noise, so a model can learn it:
 * the template's brightness rises with the class id and one colour channel
 * (the class id mod 3) is brighter still. The noise is one random block
 * made once and read at a random offset per image, so a gigabyte costs an
 * add per four bytes rather than a random number per byte: writing is
 * bound by the disk (about 300 MB/s here), not by making the bytes.
 */

/** Shape of one image, [height, width, channels]. */
export const IMAGE_SHAPE = [32, 32, 3] as const;
/** Bytes of one image. */
export const IMAGE_BYTES = IMAGE_SHAPE[0] * IMAGE_SHAPE[1] * IMAGE_SHAPE[2];
/** Class ids run 0..CLASSES-1. */
export const CLASSES = 10;

/** Templates stay at or below this and noise below 256 - it, so their sum needs no clamping. */
const TEMPLATE_MAX = 128;
/** Noise bytes are uniform in [0, NOISE_RANGE). */
const NOISE_RANGE = 256 - TEMPLATE_MAX;
/** Size of the noise block images are read from, bytes (each image starts at a random offset in the first NOISE_BYTES). */
const NOISE_BYTES = 1 << 20;
/** An image as uint32 words (IMAGE_BYTES is a multiple of 4). */
const IMAGE_WORDS = IMAGE_BYTES / 4;
/** Images assembled per write: about 1.5 MB at 32×32×3. */
const BLOCK_IMAGES = 512;

/**
 * The .npy v1.0 preamble and header for a C-order array: magic, version,
 * header length (uint16 LE), then the dict padded with spaces and ended by
 * a newline so the data starts on a 64-byte boundary, as numpy writes it.
 * @param descr the dtype, e.g. '|u1'
 */
export function npyHeader(descr: string, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const preamble = 10;
  const total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  const text = `${dict.padEnd(total - preamble - 1, ' ')}\n`;
  if (text.length > 0xffff) throw new RangeError(`npyHeader: a ${text.length}-byte header does not fit a version 1.0 file`);
  const out = new Uint8Array(total);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, text.length, true);
  out.set(new TextEncoder().encode(text), preamble);
  return out;
}

/** Class `c`'s template image, every byte in [0, TEMPLATE_MAX]. */
export function classTemplate(c: number): Uint8Array {
  const out = new Uint8Array(IMAGE_BYTES);
  const [height, width, channels] = IMAGE_SHAPE;
  const base = Math.round((c * (TEMPLATE_MAX - 32)) / (CLASSES - 1));
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      // A soft vertical gradient so neighbouring pixels are alike, as in a photo.
      const shade = Math.round((8 * y) / (height - 1));
      for (let ch = 0; ch < channels; ch += 1) out[(y * width + x) * channels + ch] = base + shade + (ch === c % channels ? 24 : 0);
    }
  }
  return out;
}

export interface ImageShardsOptions {
  /** Folder the shards are written to (created if missing). */
  readonly dir: string;
  /** Images in the whole dataset; spread over the shards, the first ones taking one more when it does not divide. */
  readonly images: number;
  readonly shards: number;
  /** Seeds the noise, the labels and the offsets; default 1. */
  readonly seed?: number;
}

/** One shard as written: its two files and its images. */
export interface ImageShard {
  readonly features: string;
  readonly labels: string;
  readonly images: number;
  /** Bytes of both files on disk. */
  readonly bytes: number;
}

/** Writes the shards one block of images at a time; memory stays a few MB whatever the size. */
export function writeImageShards(o: ImageShardsOptions): ImageShard[] {
  if (!Number.isSafeInteger(o.shards) || o.shards < 1) throw new RangeError(`writeImageShards: shards must be a whole number ≥ 1, got ${o.shards}`);
  if (!Number.isSafeInteger(o.images) || o.images < o.shards) throw new RangeError(`writeImageShards: need at least one image per shard, got ${o.images} for ${o.shards} shards`);
  mkdirSync(o.dir, { recursive: true });
  const rng = createRng(o.seed ?? 1);
  const noise = new Uint8Array(NOISE_BYTES + IMAGE_BYTES);
  for (let i = 0; i < noise.length; i += 1) noise[i] = rng.nextInt(NOISE_RANGE);
  // Template and noise bytes never sum past 255, so adding them four at a time as uint32 carries nothing between bytes.
  const noiseWords = new Uint32Array(noise.buffer);
  const templates = Array.from({ length: CLASSES }, (_, c) => new Uint32Array(classTemplate(c).buffer));
  const block = new Uint8Array(BLOCK_IMAGES * IMAGE_BYTES);
  const blockWords = new Uint32Array(block.buffer);
  const digits = Math.max(4, String(o.shards - 1).length);
  const written: ImageShard[] = [];
  for (let s = 0; s < o.shards; s += 1) {
    const images = Math.floor(o.images / o.shards) + (s < o.images % o.shards ? 1 : 0);
    const stem = join(o.dir, `train-${String(s).padStart(digits, '0')}`);
    const labels = new Uint8Array(images);
    const featureHeader = npyHeader('|u1', [images, ...IMAGE_SHAPE]);
    const fd = openSync(`${stem}-x.npy`, 'w');
    try {
      writeSync(fd, featureHeader);
      for (let first = 0; first < images; first += BLOCK_IMAGES) {
        const count = Math.min(BLOCK_IMAGES, images - first);
        for (let k = 0; k < count; k += 1) {
          const c = rng.nextInt(CLASSES);
          labels[first + k] = c;
          const template = templates[c] as Uint32Array;
          const from = rng.nextInt(NOISE_BYTES / 4);
          const at = k * IMAGE_WORDS;
          for (let i = 0; i < IMAGE_WORDS; i += 1) blockWords[at + i] = (template[i] as number) + (noiseWords[from + i] as number);
        }
        writeSync(fd, block, 0, count * IMAGE_BYTES);
      }
    } finally {
      closeSync(fd);
    }
    const labelHeader = npyHeader('|u1', [images]);
    const lfd = openSync(`${stem}-y.npy`, 'w');
    try {
      writeSync(lfd, labelHeader);
      writeSync(lfd, labels);
    } finally {
      closeSync(lfd);
    }
    written.push({ features: `${stem}-x.npy`, labels: `${stem}-y.npy`, images, bytes: featureHeader.length + images * IMAGE_BYTES + labelHeader.length + images });
  }
  return written;
}
