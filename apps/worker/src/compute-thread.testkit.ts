/**
 * Test and benchmark support (excluded from the build): what a coordinator
 * would send a worker for a small model, with fresh random weights and data.
 */

import {
  buildModelFromLayers,
  initBackend,
  modelTopology,
  readWeights,
  weightLayout,
  type LayerSpec,
  type LossName,
} from '@dtrain/engine';
import type { AssignmentMessage, DataChunkMessage, WelcomeMessage } from '@dtrain/protocol';

export interface ComputeFixture {
  /** Protocol 2's welcome: the weights are not in it. */
  readonly welcome: WelcomeMessage;
  /** `welcome.version`'s weights. */
  readonly weights: Float32Array;
  readonly chunks: readonly DataChunkMessage[];
  /** The initial weights plus fresh noise in [-0.05, 0.05): a later version's (moving variances stay positive). */
  randomWeights(): Float32Array;
  /** `batchSize` random distinct sample ids at `version`. */
  assignment(version: number, batchSize: number): AssignmentMessage;
}

export interface FixtureOptions {
  readonly layers: readonly LayerSpec[];
  /** Default 'sparseCategoricalCrossentropy' (labels are class indices). */
  readonly loss?: LossName;
  /** Classes of the sparse labels; default 10. */
  readonly classes?: number;
  /** Default 200. */
  readonly numSamples?: number;
  /** Default 64. */
  readonly chunkSize?: number;
}

const random = (n: number): Float32Array => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

/** Builds the model on the cpu backend (leaving it active) for its topology and initial weights. */
export async function computeFixture(options: FixtureOptions): Promise<ComputeFixture> {
  const { layers, loss = 'sparseCategoricalCrossentropy', classes = 10, numSamples = 200, chunkSize = 64 } = options;
  await initBackend('cpu');
  const model = buildModelFromLayers(layers, { seed: Math.floor(Math.random() * 2 ** 31) });
  const layout = weightLayout(model);
  const weights = readWeights(model, layout);
  const topology = modelTopology(model);
  const featureShape = (model.inputs[0]?.shape ?? []).slice(1) as number[];
  const outputShape = (model.outputs[0]?.shape ?? []).slice(1) as number[];
  model.dispose();
  const labelShape = loss === 'sparseCategoricalCrossentropy' ? [1] : outputShape;
  const featureSize = featureShape.reduce((a, b) => a * b, 1);
  const labelSize = labelShape.reduce((a, b) => a * b, 1);
  const label = loss === 'sparseCategoricalCrossentropy' ? (): number => Math.floor(Math.random() * classes) : Math.random;
  const chunks: DataChunkMessage[] = [];
  for (let start = 0, chunkId = 0; start < numSamples; start += chunkSize, chunkId++) {
    const count = Math.min(chunkSize, numSamples - start);
    const labels = Float32Array.from({ length: count * labelSize }, label);
    chunks.push({ type: 'dataChunk', chunkId, start, count, features: random(count * featureSize), labels });
  }
  const welcome: WelcomeMessage = {
    type: 'welcome',
    workerId: 1,
    job: { name: 'fixture', loss, batchSize: 32, seed: 1, heartbeatIntervalMs: 1000, chunkBytes: 4 * 1024 * 1024 },
    modelTopology: topology,
    layout: layout.entries,
    version: 7,
    shards: [{ start: 0, end: layout.totalSize, url: '' }],
    data: { numSamples, featureShape, labelShape, chunkSize },
  };
  let step = 0;
  return {
    welcome,
    weights,
    chunks,
    randomWeights: () => weights.map((w) => w + (Math.random() - 0.5) / 10),
    assignment: (version, batchSize) => {
      const ids = Uint32Array.from({ length: numSamples }, (_, i) => i);
      for (let i = ids.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [ids[i], ids[j]] = [ids[j] as number, ids[i] as number];
      }
      return { type: 'assignment', step: step++, epoch: 0, version, batchId: step, sampleIds: ids.slice(0, batchSize) };
    },
  };
}
