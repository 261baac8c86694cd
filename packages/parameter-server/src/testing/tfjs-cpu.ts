/**
 * Test support only (excluded from the build): tfjs on its 'cpu' backend, the
 * reference the parameter server's math is checked against.
 */
import type { WeightEntry } from '@dtrain/protocol';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/**
 * Registers and selects tfjs's cpu backend (a devDependency: the server
 * itself must not need tfjs).
 */
export async function useTfjsCpu(): Promise<typeof tf> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new Error('tfjs cpu backend did not initialise');
  // Quiets tfjs's one-time advice to install tfjs-node, which only clutters test output.
  tf.env().set('IS_TEST', true);
  return tf;
}

/** Small deterministic PRNG (mulberry32) so a failing case can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a test needs from a tfjs layers model to save it through the parameter server. */
export interface FlatModel {
  readonly topology: unknown;
  readonly layout: WeightEntry[];
  readonly weights: Float32Array;
}

/**
 * Flattens a layers model the way the engine does: `model.weights` order,
 * names are `originalName`, non-trainable weights (batch-norm moving stats) marked.
 */
export function flattenModel(model: LayersModel): FlatModel {
  const layout: WeightEntry[] = [];
  let offset = 0;
  for (const w of model.weights) {
    const size = w.shape.reduce((a: number, b) => a * (b as number), 1);
    layout.push({ name: w.originalName, shape: w.shape as number[], offset, size, trainable: w.trainable });
    offset += size;
  }
  const weights = new Float32Array(offset);
  model.weights.forEach((w, i) => weights.set(w.read().dataSync() as Float32Array, (layout[i] as WeightEntry).offset));
  return { topology: model.toJSON(null, false), layout, weights };
}

/** An IOHandler that hands tfjs the two files of a saved layers model, as its file loader would. */
export function filesIOHandler(modelJsonText: string, weightsBin: Uint8Array): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(modelJsonText) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
      const weightData = weightsBin.buffer.slice(weightsBin.byteOffset, weightsBin.byteOffset + weightsBin.byteLength);
      return {
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: weightData as ArrayBuffer,
      };
    },
  };
}
