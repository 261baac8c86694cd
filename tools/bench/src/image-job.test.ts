import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJobConfig } from '@dtrain/coordinator';
import { imageJob, type ImageJobOptions } from './image-job.js';
import { writeImageShards } from './npy-shards.js';

const work = mkdtempSync(join(tmpdir(), 'dtrain-image-job-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const shards = writeImageShards({ dir: work, images: 40, shards: 2 });
const base: ImageJobOptions = {
  name: 'data-test-shared',
  features: join(work, 'train-*-x.npy'),
  labels: join(work, 'train-*-y.npy'),
  access: 'shared',
  cacheBytes: 1 << 20,
  batchSize: 8,
  hidden: 16,
  workers: 2,
};

describe('imageJob', () => {
  it('is a config the coordinator accepts: the npy shards by glob, scaled by 255, shared with a cache', () => {
    const config = parseJobConfig(imageJob(base), work, 'data-test.yaml');
    expect(config.dataset).toMatchObject({ access: 'shared', cacheBytes: 1 << 20, featureShape: [32, 32, 3], validationSplit: 0.01, normalisation: { kind: 'scale', scale: 255 } });
    expect(config.dataset.source).toMatchObject({ format: 'npy' });
    expect(config.training).toMatchObject({ epochs: 1, batchSize: 8 });
    expect(config.cluster).toMatchObject({ minWorkers: 2, maxWorkers: 2 });
  });
  it('takes the shards as a list, shipped', () => {
    const job = imageJob({ ...base, name: 'data-test-ship', access: 'ship', features: shards.map((s) => s.features), labels: shards.map((s) => s.labels) });
    expect(parseJobConfig(job, work, 'data-test.yaml').dataset).toMatchObject({ access: 'ship' });
  });
  it('leaves access and cacheBytes out without an access', () => {
    const job = imageJob({ ...base, access: undefined });
    expect(job['dataset']).not.toHaveProperty('access');
    expect(job['dataset']).not.toHaveProperty('cacheBytes');
    expect(() => parseJobConfig(job, work, 'data-test.yaml')).not.toThrow();
  });
});
