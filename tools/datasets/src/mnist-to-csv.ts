/**
 * Writes the CSV example's data: the first N images of the shipped MNIST 10k
 * set, average-pooled 28×28 → 14×14, one row per image (`label,p0..p195`).
 *
 * usage: node dist/mnist-to-csv.js IMAGES LABELS OUT.csv [N=3000]
 */
import { writeFileSync } from 'node:fs';
import { createReaderRegistry } from '@dtrain/data';
import { downsampleImages } from './downsample.js';

const [images, labels, out, count = '3000'] = process.argv.slice(2);
if (images === undefined || labels === undefined || out === undefined) {
  process.stderr.write('usage: mnist-to-csv IMAGES LABELS OUT.csv [N]\n');
  process.exit(2);
}
const mnist = await createReaderRegistry().get('idx').read({ images, labels });
const n = Math.min(Number(count), mnist.numSamples);
const { values, side } = downsampleImages(mnist.features.subarray(0, n * 784), n, 28, 2);
const width = side * side;
const lines = [`label,${Array.from({ length: width }, (_, i) => `p${i}`).join(',')}`];
for (let i = 0; i < n; i += 1) lines.push(`${mnist.labels[i]},${Array.from(values.subarray(i * width, (i + 1) * width)).join(',')}`);
writeFileSync(out, `${lines.join('\n')}\n`);
process.stdout.write(`wrote ${n} rows of ${width} features to ${out}\n`);
