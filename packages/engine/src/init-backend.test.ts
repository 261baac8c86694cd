import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendPackage } from './backend-choice.js';
import { EngineError } from './engine-error.js';
import { activateFirstWorking, availableBackends, initBackend } from './init-backend.js';

const requireHere = createRequire(import.meta.url);
function installed(name: string): boolean {
  try {
    requireHere.resolve(name);
    return true;
  } catch {
    return false;
  }
}
const hasTfjsNode = installed(BackendPackage.node) || installed(BackendPackage.nodeGpu);
if (hasTfjsNode) {
  console.warn("[engine] SKIPPING the 'tensorflow backend unavailable' test: tfjs-node is installed here.");
} else {
  console.warn('[engine] SKIPPING the tfjs-node backend test: neither @tensorflow/tfjs-node nor -gpu is installed here.');
}

describe('activateFirstWorking', () => {
  const everything = new Set(Object.values(BackendPackage));

  it('falls through packages that fail to load and says why in reason', async () => {
    const tried: string[] = [];
    const info = await activateFirstWorking({ request: 'auto', resolvable: everything, gpuDevices: ['gpu:0'] }, async (choice) => {
      tried.push(choice.package);
      if (choice.name === 'tensorflow') throw new Error(`${choice.package}: libtensorflow.so.2: cannot open shared object file\nstack…`);
    });
    expect(tried).toEqual([BackendPackage.nodeGpu, BackendPackage.node, BackendPackage.wasm]);
    expect(info.name).toBe('wasm');
    expect(info.reason).toBe(
      'auto requested; @tensorflow/tfjs-node-gpu failed to load (@tensorflow/tfjs-node-gpu: libtensorflow.so.2: cannot open shared object file); ' +
        '@tensorflow/tfjs-node failed to load (@tensorflow/tfjs-node: libtensorflow.so.2: cannot open shared object file); chose @tensorflow/tfjs-backend-wasm',
    );
  });

  it("throws DTRAIN_ENGINE_BACKEND when an explicit request's packages all fail", async () => {
    const attempt = activateFirstWorking({ request: 'tensorflow', resolvable: everything, gpuDevices: [] }, async () => {
      throw new Error('libtensorflow missing');
    });
    await expect(attempt).rejects.toBeInstanceOf(EngineError);
    await expect(attempt).rejects.toMatchObject({
      code: 'DTRAIN_ENGINE_BACKEND',
      message:
        "backend 'tensorflow' is not available here: @tensorflow/tfjs-node-gpu installed but no GPU visible; @tensorflow/tfjs-node failed to load (libtensorflow missing)",
    });
  });
});

describe('initBackend', () => {
  it('auto picks the first backend that loads and says why', async () => {
    const info = await initBackend();
    expect(tf.getBackend()).toBe(info.name);
    if (!hasTfjsNode) {
      expect(info).toEqual({
        name: 'wasm',
        package: BackendPackage.wasm,
        gpu: false,
        devices: ['cpu'],
        reason:
          'auto requested; @tensorflow/tfjs-node-gpu not installed; @tensorflow/tfjs-node not installed; chose @tensorflow/tfjs-backend-wasm',
      });
    }
  });

  it('switches between explicit requests and is safe to call repeatedly and concurrently', async () => {
    const results = await Promise.all([initBackend('cpu'), initBackend('wasm'), initBackend('cpu')]);
    expect(results.map((info) => info.name)).toEqual(['cpu', 'wasm', 'cpu']);
    expect(tf.getBackend()).toBe('cpu');
    expect(await initBackend('cpu')).toBe(results[2]);
    await initBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
    // The engine's gradient kernels are registered whenever wasm is chosen.
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it.skipIf(hasTfjsNode)("an explicit 'tensorflow' request that cannot be met throws DTRAIN_ENGINE_BACKEND", async () => {
    const before = tf.getBackend();
    const error = await initBackend('tensorflow').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({
      code: 'DTRAIN_ENGINE_BACKEND',
      message: "backend 'tensorflow' is not available here: @tensorflow/tfjs-node-gpu not installed; @tensorflow/tfjs-node not installed",
    });
    expect(tf.getBackend()).toBe(before);
  });

  it.skipIf(!hasTfjsNode)("loads tfjs-node as 'tensorflow' when it is installed", async () => {
    const info = await initBackend('tensorflow');
    expect(info.name).toBe('tensorflow');
    expect(tf.getBackend()).toBe('tensorflow');
    await initBackend('wasm');
  });

  it('rejects an unknown request with one clear line', async () => {
    await expect(initBackend('webgl' as 'auto')).rejects.toMatchObject({
      code: 'DTRAIN_ENGINE_BACKEND',
      message: 'backend: expected one of auto, tensorflow, wasm, cpu, got "webgl"',
    });
  });

  it('availableBackends lists what loads here and restores the active backend', async () => {
    await initBackend('cpu');
    const names = await availableBackends();
    expect(names).toEqual(hasTfjsNode ? ['tensorflow', 'wasm', 'cpu'] : ['wasm', 'cpu']);
    expect(tf.getBackend()).toBe('cpu');
  });
});
