import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelFromDir, type tfl } from '@dtrain/engine';
import type { ModelSidecar } from '@dtrain/coordinator';
import { UsageError, UsageErrorCode } from './usage-error.js';

/** A trained model on disk: `DIR/model/` of a run, or a model folder itself. */
export interface SavedModel {
  readonly model: tfl.LayersModel;
  readonly sidecar: ModelSidecar | undefined;
  readonly dir: string;
}

export async function openSavedModel(command: string, dir: string): Promise<SavedModel> {
  const modelDir = existsSync(join(dir, 'model', 'model.json')) ? join(dir, 'model') : dir;
  if (!existsSync(join(modelDir, 'model.json'))) {
    throw new UsageError(UsageErrorCode.USAGE, `dtrain ${command}: --model: no model.json in ${dir} or ${join(dir, 'model')}`);
  }
  const sidecarPath = join(modelDir, 'dtrain.json');
  const sidecar = existsSync(sidecarPath) ? (JSON.parse(readFileSync(sidecarPath, 'utf8')) as ModelSidecar) : undefined;
  return { model: await loadModelFromDir(modelDir), sidecar, dir: modelDir };
}
