import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dtrain, syntheticJob, tempDir, writeJob } from './harness.js';

/** The job's 2,692 parameters travel as three chunk frames (1,024 + 1,024 + 644 elements), 32 header bytes each. */
const FRAMES_BYTES = (elementBytes: number): number => 3 * 32 + 2692 * elementBytes;
/** Bytes of a 16-bit push or version against a float32 one. */
const HALF = FRAMES_BYTES(2) / FRAMES_BYTES(4);

interface Summary {
  state: string;
  steps: number;
  dataPlane: { wire: string; wireWeights: string; gradientBytes: number; weightBytes: number; bytesPerSample: number };
  final: { valAccuracy: number };
  history: { appliedMin: number; appliedMax: number }[];
}

/**
 * cluster.wire end to end: one worker (so each run sees the same batches in
 * the same order and the error-feedback residual is a function of them
 * alone) trains the same job with float32, bfloat16 and float16 gradients,
 * through the shard inside the coordinator (WebSocket frames) and through
 * `dtrain ps` processes (the data link).
 */
describe('gradients on a 16-bit wire (cluster.wire)', () => {
  const tmp = tempDir('wire');
  afterAll(() => tmp.cleanup());

  async function train(wire: string, psShards: number, wireWeights = 'float32'): Promise<{ summary: Summary; weights: string }> {
    const name = `wire-${wire}-${wireWeights}-${psShards}`;
    const config = writeJob(
      tmp.dir,
      syntheticJob('wire', {
        // 2,692 parameters in chunks of 1,024: three chunks, enough for two shards.
        model: { layers: [{ type: 'dense', units: 128, activation: 'relu', inputShape: [16], kernelInitializer: 'heNormal' }, { type: 'dense', units: 4, activation: 'softmax' }] },
        dataset: { numSamples: 2400 },
        training: { epochs: 3 },
        cluster: { chunkBytes: 4096, wire, wireWeights },
      }),
      `${name}.yaml`,
    );
    const out = join(tmp.dir, name);
    const run = dtrain(['train', '--config', config, '--workers', '1', '--ps-shards', String(psShards), '--backend', 'wasm', '--out', out, '--quiet', '--no-report']);
    expect(await run.exited, run.stderr).toEqual({ code: 0, signal: null });
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    const weights = createHash('sha256').update(readFileSync(join(out, 'model', 'weights.bin'))).digest('hex');
    return { summary, weights };
  }

  it('bfloat16 and float16 learn as float32 does, the same bits with or without shard processes, and not float32 bits', async () => {
    const exact = await train('float32', 0);
    const bf16 = await train('bfloat16', 0);
    const bf16Sharded = await train('bfloat16', 2);
    const f16 = await train('float16', 1);
    for (const run of [exact, bf16, bf16Sharded, f16]) {
      expect(run.summary.state).toBe('done');
      expect(run.summary.history.map((h) => [h.appliedMin, h.appliedMax])).toEqual([[1, 1], [1, 1], [1, 1]]);
    }
    expect(exact.summary.final.valAccuracy).toBeGreaterThan(0.8);
    // Half the bytes, within a few points of float32 on this small job (the benchmark measures the gap on MNIST).
    expect(Math.abs(bf16.summary.final.valAccuracy - exact.summary.final.valAccuracy)).toBeLessThan(0.05);
    expect(Math.abs(f16.summary.final.valAccuracy - exact.summary.final.valAccuracy)).toBeLessThan(0.05);
    // The 16-bit gradients were used (else the bits would be float32's) and widened identically on both paths.
    expect(bf16.weights).not.toBe(exact.weights);
    expect(f16.weights).not.toBe(exact.weights);
    expect(bf16Sharded.weights).toBe(bf16.weights);
    // summary.json says what crossed: the same steps, half the gradient bytes (plus the three 32-byte frame headers), the same weights bytes.
    expect(bf16.summary.steps).toBe(exact.summary.steps);
    expect(exact.summary.dataPlane).toMatchObject({ wire: 'float32', wireWeights: 'float32' });
    expect(bf16.summary.dataPlane).toMatchObject({ wire: 'bfloat16', wireWeights: 'float32', gradientBytes: exact.summary.dataPlane.gradientBytes * HALF, weightBytes: exact.summary.dataPlane.weightBytes });
    expect(bf16Sharded.summary.dataPlane.gradientBytes).toBe(bf16.summary.dataPlane.gradientBytes);
    expect(bf16.summary.dataPlane.bytesPerSample).toBeLessThan(exact.summary.dataPlane.bytesPerSample);
  }, 240_000);

  it('16-bit weights too (cluster.wireWeights): learns, and the same bits with or without shard processes', async () => {
    const exact = await train('float32', 0);
    const half = await train('bfloat16', 0, 'bfloat16');
    const halfSharded = await train('bfloat16', 2, 'bfloat16');
    for (const run of [half, halfSharded]) expect(run.summary.state).toBe('done');
    expect(Math.abs(half.summary.final.valAccuracy - exact.summary.final.valAccuracy)).toBeLessThan(0.05);
    expect(halfSharded.weights).toBe(half.weights);
    expect(half.summary.dataPlane).toMatchObject({ wire: 'bfloat16', wireWeights: 'bfloat16', weightBytes: exact.summary.dataPlane.weightBytes * HALF });
    expect(half.summary.dataPlane.bytesPerSample / exact.summary.dataPlane.bytesPerSample).toBeCloseTo(HALF, 6);
    // Workers computed on rounded weights: not the bits of float32 weights with 16-bit gradients.
    expect(half.weights).not.toBe((await train('bfloat16', 0)).weights);
  }, 240_000);

  it('an unknown wire format exits 2 naming cluster.wire', async () => {
    const config = writeJob(tmp.dir, syntheticJob('wire-bad', { cluster: { wire: 'fp8' } }), 'bad.yaml');
    const run = dtrain(['train', '--config', config, '--workers', '1', '--out', join(tmp.dir, 'bad'), '--quiet']);
    const exit = await run.exited;
    expect(exit.code).toBe(2);
    expect(run.stderr).toContain('cluster.wire: expected one of "float32", "bfloat16", "float16", got "fp8"');
  });
});
