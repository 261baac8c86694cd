import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createReaderRegistry, planEpoch, splitValidation, gatherBatch, sampleSource } from '@dtrain/data';
import { buildModel, initBackend, loadModelFromDir, tf, type LayerSpec } from '@dtrain/engine';
import { dtrain, syntheticJob, tempDir, writeJob } from './harness.js';

/**
 * With one worker, the same seed and the same data order, dtrain's weights
 * after K steps equal plain single-process tfjs training with the same
 * optimizer (model.trainOnBatch), to float tolerance.
 */
describe('1 worker equals single-process tfjs', () => {
  const tmp = tempDir('equivalence');
  afterAll(() => tmp.cleanup());

  const layers: LayerSpec[] = [
    { type: 'dense', units: 24, activation: 'tanh', inputShape: [16], kernelInitializer: 'glorotUniform' },
    { type: 'dense', units: 12, activation: 'relu', kernelInitializer: 'heNormal', kernelRegularizer: { l2: 0.001 } },
    { type: 'dense', units: 4, activation: 'softmax' },
  ];
  const seed = 5;
  const batchSize = 32;
  const numSamples = 640; // 20 steps per epoch
  const epochs = 2;

  for (const optimizer of [
    { name: 'sgd', learningRate: 0.1 },
    { name: 'adam', learningRate: 0.01 },
  ] as const) {
    it(`${optimizer.name}: ${epochs} epochs of ${numSamples / batchSize} steps`, async () => {
      const out = join(tmp.dir, optimizer.name);
      const config = writeJob(
        tmp.dir,
        syntheticJob(`equiv-${optimizer.name}`, {
          model: { layers },
          dataset: { numSamples, validationSplit: 0 },
          training: { epochs, batchSize, seed, optimizer },
        }),
        `${optimizer.name}.yaml`,
      );
      const p = dtrain(['train', '--config', config, '--workers', '1', '--port', '0', '--out', out, '--quiet', '--backend', 'cpu']);
      expect(await p.exited, p.stderr).toEqual({ code: 0, signal: null });

      await initBackend('cpu');
      const trained = await loadModelFromDir(join(out, 'model'));
      const distributed = trained.getWeights().map((w) => w.dataSync().slice());

      // The reference: the same model, data and order, trained in this process by tfjs itself.
      const all = await createReaderRegistry().get('synthetic').read({ numSamples, featureShape: [16], numClasses: 4, seed: 3 });
      const { train } = splitValidation(all, 0, seed);
      const reference = await buildModel({ kind: 'layers', layers }, { seed });
      reference.compile({
        optimizer: optimizer.name === 'sgd' ? tf.train.sgd(optimizer.learningRate) : tf.train.adam(optimizer.learningRate),
        loss: 'sparseCategoricalCrossentropy',
      });
      const source = sampleSource(train);
      for (let epoch = 0; epoch < epochs; epoch += 1) {
        for (const batch of planEpoch({ numSamples: train.numSamples, batchSize, seed, epoch })) {
          const { x, y } = gatherBatch(source, batch.sampleIds);
          const xs = tf.tensor2d(x, [batch.sampleIds.length, 16]);
          const ys = tf.tensor2d(y, [batch.sampleIds.length, 1]);
          await reference.trainOnBatch(xs, ys);
          tf.dispose([xs, ys]);
        }
      }
      const expected = reference.getWeights().map((w) => w.dataSync());
      expect(distributed.length).toBe(expected.length);
      let maxDiff = 0;
      expected.forEach((e, i) => {
        const d = distributed[i]!;
        expect(d.length).toBe(e.length);
        for (let k = 0; k < e.length; k += 1) maxDiff = Math.max(maxDiff, Math.abs(d[k]! - e[k]!));
      });
      expect(maxDiff).toBeLessThan(1e-4);
    });
  }
});
