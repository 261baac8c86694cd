/**
 * Test support only (excluded from the build): what the parameter server does
 * with a worker's flat gradients, in its simplest form (plain SGD).
 */

import type * as tfl from '@tensorflow/tfjs-layers';
import { readWeights, writeWeights, type WeightLayout } from '../weight-layout.js';

/** w ← w − lr·g for trainable entries; non-trainable entries take the reported value. */
export function applySgd(model: tfl.LayersModel, layout: WeightLayout, gradients: Float32Array, learningRate: number): void {
  const weights = readWeights(model, layout);
  for (const entry of layout.entries) {
    for (let i = entry.offset; i < entry.offset + entry.size; i++) {
      weights[i] = entry.trainable
        ? (weights[i] as number) - learningRate * (gradients[i] as number)
        : (gradients[i] as number);
    }
  }
  writeWeights(model, layout, weights);
}
