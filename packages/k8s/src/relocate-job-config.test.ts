import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { K8sError } from './k8s-error.js';
import { relocateJobConfig } from './relocate-job-config.js';

const DIR = '/home/me/jobs';

const YAML = `# my job
name: csv-job
model:
  topology: models/model.json   # a tfjs model.json
dataset:
  format: csv
  path: data/table.csv
  labelColumn: label
  test: { format: idx, images: ./test/images.gz, labels: ${join(DIR, 'test', 'labels.gz')} }
training: { epochs: 1, batchSize: 4, optimizer: { name: sgd, learningRate: 0.1 }, loss: meanSquaredError }
checkpoint: { dir: ckpt, keep: 2 }
`;

describe('relocateJobConfig', () => {
  it('moves every file path under /job, keeping its place relative to the config folder', () => {
    const { document, files } = relocateJobConfig(YAML, DIR);
    expect(files).toEqual(['models/model.json', 'data/table.csv', 'test/images.gz', 'test/labels.gz']);
    expect(document).toMatchObject({
      model: { topology: '/job/models/model.json' },
      dataset: { path: '/job/data/table.csv', labelColumn: 'label', test: { images: '/job/test/images.gz', labels: '/job/test/labels.gz' } },
    });
  });

  it('puts checkpoints on the state volume, keeping the other checkpoint settings', () => {
    expect(relocateJobConfig(YAML, DIR).document['checkpoint']).toEqual({ dir: '/var/lib/dtrain/checkpoints', keep: 2 });
    const none = relocateJobConfig('name: x\ntraining: { epochs: 1 }\n', DIR);
    expect(none.document['checkpoint']).toEqual({ dir: '/var/lib/dtrain/checkpoints' });
    expect(none.files).toEqual([]);
  });

  it("keeps the user's comments and everything it does not rewrite", () => {
    const { text } = relocateJobConfig(YAML, DIR);
    expect(text).toContain('# my job');
    expect(text).toContain('# a tfjs model.json');
    expect(text).toContain('training: { epochs: 1, batchSize: 4, optimizer: { name: sgd, learningRate: 0.1 }, loss: meanSquaredError }');
    expect(text).not.toContain(DIR);
  });

  it('reads JSON configs too', () => {
    const json = JSON.stringify({ name: 'j', dataset: { format: 'idx', images: 'a/i.gz', labels: 'a/l.gz' } });
    expect(relocateJobConfig(json, DIR).document['dataset']).toEqual({ format: 'idx', images: '/job/a/i.gz', labels: '/job/a/l.gz' });
  });

  it('moves globs, lists of shard files and npy features too', () => {
    const text = `name: j\ndataset: { format: npy, features: [shards/x-0.npy, ./shards/x-1.npy], labels: 'shards/y-*.npy', test: { format: jsonl, path: test/*.jsonl, featureField: x, labelField: y } }\n`;
    const { document, files } = relocateJobConfig(text, DIR);
    expect(document['dataset']).toMatchObject({
      features: ['/job/shards/x-0.npy', '/job/shards/x-1.npy'],
      labels: '/job/shards/y-*.npy',
      test: { path: '/job/test/*.jsonl' },
    });
    expect(files).toEqual(['shards/y-*.npy', 'shards/x-0.npy', 'shards/x-1.npy', 'test/*.jsonl']);
    expect(() => relocateJobConfig('name: j\ndataset: { format: csv, path: [a.csv, ../b.csv], labelColumn: y }\n', DIR)).toThrow(
      expect.objectContaining({ field: 'dataset.path[1]' }),
    );
  });

  it('leaves http(s) URLs as written, alone or in a list beside files, and lists them apart from the files', () => {
    const text = [
      'name: j',
      'dataset:',
      '  format: npy',
      '  features:',
      '    - https://data.example.com/train-000.npy # first shard',
      '    - shards/x-1.npy',
      '    - HTTP://data.example.com/train-002.npy?sig=a%2Fb&x=1',
      "  labels: 'http://data.example.com/labels.npy' # quoted",
      '  test: { format: jsonl, path: [https://data.example.com/test.jsonl], featureField: x, labelField: y }',
      '',
    ].join('\n');
    const { document, files, urls, text: out } = relocateJobConfig(text, DIR);
    expect(document['dataset']).toMatchObject({
      features: ['https://data.example.com/train-000.npy', '/job/shards/x-1.npy', 'HTTP://data.example.com/train-002.npy?sig=a%2Fb&x=1'],
      labels: 'http://data.example.com/labels.npy',
      test: { path: ['https://data.example.com/test.jsonl'] },
    });
    expect(files).toEqual(['shards/x-1.npy']);
    // In the order of the fields the readers know (labels before features), as the files are.
    expect(urls).toEqual(['http://data.example.com/labels.npy', 'https://data.example.com/train-000.npy', 'HTTP://data.example.com/train-002.npy?sig=a%2Fb&x=1', 'https://data.example.com/test.jsonl']);
    // The list is rewritten item by item: its comments and the quoting stay.
    expect(out).toContain('    - https://data.example.com/train-000.npy # first shard\n    - /job/shards/x-1.npy\n');
    expect(out).toContain("  labels: 'http://data.example.com/labels.npy' # quoted\n");
    expect(out).not.toMatch(/\/job\/https?:/i);
  });

  it('needs no folder for a config whose data are all URLs: nothing is outside it', () => {
    const text = 'name: j\ndataset: { format: npy, features: [https://h/x.npy], labels: [https://h/y.npy] }\ncheckpoint: { dir: /var/lib/dtrain/checkpoints }\n';
    const relocated = relocateJobConfig(text, DIR);
    expect(relocated.files).toEqual([]);
    expect(relocated.urls).toEqual(['https://h/y.npy', 'https://h/x.npy']);
    expect(relocated.document).toEqual(parse(text));
  });

  it.each([
    ['../shared/table.csv', 'dataset.path'],
    ['/data/table.csv', 'dataset.path'],
    ['.', 'dataset.path'],
  ])('a file outside the config folder (%s) is an error naming the field', (path, field) => {
    const text = `name: j\ndataset: { format: csv, path: ${path}, labelColumn: y }\n`;
    let error: unknown;
    try {
      relocateJobConfig(text, DIR);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(K8sError);
    expect(error).toMatchObject({ code: 'DTRAIN_K8S_CONFIG_PATH', field });
    expect((error as Error).message).toMatch(new RegExp(`^${field.replace('.', '\\.')}: .* is outside the config's folder ${DIR}`));
  });

  it('sets cluster.psShards when asked, in the cluster block as written, and leaves it alone otherwise', () => {
    const block = 'name: j\ncluster:\n  minWorkers: 2 # at least two\n  psShards: 1\ncheckpoint: { keep: 1 }\n';
    const set = relocateJobConfig(block, DIR, { psShards: 4 });
    expect(set.document['cluster']).toEqual({ minWorkers: 2, psShards: 4 });
    expect(set.text).toContain('cluster:\n  minWorkers: 2 # at least two\n  psShards: 4\n');
    expect(relocateJobConfig(block, DIR).document['cluster']).toEqual({ minWorkers: 2, psShards: 1 });
    const flow = relocateJobConfig('name: j\ncluster: { minWorkers: 2 }\n', DIR, { psShards: 3 });
    expect(flow.text).toContain('cluster: { minWorkers: 2, psShards: 3 }');
    const none = relocateJobConfig('# mine\nname: j\n', DIR, { psShards: 0 });
    expect(none.document['cluster']).toEqual({ psShards: 0 });
    expect(none.text).toMatch(/^# mine\n/);
  });

  it('rejects a document that is not an object', () => {
    expect(() => relocateJobConfig('- a\n- b\n', DIR)).toThrow(K8sError);
  });
});
