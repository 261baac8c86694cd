import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng, splitIds } from '@dtrain/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGrayscalePng } from './grayscale-png.js';
import { dtrain, tempDir, writeJob } from './harness.js';

/**
 * The image-folder and JSONL readers end to end: `dtrain train` learns a
 * small generated dataset of each (4 classes, 200 samples, 2 epochs) well
 * above chance, shipped by the coordinator and read by the worker itself
 * (shared access); an image that does not decode is skipped and counted up
 * to dataset.maxBadSamples and fails the job naming it beyond; a bad JSONL
 * record stops it before training with one line naming file and line.
 */

interface Summary {
  readonly state: string;
  readonly failure?: string;
  readonly final: { readonly valAccuracy: number | null };
}

const CLASSES = 4;
const SAMPLES = 200;
/** Chance is 1/4; a learnt task clears it by far. */
const LEARNT = 0.6;

const tmp = tempDir('data-formats');
afterAll(() => tmp.cleanup());

/** An 8×8 grayscale image of class k: one bright half (top, bottom, left, right) over noise. */
function patternImage(k: number, rng: ReturnType<typeof createRng>): Uint8Array {
  const pixels = new Uint8Array(64);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const bright = [y < 4, y >= 4, x < 4, x >= 4][k] as boolean;
      pixels[y * 8 + x] = (bright ? 170 : 30) + rng.nextInt(60);
    }
  }
  return pixels;
}

function job(name: string, inputShape: number[], dataset: Record<string, unknown>): Record<string, unknown> {
  return {
    name,
    model: {
      layers: [
        ...(inputShape.length > 1 ? [{ type: 'flatten', inputShape }] : []),
        { type: 'dense', units: 16, activation: 'relu', kernelInitializer: 'heNormal', ...(inputShape.length > 1 ? {} : { inputShape }) },
        { type: 'dense', units: CLASSES, activation: 'softmax' },
      ],
    },
    dataset: { validationSplit: 0.2, ...dataset },
    training: { epochs: 2, batchSize: 16, optimizer: { name: 'adam', learningRate: 0.02 }, loss: 'sparseCategoricalCrossentropy', seed: 5 },
    cluster: { minWorkers: 1, stepTimeoutMs: 20_000 },
  };
}

async function train(config: string, out: string): Promise<{ code: number | null; stderr: string }> {
  const run = dtrain(['train', '--config', config, '--workers', '1', '--backend', 'wasm', '--out', out, '--quiet', '--no-report']);
  const { code } = await run.exited;
  return { code, stderr: run.stderr };
}

function summary(out: string): Summary {
  return JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
}

/** Writes the image folder once: class-k/NNNN.png, sample i in class i % CLASSES. */
function writeImages(root: string): void {
  const rng = createRng(17);
  for (let i = 0; i < SAMPLES; i++) {
    const k = i % CLASSES;
    mkdirSync(join(root, `class-${k}`), { recursive: true });
    writeFileSync(join(root, `class-${k}`, `${String(i).padStart(4, '0')}.png`), encodeGrayscalePng(patternImage(k, rng), 8));
  }
}

/** Writes the JSONL rows once, sharded over two files. */
function writeJsonl(dir: string): void {
  const rng = createRng(23);
  const lines: string[][] = [[], []];
  for (let i = 0; i < SAMPLES; i++) {
    const label = i % CLASSES;
    const x = Array.from({ length: CLASSES }, (_, d) => Number(((d === label ? 3 : 0) + rng.normal()).toFixed(4)));
    lines[i % 2]!.push(JSON.stringify({ id: i, x, label }));
  }
  lines.forEach((shard, s) => writeFileSync(join(dir, `rows-${s}.jsonl`), shard.join('\n') + '\n'));
}

