import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Checkpoint } from './checkpoint-files.js';
import { checkpointDirName, readLatestCheckpoint, writeCheckpoint } from './checkpoint-store.js';
import { ParameterServerError } from './parameter-server-error.js';
import { ParameterShard } from './parameter-shard.js';
import { commitCollect, pushWhole } from './testing/shard-steps.js';
import { filesIOHandler, flattenModel, useTfjsCpu } from './testing/tfjs-cpu.js';

await useTfjsCpu();

const model = tfl.sequential({
  layers: [
    tfl.layers.dense({ units: 5, inputShape: [3], activation: 'tanh' }),
    tfl.layers.batchNormalization(),
    tfl.layers.dense({ units: 2 }),
  ],
});
const flat = flattenModel(model);

/** A checkpoint of a shard (the whole layout) that took `steps` adam steps on fresh random gradients. */
async function checkpointAt(step: number, steps = 2): Promise<Checkpoint> {
  const range = { start: 0, end: flat.weights.length };
  const ps = new ParameterShard({ layout: flat.layout, range, chunkBytes: 4096, weights: flat.weights, optimizer: { name: 'adam', learningRate: 0.01 } });
  for (let s = 0; s < steps; s++) {
    pushWhole(ps, { workerId: 0, step: s + 1, sampleCount: 8 }, Float32Array.from({ length: ps.size }, () => Math.random() - 0.5));
    await commitCollect(ps, s + 1, [{ workerId: 0, step: s + 1 }]);
  }
  return {
    topology: flat.topology,
    layout: flat.layout,
    weights: ps.weights.slice(),
    version: ps.version,
    optimizer: { config: ps.optimizerConfig, state: ps.optimizerState() },
    training: { epoch: 1, step, seed: 42, cursor: { order: [3, 1, 2], done: [true, false] }, note: 'extra fields survive' },
  };
}

