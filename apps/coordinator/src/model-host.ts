import {
  buildModel,
  evaluate,
  initBackend,
  modelTopology,
  readWeights,
  weightLayout,
  writeWeights,
  type BackendInfo,
  type LossName,
  type WeightLayout,
  type tfl,
} from '@dtrain/engine';
import type { Dataset } from '@dtrain/data';
import type { WeightEntry } from '@dtrain/protocol';
import type { JobConfig } from './config/index.js';
import { ConfigError } from './config/index.js';

/**
 * The coordinator's own copy of the model: it defines the topology and the
 * flat weight layout every worker uses, supplies the initial weights, and
 * evaluates the parameter server's weights on validation/test data.
 */
export class ModelHost {
  readonly topology: unknown;
  readonly layout: WeightLayout;
  readonly backend: string;
  readonly #model: tfl.LayersModel;
  readonly #loss: LossName;
  /** training.metrics includes accuracy (else validation and test accuracy are not reported either). */
  readonly #accuracy: boolean;

  private constructor(model: tfl.LayersModel, backend: BackendInfo, loss: LossName, accuracy: boolean) {
    this.#model = model;
    this.#loss = loss;
    this.#accuracy = accuracy;
    this.backend = backend.name;
    this.topology = modelTopology(model);
    this.layout = weightLayout(model);
  }

  static async create(config: JobConfig, backend: string): Promise<ModelHost> {
    const info = await initBackend(backend as Parameters<typeof initBackend>[0]);
    const model = await buildModel(config.model, { seed: config.training.seed });
    return new ModelHost(model, info, config.training.loss, config.training.metrics.includes('accuracy'));
  }

  initialWeights(): Float32Array {
    return readWeights(this.#model, this.layout);
  }

  /** A checkpoint made for another model must not be loaded into this one. */
  assertSameLayout(entries: readonly WeightEntry[], dir: string): void {
    const mine = this.layout.entries;
    const same =
      entries.length === mine.length &&
      entries.every((e, i) => e.name === mine[i]?.name && e.size === mine[i]?.size && e.shape.join('x') === mine[i]?.shape.join('x'));
    if (!same) {
      throw new ConfigError('DTRAIN_CONFIG_INVALID', `checkpoint.dir: ${dir} holds a checkpoint of a different model; use another folder or delete it`, { field: 'checkpoint.dir' });
    }
  }

  /**
   * Frees the model's tensors (its topology and layout stay readable). The
   * coordinator calls it once its job has ended: in the process of a `fit`
   * call, a model left behind would hold a copy of the weights per call.
   */
  dispose(): void {
    this.#model.dispose();
  }

  /** Loss and accuracy of `weights` on a dataset (training = false); accuracy only when training.metrics asks for it. */
  evaluate(weights: Float32Array, data: Dataset): { loss: number; accuracy: number | undefined } {
    writeWeights(this.#model, this.layout, weights);
    const result = evaluate(this.#model, data.features, data.labels, data.numSamples, this.#loss, 512);
    return this.#accuracy ? result : { loss: result.loss, accuracy: undefined };
  }
}
