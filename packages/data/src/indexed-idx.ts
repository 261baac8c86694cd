import type { ByteSource, ByteSourceFactory } from './byte-source.js';
import { dataErrorAt } from './data-error.js';
import { decodeIdxElements, IDX_MAX_HEADER_BYTES, parseIdx, parseIdxHeader } from './idx-format.js';
import type { IdxHeader } from './idx-format.js';
import { checkIdxOptions, checkLabelShape } from './idx-reader.js';
import type { IdxReaderOptions } from './idx-reader.js';
import { indexedDataset } from './indexed-dataset.js';
import type { IndexedDataset, IndexedShard } from './indexed-dataset.js';
import { expandShardLocations, OpenSources, readShardHead, refuseGzip } from './indexed-shards.js';
import { classLabelProblem, findBadClassLabel, inferNumClasses } from './labels.js';
import { checkPairedShards, describeShards } from './shard-paths.js';
import { checkSameShape } from './shard-shape.js';

interface IdxShard {
  readonly source: ByteSource;
  readonly header: IdxHeader;
  readonly featureShape: readonly number[];
}

/**
 * Opens IDX image/label pairs (the `idx` reader's options) for reading by
 * sample: only the images' headers are read (and their sizes checked against
 * them), plus the labels, which are one small value per sample. Shards must
 * be uncompressed. ubyte images read as bytes.
 */
export async function openIndexedIdx(input: IdxReaderOptions, open: ByteSourceFactory): Promise<IndexedDataset> {
  const { imagesSpec, labelsSpec, labelEncoding, givenClasses } = checkIdxOptions(input);
  const [imageFiles, labelFiles] = await Promise.all([expandShardLocations(imagesSpec), expandShardLocations(labelsSpec)]);
  checkPairedShards('images', imagesSpec, imageFiles, labelsSpec, labelFiles);

  const sources = new OpenSources(open);
  return sources.guard(async () => {
    const shards: IdxShard[] = [];
    const labelParts: Float32Array[] = [];
    for (const [i, imagesPath] of imageFiles.entries()) {
      const images = await sources.open(imagesPath);
      const { head, size } = await readShardHead(images, IDX_MAX_HEADER_BYTES);
      const header = parseIdxHeader(head, images.name, size);
      const featureShape = header.dims.length > 1 ? header.dims.slice(1) : [1];
      if (shards[0] !== undefined) checkSameShape(images.name, featureShape, shards[0].source.name, shards[0].featureShape);
      shards.push({ source: images, header, featureShape });
      labelParts.push(await readLabels(labelFiles[i] as string, header.dims[0] as number, images.name, givenClasses, open));
    }
    const rawLabels = new Float32Array(labelParts.reduce((n, part) => n + part.length, 0));
    labelParts.reduce((at, part) => (rawLabels.set(part, at), at + part.length), 0);
    const first = shards[0] as IdxShard;
    const featureSize = first.featureShape.reduce((a, b) => a * b, 1);
    const allBytes = shards.every((s) => s.header.typeCode === 0x08);
    const indexed: IndexedShard[] = shards.map((s) => ({ file: s.source.name, numSamples: s.header.dims[0] as number }));
    return indexedDataset({
      format: 'idx',
      featureShape: first.featureShape,
      labelEncoding,
      numClasses: givenClasses ?? inferNumClasses(rawLabels, labelFiles[0] as string),
      featureType: allBytes ? 'uint8' : 'float32',
      shards: indexed,
      source: describeShards(imageFiles),
      rawLabels,
      async readRun(run) {
        const { source, header } = shards[run.shard] as IdxShard;
        const rowBytes = featureSize * header.elementBytes;
        const bytes = await source.read(header.headerBytes + run.first * rowBytes, run.count * rowBytes);
        // Bytes of a ubyte shard are its values: no conversion, no copy. Every value is valid: no bad rows.
        return { features: allBytes ? bytes : decodeIdxElements(bytes, header.typeCode, 0, run.count * featureSize), bad: [] };
      },
      close: () => sources.close(),
    });
  });
}

/** Reads one labels file whole (one small value per sample) and checks it against its images. */
async function readLabels(path: string, numImages: number, imagesName: string, givenClasses: number | undefined, open: ByteSourceFactory): Promise<Float32Array> {
  const source = await open(path);
  try {
    const bytes = await source.read(0, await source.size());
    refuseGzip(source, bytes);
    const labels = parseIdx(bytes, source.name);
    checkLabelShape(labels, source.name, (byteOffset) => ({ byteOffset }));
    const numLabels = labels.dims[0] as number;
    if (numLabels !== numImages) {
      throw dataErrorAt('DTRAIN_DATA_SHAPE', source.name, undefined, `holds ${numLabels} labels but ${imagesName} holds ${numImages} images; expected one label per image`);
    }
    const bad = findBadClassLabel(labels.data, givenClasses);
    if (bad >= 0) {
      const problem = classLabelProblem(labels.data[bad] as number, givenClasses) as string;
      throw dataErrorAt('DTRAIN_DATA_LABEL_RANGE', source.name, { byteOffset: labels.headerBytes + bad * labels.elementBytes }, `${problem} (sample ${bad}); expected a class id`);
    }
    return labels.data;
  } finally {
    await source.close?.();
  }
}
