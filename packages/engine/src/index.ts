/**
 * @dtrain/engine: tfjs backend choice, models from specs or topologies, the
 * flat weight layout, loss + gradients of a batch, and the kernels the wasm
 * backend lacks. Nothing happens on import; `initBackend` is the entry point.
 */

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** The one tfjs instance the engine computes with; apps use it rather than importing their own. */
export { tf, tfl };

export type * from './model-spec.js';

export { EngineError, EngineErrorCode } from './engine-error.js';

export {
  BACKEND_REQUESTS,
  BackendPackage,
  chooseBackend,
  type BackendInfo,
  type BackendName,
  type BackendProbe,
  type BackendRequest,
} from './backend-choice.js';
export { visibleGpuDevices, type GpuProbeHost } from './gpu-probe.js';
export { availableBackends, initBackend } from './init-backend.js';
export { registerWasmKernels, WASM_GRADIENT_KERNELS, type WasmKernelOptions } from './register-wasm-kernels.js';

export { validateModelSpec } from './validate-model-spec.js';
export {
  buildModel,
  buildModelFromLayers,
  modelFromTopology,
  modelTopology,
  type BuildModelOptions,
} from './build-model.js';
export { dirModelHandler, loadModelFromDir, MODEL_JSON } from './load-model-from-dir.js';

export {
  readWeights,
  weightLayout,
  writeWeights,
  type WeightEntry,
  type WeightLayout,
  type WeightRange,
} from './weight-layout.js';
export { sampleShapes, type SampleShapes } from './batch-tensors.js';
export { LOSS_NAMES } from './losses.js';
export { createTrainer, Trainer, type StepResult, type TrainerOptions } from './trainer.js';
export {
  DEFAULT_INFERENCE_BATCH,
  evaluate,
  predict,
  type EvaluateResult,
  type PredictResult,
} from './inference.js';
