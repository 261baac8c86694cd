import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadJobConfig } from './load-job-config.js';

const dir = mkdtempSync(join(tmpdir(), 'dtrain-load-job-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

mkdirSync(join(dir, 'jobs', 'data'), { recursive: true });
writeFileSync(join(dir, 'jobs', 'data', 'table.csv'), 'x,label\n1,0\n');

const JOB_YAML = `name: csv-job
model:
  layers: [{ type: dense, units: 1 }]
dataset:
  format: csv
  path: data/table.csv
  labelColumn: label
training: { epochs: 1, batchSize: 1, optimizer: { name: sgd, learningRate: 0.1 }, loss: meanSquaredError }
checkpoint: { dir: ckpt }
`;

async function loadError(path: string): Promise<ConfigError> {
  try {
    await loadJobConfig(path);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('loadJobConfig', () => {
  it('resolves paths in the config against its folder, not the working directory', async () => {
    const file = join(dir, 'jobs', 'job.yaml');
    writeFileSync(file, JOB_YAML);
    const config = await loadJobConfig(relative(process.cwd(), file));
    expect(config.configDir).toBe(join(dir, 'jobs'));
    expect(config.dataset.source).toStrictEqual({
      format: 'csv',
      path: join(dir, 'jobs', 'data', 'table.csv'),
      labelColumn: 'label',
      header: true,
      labelEncoding: 'value',
    });
    expect(config.checkpoint.dir).toBe(join(dir, 'jobs', 'ckpt'));
  });

  it('reports a missing config file as NOT_FOUND with its absolute path', async () => {
    const file = join(dir, 'nope.yaml');
    expect(await loadError(relative(process.cwd(), file))).toMatchObject({
      code: 'DTRAIN_CONFIG_NOT_FOUND',
      field: undefined,
      source: file,
      message: `config file not found: ${file}`,
    });
  });

  it('reports a directory given as the config file', async () => {
    expect(await loadError(join(dir, 'jobs'))).toMatchObject({
      code: 'DTRAIN_CONFIG_NOT_FOUND',
      message: `config file is a directory, expected a file: ${join(dir, 'jobs')}`,
    });
  });

  it('reports a YAML syntax error as file:line:col', async () => {
    const file = join(dir, 'jobs', 'broken.yaml');
    writeFileSync(file, JOB_YAML.replace('  labelColumn: label', '  labelColumn: label\n  labelColumn: x'));
    expect(await loadError(file)).toMatchObject({
      code: 'DTRAIN_CONFIG_PARSE',
      source: file,
      message: `${file}:8:3: invalid YAML: Map keys must be unique`,
    });
  });

  it('reports a JSON syntax error as file:line:col', async () => {
    const file = join(dir, 'jobs', 'broken.json');
    writeFileSync(file, '{\n  "name": "csv-job",\n  "model": { "layers": [] },\n}\n');
    expect(await loadError(file)).toMatchObject({
      code: 'DTRAIN_CONFIG_PARSE',
      message: `${file}:4:1: invalid JSON: Expected double-quoted property name`,
    });
  });

  it('reports a bad field with the file as source', async () => {
    const file = join(dir, 'jobs', 'bad-batch.yaml');
    writeFileSync(file, JOB_YAML.replace('batchSize: 1', 'batchSize: -3'));
    expect(await loadError(file)).toMatchObject({
      code: 'DTRAIN_CONFIG_INVALID',
      field: 'training.batchSize',
      source: file,
      message: 'training.batchSize: expected a positive integer, got -3',
    });
  });

  it('names a data file missing relative to the config folder by its absolute path', async () => {
    const file = join(dir, 'jobs', 'missing-data.yaml');
    writeFileSync(file, JOB_YAML.replace('data/table.csv', 'data/other.csv'));
    expect(await loadError(file)).toMatchObject({
      code: 'DTRAIN_CONFIG_INVALID',
      field: 'dataset.path',
      message: `dataset.path: file not found: ${join(dir, 'jobs', 'data', 'other.csv')}`,
    });
  });

  it('reports an empty file as a document that is not an object', async () => {
    const file = join(dir, 'jobs', 'empty.yaml');
    writeFileSync(file, '# nothing yet\n');
    expect(await loadError(file)).toMatchObject({
      code: 'DTRAIN_CONFIG_INVALID',
      message: `${file}: expected an object with keys name, model, dataset, training, cluster, checkpoint, got null`,
    });
  });
});
