export type * from './optimizer-config.js';
