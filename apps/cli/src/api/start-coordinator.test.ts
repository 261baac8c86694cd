import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadJobData, parseJobConfig, silentLogger } from '@dtrain/coordinator';
import { startCoordinator, type CoordinatorJob } from './start-coordinator.js';

const dir = mkdtempSync(join(tmpdir(), 'dtrain-start-coordinator-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function job(): Promise<CoordinatorJob> {
  const config = parseJobConfig(
    {
      name: 'start-coordinator',
      model: { layers: [{ type: 'dense', units: 3, activation: 'softmax', inputShape: [4] }] },
      dataset: { format: 'synthetic', numSamples: 64, featureShape: [4], numClasses: 3 },
      training: { epochs: 1, batchSize: 16, optimizer: { name: 'sgd', learningRate: 0.1 }, loss: 'sparseCategoricalCrossentropy' },
    },
    dir,
    'test',
  );
  return { config, data: await loadJobData(config) };
}

describe('startCoordinator', () => {
  it('listens on a free port, starts from initialWeights, and stop() ends the job as stopped with those weights', async () => {
    // 4×3 kernel + 3 biases.
    const initialWeights = Float32Array.from({ length: 15 }, (_, i) => i / 10);
    const handle = await startCoordinator({ job: await job(), outDir: join(dir, 'run'), backend: 'cpu', log: silentLogger, initialWeights });
    expect(handle.url).toBe(`ws://127.0.0.1:${handle.port}`);
    expect(handle.port).toBeGreaterThan(0);
    expect(handle.status().state).toBe('waiting');
    expect(() => handle.weights()).toThrow(/has not ended/);
    handle.stop();
    const { summary, exitCode } = await handle.done;
    expect(summary.state).toBe('stopped');
    expect(exitCode).toBe(143);
    expect([...handle.weights()]).toEqual([...initialWeights]);
    // done closed the server (no keepServing).
    await expect(fetch(`http://127.0.0.1:${handle.port}/healthz`)).rejects.toThrow();
  });

  it('refuses initialWeights that do not fit the model, naming them', async () => {
    const start = startCoordinator({ job: await job(), outDir: join(dir, 'bad'), backend: 'cpu', log: silentLogger, initialWeights: new Float32Array(7) });
    await expect(start).rejects.toBeInstanceOf(ConfigError);
    await expect(start).rejects.toThrow('initialWeights: expected 15 float32 values (the model\'s weight layout), got 7');
  });

  it('takes exactly one of configPath and job', async () => {
    await expect(startCoordinator({})).rejects.toThrow(/exactly one of configPath/);
  });
});
