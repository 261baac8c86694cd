export type * from './model-spec.js';
