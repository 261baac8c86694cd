import { decodeMessage } from '@dtrain/protocol';
import type { WeightEntry } from '@dtrain/protocol';
import { describe, expect, it } from 'vitest';
import { ParameterServerError } from './parameter-server-error.js';
import { ParameterServer } from './parameter-server.js';
import type { GradientPush } from './parameter-server.js';

/** A dense layer and a batch-norm moving mean (non-trainable, pushed as values). */
const layout: readonly WeightEntry[] = [
  { name: 'dense/kernel', shape: [2, 2], offset: 0, size: 4, trainable: true },
  { name: 'bn/moving_mean', shape: [2], offset: 4, size: 2, trainable: false },
  { name: 'dense/bias', shape: [2], offset: 6, size: 2, trainable: true },
];
const initial = Float32Array.of(1, 2, 3, 4, 0, 0, 0.5, -0.5);

function server(version = 0): ParameterServer {
  return new ParameterServer({ layout, weights: initial, optimizer: { name: 'sgd', learningRate: 0.5 }, version });
}

function push(overrides: Partial<GradientPush> & Pick<GradientPush, 'gradients'>): GradientPush {
  return { workerId: 0, step: 1, version: 0, batchId: 0, sampleCount: 1, loss: 1, ...overrides };
}

describe('ParameterServer', () => {
  it('applies the sample-weighted mean gradient once and averages state slots', () => {
    const ps = server();
    // Worker 0: 3 samples, worker 1: 1 sample.
    const g0 = Float32Array.of(1, 2, 3, 4, /* state */ 10, 20, /* bias */ 1, -1);
    const g1 = Float32Array.of(5, -2, -1, 0, /* state */ 30, 60, /* bias */ -3, 3);
    expect(ps.push(push({ workerId: 0, batchId: 7, sampleCount: 3, loss: 2, gradients: g0 }))).toBe('accepted');
    expect(ps.push(push({ workerId: 1, batchId: 8, sampleCount: 1, loss: 6, gradients: g1 }))).toBe('accepted');
    expect(ps.pendingPushes).toBe(2);
    expect(ps.pendingSampleCount).toBe(4);

    const result = ps.commit();
    expect(result).toEqual({ version: 1, sampleCount: 4, loss: (3 * 2 + 6) / 4, batchIds: [7, 8], workerIds: [0, 1] });
    // By hand: mean = (3·g0 + g1)/4 = [2, 1, 2, 3 | 15, 30 | 0, 0]; sgd lr 0.5: w − 0.5·mean.
    expect([...ps.weights]).toEqual([1 - 1, 2 - 0.5, 3 - 1, 4 - 1.5, 15, 30, 0.5, -0.5]);
    expect(ps.version).toBe(1);
    expect(ps.pendingPushes).toBe(0);
  });

  it('commit without pushes returns undefined and changes nothing', () => {
    const ps = server(5);
    expect(ps.commit()).toBeUndefined();
    expect(ps.version).toBe(5);
    expect([...ps.weights]).toEqual([...initial]);
  });

  it('the sum starts fresh each step', () => {
    const ps = server();
    const g = Float32Array.of(1, 1, 1, 1, 4, 4, 1, 1);
    ps.push(push({ gradients: g }));
    ps.commit();
    ps.push(push({ step: 2, version: 1, gradients: g }));
    ps.commit();
    expect([...ps.weights]).toEqual([0, 1, 2, 3, 4, 4, -0.5, -1.5]);
  });

  it('ignores a duplicate (workerId, step), pending or already committed', () => {
    const ps = server();
    const g = Float32Array.of(1, 1, 1, 1, 2, 2, 1, 1);
    expect(ps.push(push({ gradients: g }))).toBe('accepted');
    expect(ps.push(push({ gradients: Float32Array.of(9, 9, 9, 9, 9, 9, 9, 9) }))).toBe('duplicate');
    const result = ps.commit();
    expect(result).toMatchObject({ sampleCount: 1, workerIds: [0] });
    expect([...ps.weights]).toEqual([0.5, 1.5, 2.5, 3.5, 2, 2, 0, -1]);
    // A replay after the commit is still a duplicate (not stale): its batch was applied.
    expect(ps.push(push({ gradients: g }))).toBe('duplicate');
    expect(ps.rejectedCounts()).toEqual({ duplicate: 2, stale: 0, 'non-finite': 0, malformed: 0 });
  });

  it('rejects and counts stale pushes', () => {
    const ps = server(3);
    const g = new Float32Array(8).fill(1);
    expect(ps.push(push({ version: 2, gradients: g }))).toBe('stale');
    expect(ps.push(push({ workerId: 1, version: 4, gradients: g }))).toBe('stale');
    expect(ps.commit()).toBeUndefined();
    expect(ps.rejectedCounts()).toEqual({ duplicate: 0, stale: 2, 'non-finite': 0, malformed: 0 });
  });

  it('rejects NaN and ±Inf without poisoning the sum', () => {
    const ps = server();
    const bad = [NaN, Infinity, -Infinity].map((x) => {
      const g = new Float32Array(8).fill(100);
      g[5] = x;
      return g;
    });
    bad.forEach((gradients, workerId) => {
      expect(ps.push(push({ workerId: workerId + 1, gradients }))).toBe('non-finite');
    });
    expect(ps.push(push({ workerId: 9, loss: NaN, gradients: new Float32Array(8) }))).toBe('non-finite');
    expect(ps.push(push({ gradients: Float32Array.of(2, 2, 2, 2, 8, 8, 2, 2) }))).toBe('accepted');
    ps.commit();
    expect([...ps.weights]).toEqual([0, 1, 2, 3, 8, 8, -0.5, -1.5]);
    expect(ps.rejectedCounts()).toEqual({ duplicate: 0, stale: 0, 'non-finite': 4, malformed: 0 });
  });

  it('rejects malformed pushes: wrong length, bad sample count, bad ids', () => {
    const ps = server();
    const ok = new Float32Array(8);
    const malformed: GradientPush[] = [
      push({ gradients: new Float32Array(7) }),
      push({ gradients: new Float32Array(9) }),
      push({ gradients: Array.from(ok) as unknown as Float32Array }),
      push({ sampleCount: 0, gradients: ok }),
      push({ sampleCount: 2.5, gradients: ok }),
      push({ sampleCount: -1, gradients: ok }),
      push({ workerId: -1, gradients: ok }),
      push({ step: NaN, gradients: ok }),
    ];
    for (const p of malformed) expect(ps.push(p)).toBe('malformed');
    expect(ps.rejectedCounts()).toEqual({ duplicate: 0, stale: 0, 'non-finite': 0, malformed: 8 });
    expect(ps.commit()).toBeUndefined();
  });

  it('abortStep drops pending pushes; the same step may be pushed again', () => {
    const ps = server();
    ps.push(push({ gradients: new Float32Array(8).fill(50) }));
    ps.abortStep();
    expect(ps.commit()).toBeUndefined();
    expect(ps.push(push({ gradients: Float32Array.of(2, 2, 2, 2, 1, 1, 2, 2) }))).toBe('accepted');
    expect(ps.commit()).toMatchObject({ version: 1, sampleCount: 1 });
    expect([...ps.weights]).toEqual([0, 1, 2, 3, 1, 1, -0.5, -1.5]);
  });

  it('encodes the weights once per version and the bytes decode back', () => {
    const ps = server();
    const first = ps.encodedWeights(1);
    expect(ps.encodedWeights(1)).toBe(first);
    const decoded = decodeMessage(first);
    expect(decoded).toMatchObject({ type: 'weights', version: 0, step: 1 });
    expect([...(decoded as { weights: Float32Array }).weights]).toEqual([...initial]);

    ps.push(push({ gradients: new Float32Array(8).fill(2) }));
    ps.commit();
    const second = ps.encodedWeights(2);
    expect(second).not.toBe(first);
    expect(ps.encodedWeights(2)).toBe(second);
    const after = decodeMessage(second) as { version: number; weights: Float32Array };
    expect(after.version).toBe(1);
    expect([...after.weights]).toEqual([...ps.weights]);
    // The first frame still holds version 0: the server's later steps don't write into sent bytes.
    expect([...(decodeMessage(first) as { weights: Float32Array }).weights]).toEqual([...initial]);
  });

  it('snapshot copies weights and optimizer state; a server restored from it continues identically', () => {
    const config = { name: 'adam', learningRate: 0.1 } as const;
    const a = new ParameterServer({ layout, weights: initial, optimizer: config });
    const g = (k: number): Float32Array => Float32Array.from({ length: 8 }, (_, i) => Math.sin(i + k));
    a.push(push({ step: 1, version: 0, gradients: g(1) }));
    a.commit();
    const snap = a.snapshot();
    const b = new ParameterServer({
      layout,
      weights: snap.weights,
      optimizer: snap.optimizer.config,
      optimizerState: snap.optimizer.state,
      version: snap.version,
    });
    for (const ps of [a, b]) {
      ps.push(push({ step: 2, version: 1, gradients: g(2) }));
      ps.commit();
    }
    expect(b.version).toBe(2);
    expect([...b.weights]).toEqual([...a.weights]);
    expect(a.optimizerState()).toEqual(b.optimizerState());
    expect(a.optimizerState().iterations).toBe(2);
    expect([...snap.weights]).not.toEqual([...a.weights]);
  });

  it('setLearningRate changes the next steps', () => {
    const ps = server();
    ps.setLearningRate(0.25);
    expect(ps.learningRate).toBe(0.25);
    ps.push(push({ gradients: new Float32Array(8).fill(4) }));
    ps.commit();
    expect([...ps.weights.subarray(0, 4)]).toEqual([0, 1, 2, 3]);
  });

  it('rejects weights that do not fit the layout', () => {
    let error: unknown;
    try {
      new ParameterServer({ layout, weights: new Float32Array(7), optimizer: { name: 'sgd', learningRate: 1 } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ParameterServerError);
    expect(error).toMatchObject({
      code: 'DTRAIN_PS_LAYOUT',
      message: 'weights has 7 elements but the layout describes 8',
    });
  });

  it('rejects an inconsistent layout naming the entry', () => {
    const gap = [layout[0], { ...layout[1], offset: 5 }, layout[2]] as WeightEntry[];
    expect(() => new ParameterServer({ layout: gap, weights: initial, optimizer: { name: 'sgd', learningRate: 1 } })).toThrow(
      expect.objectContaining({
        code: 'DTRAIN_PS_LAYOUT',
        message: 'layout[1] ("bn/moving_mean"): offset 5 should be 4 (entries are back to back in layout order)',
      }),
    );
  });
});
