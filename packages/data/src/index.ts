export type * from './dataset.js';