function bits(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function expectSameCheckpoint(actual: Checkpoint | undefined, expected: Checkpoint): void {
  expect(actual).toBeDefined();
  const a = actual as Checkpoint;
  expect(bits(a.weights)).toEqual(bits(expected.weights));
  expect(Object.keys(a.optimizer.state.arrays).sort()).toEqual(Object.keys(expected.optimizer.state.arrays).sort());
  for (const [name, values] of Object.entries(expected.optimizer.state.arrays)) {
    expect(bits(a.optimizer.state.arrays[name] as Float32Array), name).toEqual(bits(values));
  }
  const json = (cp: Checkpoint): unknown =>
    JSON.parse(JSON.stringify({ ...cp, weights: null, optimizer: { ...cp.optimizer, state: { ...cp.optimizer.state, arrays: null } } }));
  expect(json(a)).toEqual(json(expected));
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'dtrain-ps-ckpt-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('checkpoints', () => {
  it('read back exactly what was written', async () => {
    const cp = await checkpointAt(7);
    const dir = await writeCheckpoint(root, cp);
    expect(dir).toBe(join(root, 'ckpt-0000000007'));
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'optimizer.bin', 'optimizer.json', 'training.json', 'weights.bin']);
    expect(await readFile(join(root, 'LATEST'), 'utf8')).toBe('ckpt-0000000007\n');
    expectSameCheckpoint(await readLatestCheckpoint(root), cp);
  });

  it('hold a tfjs model that loads with the checkpoint weights', async () => {
    const cp = await checkpointAt(3);
    const dir = await writeCheckpoint(root, cp);
    const loaded = await tfl.loadLayersModel(
      filesIOHandler(await readFile(join(dir, 'model.json'), 'utf8'), await readFile(join(dir, 'weights.bin'))),
    );
    const values = loaded.weights.map((w) => [...(w.read().dataSync() as Float32Array)]);
    expect(values.flat()).toEqual([...cp.weights]);
    loaded.dispose();
  });

  it('keep the newest K and point LATEST at the newest', async () => {
    const written: Checkpoint[] = [];
    for (const step of [10, 20, 30, 40, 50]) {
      const cp = await checkpointAt(step, 1);
      written.push(cp);
      await writeCheckpoint(root, cp, { keep: 3 });
    }
    expect((await readdir(root)).sort()).toEqual(['LATEST', 'ckpt-0000000030', 'ckpt-0000000040', 'ckpt-0000000050']);
    expectSameCheckpoint(await readLatestCheckpoint(root), written[4] as Checkpoint);
  });

  it('default to keeping 3', async () => {
    for (const step of [1, 2, 3, 4]) await writeCheckpoint(root, await checkpointAt(step, 1));
    expect((await readdir(root)).filter((n) => n.startsWith('ckpt-'))).toHaveLength(3);
  });

  it('survive a crash mid-write: temp and half-written directories are ignored', async () => {
    const good = await checkpointAt(5);
    await writeCheckpoint(root, good);
    // What a crash can leave: a temp dir with some files, and a newer directory missing files.
    const temp = join(root, '.tmp-ckpt-0000000006-abc123');
    await mkdir(temp);
    await writeFile(join(temp, 'model.json'), '{"trunc');
    const half = join(root, checkpointDirName(6));
    await mkdir(half);
    await writeFile(join(half, 'model.json'), '{}');
    expectSameCheckpoint(await readLatestCheckpoint(root), good);

    // Also without LATEST (a crash before the very first pointer write).
    await rm(join(root, 'LATEST'));
    expectSameCheckpoint(await readLatestCheckpoint(root), good);

    // The next write cleans the temp directory up.
    await writeCheckpoint(root, await checkpointAt(7));
    expect(await readdir(root)).not.toContain('.tmp-ckpt-0000000006-abc123');
  });

  it('store the arrays as they were when writeCheckpoint was called', async () => {
    const cp = await checkpointAt(6);
    const expected = { ...cp, weights: cp.weights.slice() };
    const writing = writeCheckpoint(root, cp);
    cp.weights.fill(7); // a commit landing while the files are written
    (cp.optimizer.state.arrays['m'] as Float32Array).fill(7);
    await writing;
    const back = (await readLatestCheckpoint(root)) as Checkpoint;
    expect(bits(back.weights)).toEqual(bits(expected.weights));
    expect((back.optimizer.state.arrays['m'] as Float32Array).every((x) => x === 7)).toBe(false);
  });

  it('rewrite a step that already has a checkpoint', async () => {
    await writeCheckpoint(root, await checkpointAt(8));
    const again = await checkpointAt(8, 3);
    await writeCheckpoint(root, again);
    expectSameCheckpoint(await readLatestCheckpoint(root), again);
    expect((await readdir(root)).sort()).toEqual(['LATEST', 'ckpt-0000000008']);
  });

  it('report no checkpoint for an empty or missing directory', async () => {
    expect(await readLatestCheckpoint(root)).toBeUndefined();
    expect(await readLatestCheckpoint(join(root, 'nope'))).toBeUndefined();
  });

  it('name the file of a corrupt checkpoint', async () => {
    const cp = await checkpointAt(4);
    const dir = await writeCheckpoint(root, cp);
    await truncate(join(dir, 'weights.bin'), 20);
    const error = await readLatestCheckpoint(root).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParameterServerError);
    expect(error).toMatchObject({
      code: 'DTRAIN_PS_CHECKPOINT',
      file: join(dir, 'weights.bin'),
      message: `${join(dir, 'weights.bin')}: 20 bytes, expected ${cp.weights.byteLength} (${cp.weights.length} float32 weights in model.json)`,
    });
  });

  it('name optimizer.bin when it is short', async () => {
    const dir = await writeCheckpoint(root, await checkpointAt(4));
    await truncate(join(dir, 'optimizer.bin'), 8);
    const elements = 2 * flat.weights.length;
    await expect(readLatestCheckpoint(root)).rejects.toMatchObject({
      code: 'DTRAIN_PS_CHECKPOINT',
      message: `${join(dir, 'optimizer.bin')}: 8 bytes, expected ${elements * 4} (the arrays listed in optimizer.json)`,
    });
  });

  it('name a missing file and a garbled LATEST', async () => {
    const dir = await writeCheckpoint(root, await checkpointAt(4));
    await rm(join(dir, 'training.json'));
    await expect(readLatestCheckpoint(root)).rejects.toMatchObject({
      code: 'DTRAIN_PS_CHECKPOINT',
      message: `${join(dir, 'training.json')}: missing`,
    });
    await writeFile(join(root, 'LATEST'), '../../etc\n');
    await expect(readLatestCheckpoint(root)).rejects.toMatchObject({
      code: 'DTRAIN_PS_CHECKPOINT',
      message: `${join(root, 'LATEST')}: expected a checkpoint directory name like ckpt-0000000042, got "../../etc"`,
    });
  });

  it('refuse to write a checkpoint whose state does not fit, leaving nothing behind', async () => {
    const cp = await checkpointAt(2);
    const bad = { ...cp, optimizer: { ...cp.optimizer, state: { ...cp.optimizer.state, arrays: { m: new Float32Array(1) } } } };
    await expect(writeCheckpoint(root, bad)).rejects.toMatchObject({
      code: 'DTRAIN_PS_OPTIMIZER_STATE',
      message: 'adam optimizer state: arrays should be [m, v], got [m]',
    });
    expect(await readdir(root)).toEqual([]);
  });

  it('find a bit flipped after the write (sha256 digests in training.json) and fall back to the previous good checkpoint, saying so', async () => {
    const older = await checkpointAt(3);
    await writeCheckpoint(root, older);
    const newest = await writeCheckpoint(root, await checkpointAt(4));
    const weightsPath = join(newest, 'weights.bin');
    const bytes = await readFile(weightsPath);
    bytes[5] = (bytes[5] ?? 0) ^ 0x10;
    await writeFile(weightsPath, bytes);
    const rejected: [string, string][] = [];
    const back = await readLatestCheckpoint(root, { onRejected: (where, error) => rejected.push([where, error.message]) });
    expectSameCheckpoint(back, older);
    expect(rejected).toEqual([[newest, `${weightsPath}: its sha256 differs from the one training.json recorded: the file changed after it was written`]]);
  });

  it('fall back past a hand-edited training.json and a truncated optimizer.bin; with nothing good left, throw the newest one\'s error', async () => {
    const first = await writeCheckpoint(root, await checkpointAt(2));
    const second = await writeCheckpoint(root, await checkpointAt(3));
    const third = await writeCheckpoint(root, await checkpointAt(4));
    const trainingPath = join(third, 'training.json');
    const edited = JSON.parse(await readFile(trainingPath, 'utf8')) as { training: { step: unknown } };
    edited.training.step = 'four';
    await writeFile(trainingPath, JSON.stringify(edited));
    await truncate(join(second, 'optimizer.bin'), 8);
    const rejected: string[] = [];
    const back = (await readLatestCheckpoint(root, { onRejected: (where) => rejected.push(where) })) as Checkpoint;
    expect(back.training.step).toBe(2);
    expect(rejected).toEqual([third, second]);
    await truncate(join(first, 'weights.bin'), 4);
    await expect(readLatestCheckpoint(root)).rejects.toMatchObject({ code: 'DTRAIN_PS_CHECKPOINT', message: `${trainingPath}: training needs integer epoch and step` });
  });
});
