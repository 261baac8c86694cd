import type { ByteSource, ByteSourceFactory } from './byte-source.js';
import { dataErrorAt } from './data-error.js';
import { indexedDataset } from './indexed-dataset.js';
import type { IndexedDataset, IndexedShard } from './indexed-dataset.js';
import { expandShardLocations, OpenSources, readShardHead, refuseGzip } from './indexed-shards.js';
import { classLabelProblem, findBadClassLabel, inferNumClasses } from './labels.js';
import { decodeNpyElements, NPY_DTYPES, parseNpy, parseNpyHeader } from './npy-format.js';
import type { NpyHeader } from './npy-format.js';
import { checkNpyOptions } from './npy-reader.js';
import type { NpyReaderOptions } from './npy-reader.js';
import { checkPairedShards, describeShards } from './shard-paths.js';
import { checkSameShape } from './shard-shape.js';

/**
 * How much of a shard is read to find its header. numpy writes headers of a
 * few hundred bytes; a header past this is refused rather than read in steps.
 */
const NPY_HEAD_BYTES = 64 * 1024;

const shapeSize = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

interface NpyShard {
  readonly source: ByteSource;
  readonly header: NpyHeader;
}

/**
 * Opens .npy features/labels pairs (the `npy` reader's options) for reading
 * by sample: only the features' headers are read (and their sizes checked
 * against them), plus the labels, one small value per sample. Shards must be
 * uncompressed. uint8 features read as bytes, other dtypes as float32.
 */
export async function openIndexedNpy(input: NpyReaderOptions, open: ByteSourceFactory): Promise<IndexedDataset> {
  const { featuresSpec, labelsSpec, labelEncoding, givenClasses, featureShape: givenShape } = checkNpyOptions(input);
  const [featureFiles, labelFiles] = await Promise.all([expandShardLocations(featuresSpec), expandShardLocations(labelsSpec)]);
  checkPairedShards('features', featuresSpec, featureFiles, labelsSpec, labelFiles);
  const classes = labelEncoding === 'value' ? undefined : { given: givenClasses };

  const sources = new OpenSources(open);
  return sources.guard(async () => {
    const shards: NpyShard[] = [];
    const labelParts: Float32Array[] = [];
    let firstShape: { readonly file: string; readonly shape: readonly number[] } | undefined;
    for (const [i, featuresPath] of featureFiles.entries()) {
      const source = await sources.open(featuresPath);
      const { head, size } = await readShardHead(source, NPY_HEAD_BYTES);
      const header = parseNpyHeaderWithin(head, source.name, size);
      const own = header.shape.length > 1 ? header.shape.slice(1) : [1];
      if (givenShape !== undefined && shapeSize(givenShape) !== shapeSize(own)) {
        throw dataErrorAt(
          'DTRAIN_DATA_SHAPE',
          source.name,
          undefined,
          `samples have shape [${own.join(', ')}] (${shapeSize(own)} values) but featureShape [${givenShape.join(', ')}] holds ${shapeSize(givenShape)}`,
        );
      }
      const shape = givenShape ?? own;
      if (firstShape !== undefined) checkSameShape(source.name, shape, firstShape.file, firstShape.shape);
      firstShape ??= { file: source.name, shape };
      shards.push({ source, header });
      labelParts.push(await readLabels(labelFiles[i] as string, header.shape[0] as number, source.name, classes, open));
    }
    const rawLabels = new Float32Array(labelParts.reduce((n, part) => n + part.length, 0));
    labelParts.reduce((at, part) => (rawLabels.set(part, at), at + part.length), 0);
    const featureShape = (firstShape as { shape: readonly number[] }).shape;
    const featureSize = shapeSize(featureShape);
    const allBytes = shards.every((s) => s.header.dtype === 'u1');
    const indexed: IndexedShard[] = shards.map((s) => ({ file: s.source.name, numSamples: s.header.shape[0] as number }));
    return indexedDataset({
      format: 'npy',
      featureShape,
      labelEncoding,
      numClasses: labelEncoding === 'value' ? undefined : (givenClasses ?? inferNumClasses(rawLabels, labelFiles[0] as string)),
      featureType: allBytes ? 'uint8' : 'float32',
      shards: indexed,
      source: describeShards(featureFiles),
      rawLabels,
      async readRun(run) {
        const { source, header } = shards[run.shard] as NpyShard;
        const rowBytes = featureSize * header.elementBytes;
        const bytes = await source.read(header.dataOffset + run.first * rowBytes, run.count * rowBytes);
        // No bad rows: bytes are values (an int64 beyond ±2^53 rejects the whole read with DTRAIN_DATA_NPY, as at open).
        if (allBytes) return { features: bytes, bad: [] };
        return { features: decodeNpyElements(bytes, 0, run.count * featureSize, header, source.name, { firstElement: run.first * featureSize }), bad: [] };
      },
      close: () => sources.close(),
    });
  });
}

/** parseNpyHeader on a shard's first bytes; a header longer than those is DTRAIN_DATA_NPY. */
function parseNpyHeaderWithin(head: Uint8Array, file: string, size: number): NpyHeader {
  if (head.length === NPY_HEAD_BYTES && head.length >= 12) {
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const end = head[6] === 1 ? 10 + view.getUint16(8, true) : 12 + view.getUint32(8, true);
    if (end > head.length && end <= size) {
      throw dataErrorAt('DTRAIN_DATA_NPY', file, { byteOffset: 8 }, `.npy header of ${end} bytes is longer than the ${NPY_HEAD_BYTES} read for indexing; expected a header numpy writes (a few hundred bytes)`);
    }
  }
  return parseNpyHeader(head, file, size);
}

/** Reads one labels file whole (one small value per sample) and checks it against its features. */
async function readLabels(
  path: string,
  numSamples: number,
  featuresName: string,
  classes: { readonly given: number | undefined } | undefined,
  open: ByteSourceFactory,
): Promise<Float32Array> {
  const source = await open(path);
  try {
    const bytes = await source.read(0, await source.size());
    refuseGzip(source, bytes);
    const labels = parseNpy(bytes, source.name);
    if (labels.shape.slice(1).some((d) => d !== 1)) {
      throw dataErrorAt('DTRAIN_DATA_SHAPE', source.name, undefined, `labels have shape (${labels.shape.join(', ')}); expected one label per sample (N or N×1)`);
    }
    const numLabels = labels.shape[0] as number;
    if (numLabels !== numSamples) {
      throw dataErrorAt('DTRAIN_DATA_SHAPE', source.name, undefined, `holds ${numLabels} labels but ${featuresName} holds ${numSamples} samples; expected one label per sample`);
    }
    if (classes !== undefined) {
      const bad = findBadClassLabel(labels.data, classes.given);
      if (bad >= 0) {
        const problem = classLabelProblem(labels.data[bad] as number, classes.given) as string;
        throw dataErrorAt(
          'DTRAIN_DATA_LABEL_RANGE',
          source.name,
          { byteOffset: labels.dataOffset + bad * labels.elementBytes },
          `${problem} (sample ${bad}, ${NPY_DTYPES[labels.dtype].name}); expected a class id`,
        );
      }
    }
    return labels.data;
  } finally {
    await source.close?.();
  }
}
