/**
 * Optimizer settings, with tfjs's names and defaults (tf.train.*).
 * `learningRate` is required everywhere; the rest default as in tfjs.
 */
export type OptimizerConfig =
  | { readonly name: 'sgd'; readonly learningRate: number }
  | {
      readonly name: 'momentum';
      readonly learningRate: number;
      /** Required in tfjs; default here 0.9. */
      readonly momentum?: number;
      readonly useNesterov?: boolean;
    }
  | {
      readonly name: 'adam';
      readonly learningRate: number;
      /** Default 0.9. */
      readonly beta1?: number;
      /** Default 0.999. */
      readonly beta2?: number;
      /** Default 1e-7 (tfjs's float32 backend epsilon). */
      readonly epsilon?: number;
    }
  | {
      readonly name: 'rmsprop';
      readonly learningRate: number;
      /** Default 0.9. */
      readonly decay?: number;
      /** Default 0. */
      readonly momentum?: number;
      /** Default 1e-7. */
      readonly epsilon?: number;
      /** Default false. */
      readonly centered?: boolean;
    };

export type OptimizerName = OptimizerConfig['name'];