describe('dtrain train on the new source formats', () => {
  beforeAll(() => {
    writeImages(join(tmp.dir, 'images'));
    writeJsonl(tmp.dir);
  });

  // Shipped by the coordinator, and read by the worker itself (shared access: the indexed readers, by sample).
  it.each(['ship', 'shared'] as const)('learns an image-folder dataset of PNGs, resized to featureShape (access: %s)', async (access) => {
    const config = writeJob(
      tmp.dir,
      job(`images-${access}`, [8, 8, 1], { format: 'images', path: 'images', featureShape: [8, 8, 1], normalise: { kind: 'scale', scale: 255 }, access }),
      `images-${access}.yaml`,
    );
    const out = join(tmp.dir, `out-images-${access}`);
    const { code, stderr } = await train(config, out);
    expect(code, stderr).toBe(0);
    const result = summary(out);
    expect(result.state).toBe('done');
    expect(result.final.valAccuracy, JSON.stringify(result.final)).toBeGreaterThan(LEARNT);
  });

  it.each(['ship', 'shared'] as const)('learns a JSONL dataset sharded over two files read through a glob (access: %s)', async (access) => {
    const config = writeJob(tmp.dir, job(`jsonl-${access}`, [CLASSES], { format: 'jsonl', path: 'rows-*.jsonl', featureField: 'x', labelField: 'label', access }), `jsonl-${access}.yaml`);
    const out = join(tmp.dir, `out-jsonl-${access}`);
    const { code, stderr } = await train(config, out);
    expect(code, stderr).toBe(0);
    const result = summary(out);
    expect(result.state).toBe('done');
    expect(result.final.valAccuracy, JSON.stringify(result.final)).toBeGreaterThan(LEARNT);
  });

  describe('an image that does not decode, read by the worker (shared access)', () => {
    // A copy of the folder with one training image replaced by bytes that are no PNG.
    const root = join(tmp.dir, 'images-bad');
    let broken = '';
    beforeAll(() => {
      writeImages(root);
      // Class folders sorted, files sorted: source id j of class 0 is sample 4j. The first of class 0 in the training split.
      const { train: trainIds } = splitIds(SAMPLES, 0.2, 5);
      const j = Array.from(trainIds).find((id) => id < SAMPLES / CLASSES) as number;
      broken = join(root, 'class-0', `${String(j * CLASSES).padStart(4, '0')}.png`);
      writeFileSync(broken, 'not a png at all');
    });

    it('is skipped and counted within dataset.maxBadSamples: the job finishes and the log names the file', async () => {
      const config = writeJob(
        tmp.dir,
        job('images-bad-ok', [8, 8, 1], { format: 'images', path: 'images-bad', featureShape: [8, 8, 1], normalise: { kind: 'scale', scale: 255 }, access: 'shared', maxBadSamples: 1 }),
        'images-bad-ok.yaml',
      );
      const { code, stderr } = await train(config, join(tmp.dir, 'out-images-bad-ok'));
      expect(code, stderr).toBe(0);
      expect(stderr).toMatch(/skipped training sample \d+ \(decode\): /);
      expect(stderr).toContain(broken);
    });

    it('fails the job naming the file when dataset.maxBadSamples is 0 (the default)', async () => {
      const config = writeJob(
        tmp.dir,
        job('images-bad-fail', [8, 8, 1], { format: 'images', path: 'images-bad', featureShape: [8, 8, 1], normalise: { kind: 'scale', scale: 255 }, access: 'shared' }),
        'images-bad-fail.yaml',
      );
      const out = join(tmp.dir, 'out-images-bad-fail');
      const { code, stderr } = await train(config, out);
      expect(code, stderr).not.toBe(0);
      const result = summary(out);
      expect(result.state).toBe('failed');
      expect(result.failure).toContain('DTRAIN_JOB_DATA: 1 training sample(s) do not parse or decode, more than dataset.maxBadSamples=0; first: ');
      expect(result.failure).toContain(broken);
    });
  });

  it('stops before training on a JSONL record without the label: exit 2, one line naming file and line', async () => {
    const file = join(tmp.dir, 'bad.jsonl');
    writeFileSync(file, ['{"x": [1, 0, 0, 0], "label": 0}', '{"x": [0, 1, 0, 0], "label": 1}', '{"x": [0, 0, 1, 0]}', ''].join('\n'));
    const config = writeJob(tmp.dir, job('jsonl-bad', [CLASSES], { format: 'jsonl', path: 'bad.jsonl', featureField: 'x', labelField: 'label' }), 'bad.yaml');
    const { code, stderr } = await train(config, join(tmp.dir, 'out-bad'));
    expect(code, stderr).toBe(2);
    const lines = stderr.trim().split('\n');
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toBe(`dtrain: ${file}: line 3: no label field "label"`);
  });
});
