import { dataErrorAt } from './data-error.js';

const shown = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/**
 * DTRAIN_DATA_SHAPE naming `file` when its sample shape differs from the
 * first shard's: a model takes one input shape, and a silent reshape would
 * scramble samples. The same message as joining whole shards.
 */
export function checkSameShape(file: string, shape: readonly number[], firstFile: string, firstShape: readonly number[]): void {
  const same = shape.length === firstShape.length && shape.every((d, i) => d === firstShape[i]);
  if (!same) {
    throw dataErrorAt(
      'DTRAIN_DATA_SHAPE',
      file,
      undefined,
      `samples have shape ${shown(shape)} but ${firstFile} has ${shown(firstShape)}; every shard must share one sample shape`,
    );
  }
}
