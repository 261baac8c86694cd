import { describe, expect, it } from 'vitest';
import { BackendPackage, chooseBackend, type BackendProbe, type BackendRequest } from './backend-choice.js';
import { EngineError } from './engine-error.js';
import { visibleGpuDevices, type GpuProbeHost } from './gpu-probe.js';

const ALL = [BackendPackage.nodeGpu, BackendPackage.node, BackendPackage.wasm, BackendPackage.cpu];

function probe(request: BackendRequest, installed: readonly string[], gpus: readonly string[] = [], failed: Record<string, string> = {}): BackendProbe {
  return { request, resolvable: new Set(installed), gpuDevices: gpus, failed: new Map(Object.entries(failed)) };
}

function expectBackendError(run: () => unknown, message: RegExp): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('DTRAIN_ENGINE_BACKEND');
    expect((error as EngineError).message).toMatch(message);
    return;
  }
  expect.fail('expected chooseBackend to throw');
}

describe('chooseBackend', () => {
  it('auto prefers tfjs-node-gpu when installed and a GPU is visible', () => {
    const info = chooseBackend(probe('auto', ALL, ['gpu:0', 'gpu:1']));
    expect(info).toMatchObject({ name: 'tensorflow', package: BackendPackage.nodeGpu, gpu: true, devices: ['gpu:0', 'gpu:1'] });
    expect(info.reason).toBe('auto requested; chose @tensorflow/tfjs-node-gpu on gpu:0, gpu:1');
  });

  it('auto skips tfjs-node-gpu without a GPU and takes tfjs-node', () => {
    const info = chooseBackend(probe('auto', ALL));
    expect(info).toMatchObject({ name: 'tensorflow', package: BackendPackage.node, gpu: false, devices: ['cpu'] });
    expect(info.reason).toContain('@tensorflow/tfjs-node-gpu installed but no GPU visible');
  });

  it('auto falls through to wasm when neither tfjs-node package is installed', () => {
    const info = chooseBackend(probe('auto', [BackendPackage.wasm, BackendPackage.cpu], ['gpu:0']));
    expect(info).toMatchObject({ name: 'wasm', package: BackendPackage.wasm, gpu: false, devices: ['cpu'] });
    expect(info.reason).toBe(
      'auto requested; @tensorflow/tfjs-node-gpu not installed; @tensorflow/tfjs-node not installed; chose @tensorflow/tfjs-backend-wasm',
    );
  });

  it('auto records load failures and moves on', () => {
    const failed = { [BackendPackage.nodeGpu]: 'libcudart.so.11 missing', [BackendPackage.node]: 'libtensorflow.so missing' };
    const info = chooseBackend(probe('auto', ALL, ['gpu:0'], failed));
    expect(info.name).toBe('wasm');
    expect(info.reason).toContain('@tensorflow/tfjs-node-gpu failed to load (libcudart.so.11 missing)');
    expect(info.reason).toContain('@tensorflow/tfjs-node failed to load (libtensorflow.so missing)');
  });

  it('auto ends at cpu, and throws when even cpu failed', () => {
    expect(chooseBackend(probe('auto', [BackendPackage.cpu])).name).toBe('cpu');
    expect(chooseBackend(probe('auto', ALL, [], { [BackendPackage.node]: 'x', [BackendPackage.wasm]: 'y' })).name).toBe('cpu');
    expectBackendError(
      () => chooseBackend(probe('auto', [BackendPackage.cpu], [], { [BackendPackage.cpu]: 'broken' })),
      /^backend 'auto' is not available here: .*@tensorflow\/tfjs-backend-cpu failed to load \(broken\)$/,
    );
  });

  it("'tensorflow' takes tfjs-node-gpu with a GPU, else tfjs-node", () => {
    expect(chooseBackend(probe('tensorflow', ALL, ['gpu:0'])).package).toBe(BackendPackage.nodeGpu);
    expect(chooseBackend(probe('tensorflow', ALL)).package).toBe(BackendPackage.node);
    expect(chooseBackend(probe('tensorflow', ALL, ['gpu:0'], { [BackendPackage.nodeGpu]: 'no CUDA' })).package).toBe(
      BackendPackage.node,
    );
  });

  it("'tensorflow' never falls back to wasm or cpu: it throws naming each reason", () => {
    expectBackendError(
      () => chooseBackend(probe('tensorflow', [BackendPackage.wasm, BackendPackage.cpu])),
      /^backend 'tensorflow' is not available here: @tensorflow\/tfjs-node-gpu not installed; @tensorflow\/tfjs-node not installed$/,
    );
    expectBackendError(
      () => chooseBackend(probe('tensorflow', ALL, [], { [BackendPackage.node]: 'libtensorflow.so: cannot open' })),
      /no GPU visible; @tensorflow\/tfjs-node failed to load \(libtensorflow.so: cannot open\)$/,
    );
  });

  it("'wasm' and 'cpu' take exactly that backend or throw", () => {
    expect(chooseBackend(probe('wasm', ALL, ['gpu:0']))).toMatchObject({ name: 'wasm', reason: 'wasm requested; chose @tensorflow/tfjs-backend-wasm' });
    expect(chooseBackend(probe('cpu', ALL, ['gpu:0'])).name).toBe('cpu');
    expectBackendError(() => chooseBackend(probe('wasm', [BackendPackage.cpu])), /^backend 'wasm' is not available here: @tensorflow\/tfjs-backend-wasm not installed$/);
  });

  it('rejects an unknown request', () => {
    expectBackendError(() => chooseBackend(probe('gpu' as BackendRequest, ALL)), /^backend: expected one of auto, tensorflow, wasm, cpu, got "gpu"$/);
  });
});

describe('visibleGpuDevices', () => {
  function host(dirs: Record<string, string[]>, env: Record<string, string> = {}): GpuProbeHost {
    return { listDir: (path) => dirs[path] ?? [], env };
  }
  const twoGpus = { '/proc/driver/nvidia/gpus': ['0000:01:00.0', '0000:02:00.0'] };

  it('lists the driver GPUs, numbered from 0', () => {
    expect(visibleGpuDevices(host(twoGpus))).toEqual(['gpu:0', 'gpu:1']);
  });

  it('falls back to /dev/nvidiaN device nodes', () => {
    expect(visibleGpuDevices(host({ '/dev': ['null', 'nvidia0', 'nvidiactl', 'nvidia-uvm', 'nvidia1'] }))).toEqual(['gpu:0', 'gpu:1']);
  });

  it('sees nothing without a driver or device node', () => {
    expect(visibleGpuDevices(host({ '/dev': ['null', 'nvidiactl'] }))).toEqual([]);
  });

  it('honours CUDA_VISIBLE_DEVICES', () => {
    expect(visibleGpuDevices(host(twoGpus, { CUDA_VISIBLE_DEVICES: '' }))).toEqual([]);
    expect(visibleGpuDevices(host(twoGpus, { CUDA_VISIBLE_DEVICES: '-1' }))).toEqual([]);
    expect(visibleGpuDevices(host(twoGpus, { CUDA_VISIBLE_DEVICES: '1' }))).toEqual(['gpu:0']);
    expect(visibleGpuDevices(host(twoGpus, { CUDA_VISIBLE_DEVICES: '0,1,2,3' }))).toEqual(['gpu:0', 'gpu:1']);
    expect(visibleGpuDevices(host(twoGpus, { CUDA_VISIBLE_DEVICES: '1,-1,0' }))).toEqual(['gpu:0']);
  });
});
