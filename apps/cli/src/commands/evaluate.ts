import { evaluateData, loadJobConfig, loadJobData } from '@dtrain/coordinator';
import { evaluate, initBackend } from '@dtrain/engine';
import { BACKENDS, choiceFlag, parseFlags, required } from '../args.js';
import { openSavedModel } from '../saved-model.js';
import { UsageError, UsageErrorCode } from '../usage-error.js';

/** `dtrain evaluate`: loss and accuracy of a saved model on the job's validation (or test) data. */
export async function evaluateCommand(argv: readonly string[]): Promise<number> {
  const f = parseFlags('evaluate', argv, {
    model: { type: 'string' },
    config: { type: 'string' },
    split: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean' },
  });
  const modelDir = required('evaluate', 'model', f.model);
  const config = await loadJobConfig(required('evaluate', 'config', f.config));
  const split = choiceFlag('evaluate', 'split', f.split, ['validation', 'test'] as const, 'validation');
  await initBackend(choiceFlag('evaluate', 'backend', f.backend, BACKENDS, 'auto'));
  const data = await loadJobData(config);
  const dataset = split === 'test' ? data.test : data.validation;
  if (dataset === undefined || dataset.numSamples === 0) {
    throw new UsageError(UsageErrorCode.USAGE, `dtrain evaluate: the job config has no ${split} data${split === 'test' ? ' (dataset.test)' : ' (dataset.validationSplit is 0)'}`);
  }
  const { model } = await openSavedModel('evaluate', modelDir);
  const result = await evaluateData(dataset, (block) => evaluate(model, block.features, block.labels, block.numSamples, config.training.loss, 512));
  const report = { split, samples: dataset.numSamples, loss: result.loss, accuracy: result.accuracy ?? null };
  if (f.json === true) process.stdout.write(`${JSON.stringify(report)}\n`);
  else process.stdout.write(`${split}: ${report.samples} samples  loss ${report.loss.toFixed(4)}  accuracy ${report.accuracy === null ? '-' : report.accuracy.toFixed(4)}\n`);
  return 0;
}
