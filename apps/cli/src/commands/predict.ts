import { createWriteStream } from 'node:fs';
import { applyNormalisation, statsFromJSON, type NormalisationStatsJSON } from '@dtrain/data';
import { initBackend, predict } from '@dtrain/engine';
import { BACKENDS, choiceFlag, parseFlags, required } from '../args.js';
import { readInputs } from '../read-inputs.js';
import { openSavedModel } from '../saved-model.js';
import { UsageError, UsageErrorCode } from '../usage-error.js';

/**
 * `dtrain predict`: inference with a saved model. Inputs are normalised the
 * way the training data was (the model's dtrain.json); the output is CSV, one
 * row per input: `class,p0,...` for classifiers, the output values otherwise.
 */
export async function predictCommand(argv: readonly string[]): Promise<number> {
  const f = parseFlags('predict', argv, {
    model: { type: 'string' },
    input: { type: 'string' },
    output: { type: 'string' },
    backend: { type: 'string' },
  });
  const modelDir = required('predict', 'model', f.model);
  const inputPath = required('predict', 'input', f.input);
  await initBackend(choiceFlag('predict', 'backend', f.backend, BACKENDS, 'auto'));
  const { model, sidecar } = await openSavedModel('predict', modelDir);
  const rows = await readInputs(inputPath);
  const featureShape = sidecar?.featureShape ?? (model.inputs[0]?.shape.slice(1) as number[]);
  const featureSize = featureShape.reduce((a: number, b: number) => a * b, 1);
  if (rows.rowSize !== featureSize) {
    throw new UsageError(UsageErrorCode.USAGE, `dtrain predict: --input ${inputPath}: rows have ${rows.rowSize} values, the model takes ${featureSize} ([${featureShape.join(', ')}])`);
  }
  let features = rows.values;
  if (sidecar !== undefined) {
    const stats = statsFromJSON(sidecar.normalisation as NormalisationStatsJSON);
    features = applyNormalisation(
      {
        numSamples: rows.count,
        featureShape,
        labelShape: [1],
        labelEncoding: 'value',
        numClasses: undefined,
        features: rows.values,
        labels: new Float32Array(rows.count),
        source: inputPath,
      },
      stats,
    ).features;
  }
  const { values, outputShape } = predict(model, features, rows.count);
  const width = outputShape.slice(1).reduce((a, b) => a * b, 1);
  const classifier = sidecar !== undefined && /Crossentropy$/.test(sidecar.loss) && width > 1;
  const out = f.output === undefined ? process.stdout : createWriteStream(f.output);
  const header = classifier ? ['class', ...Array.from({ length: width }, (_, k) => `p${k}`)] : Array.from({ length: width }, (_, k) => `y${k}`);
  out.write(`${header.join(',')}\n`);
  for (let i = 0; i < rows.count; i += 1) {
    const row = values.subarray(i * width, (i + 1) * width);
    const cells = Array.from(row, (v) => Number(v.toPrecision(6)).toString());
    if (classifier) {
      let best = 0;
      for (let k = 1; k < width; k += 1) if ((row[k] ?? 0) > (row[best] ?? 0)) best = k;
      cells.unshift(String(best));
    }
    out.write(`${cells.join(',')}\n`);
  }
  if (out !== process.stdout) await new Promise<void>((resolve) => out.end(() => resolve()));
  return 0;
}
