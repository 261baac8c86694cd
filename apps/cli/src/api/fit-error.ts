/**
 * Errors of the TypeScript API (`fit`, `fitDataset`). Every input mistake is
 * found before any worker process starts, and is one line naming the
 * argument and what was expected.
 */

/** Stable error codes. Never rename one: programs and tests match on them. */
export const FitErrorCode = {
  /** The model was not compiled (`model.compile` sets its optimizer and loss): compile it first. */
  NOT_COMPILED: 'DTRAIN_FIT_NOT_COMPILED',
  /** The model's optimizer has no dtrain counterpart (adagrad, adadelta, adamax, a custom one), or a hyper-parameter is out of range: the message lists the ones that map. */
  OPTIMIZER: 'DTRAIN_FIT_OPTIMIZER',
  /** The model's loss is a function, per-output, or a name dtrain does not compute: the message lists the ones it does. */
  LOSS: 'DTRAIN_FIT_LOSS',
  /** The model cannot be trained by workers: not one input and one output, unknown dimensions, or its topology cannot be rebuilt. */
  MODEL: 'DTRAIN_FIT_MODEL',
  /** The model's topology names a class (layer, initializer, …) that tfjs-layers does not define itself: custom classes are not registered in worker processes. */
  CUSTOM_LAYER: 'DTRAIN_FIT_CUSTOM_LAYER',
  /** x and y (or a validation pair) hold different numbers of samples. */
  SAMPLE_COUNT: 'DTRAIN_FIT_SAMPLE_COUNT',
  /** x or y does not fit the model's input or output shape (or the loss's label layout). */
  SHAPE: 'DTRAIN_FIT_SHAPE',
  /** A class label is not an integer in [0, classes) for sparseCategoricalCrossentropy. */
  LABELS: 'DTRAIN_FIT_LABELS',
  /** An argument has the wrong type or range (epochs, batchSize, validationSplit, workers, a dataset element without xs/ys, …). */
  ARGUMENT: 'DTRAIN_FIT_ARGUMENT',
  /** `resume: true` without `outDir`: the checkpoints to resume from live in outDir. */
  RESUME_NEEDS_OUT_DIR: 'DTRAIN_FIT_RESUME_NEEDS_OUT_DIR',
  /** The `signal` aborted: stopped at a step boundary, checkpoint written, the model holds the weights of that point. */
  ABORTED: 'DTRAIN_FIT_ABORTED',
  /** The job failed (no workers in time, divergence, …): the message leads with the job's own code; the model is unchanged. */
  JOB_FAILED: 'DTRAIN_FIT_JOB_FAILED',
  /** Every local worker process exited before the job ended: the message holds their last lines. */
  WORKERS_EXITED: 'DTRAIN_FIT_WORKERS_EXITED',
} as const;
export type FitErrorCode = (typeof FitErrorCode)[keyof typeof FitErrorCode];

/** A `fit` / `fitDataset` failure; `code` says which. */
export class FitError extends Error {
  override readonly name = 'FitError';
  readonly code: FitErrorCode;

  constructor(code: FitErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
