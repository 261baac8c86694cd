import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '@dtrain/metrics';
import { ParameterShard, type OptimizerConfig, type OptimizerState } from '@dtrain/parameter-server';
import { PROTOCOL_VERSION, SlotCollector, decodeChunk, encodeChunk, recordLength, type Message, type ShardPushMessage, type WeightEntry } from '@dtrain/protocol';
import { ShardProcess, type ShardLogger, type ShardProcessOptions } from './shard-process.js';
import { FakeCoordinator, FakeWorker, WAIT_MS, upgradeStatus, weightsOf, within, type CoordinatorLink } from './shard-peers.testkit.js';

/**
 * The shard process over real sockets: the test plays the coordinator (a
 * WebSocket server the shard dials) and the workers (clients of the shard's
 * data link), speaking the protocol byte for byte.
 *
 * One trainable entry of 2048 float32 in 4096-byte chunks: the shard owns
 * all of it, as two chunks of 1024 elements.
 */
const SIZE = 2048;
const CHUNK_BYTES = 4096;
const CHUNK = CHUNK_BYTES / 4;
const LAYOUT: readonly WeightEntry[] = [{ name: 'dense/kernel', shape: [32, 64], offset: 0, size: SIZE, trainable: true }];
/** The version the coordinator sets the shard up at (anything but 0, so a default cannot pass for it). */
const VERSION = 3;
const SGD: OptimizerConfig = { name: 'sgd', learningRate: 0.5 };
/** A weightsChunk frame on the wire: 32 bytes of prefix and header, then the payload. */
const WEIGHTS_FRAME_BYTES = 32 + CHUNK_BYTES;

const f32 = Math.fround;

/** Fresh float32 values in [-1, 1): the properties below hold for any input. */
function randomValues(n: number): Float32Array {
  return Float32Array.from({ length: n }, () => f32(Math.random() * 2 - 1));
}

interface Push {
  readonly worker: FakeWorker;
  readonly gradient: Float32Array;
  readonly sampleCount: number;
}

/**
 * What one SGD step must give, computed here independently: the
 * sample-weighted sum in float64 (two terms, so arrival order cannot
 * matter), the mean rounded to float32, then w ← f32(f32(−lr·g) + w) as tfjs.
 */
function sgdStep(weights: Float32Array, pushes: readonly Push[], learningRate: number): Float32Array {
  const samples = pushes.reduce((n, p) => n + p.sampleCount, 0);
  const negLr = f32(-learningRate);
  return weights.map((w, i) => {
    let sum = 0;
    for (const p of pushes) sum += p.sampleCount * (p.gradient[i] as number);
    return f32(f32(negLr * f32(sum / samples)) + w);
  });
}

/** Bit-for-bit equality, failing on the first element that differs. */
function expectSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  const at = a.findIndex((bits, i) => bits !== b[i]);
  expect(at, at < 0 ? what : `${what}: element ${at} is ${actual[at]}, expected ${expected[at]}`).toBe(-1);
}

/** Every gradient chunk of a push, in range order. */
function pushAll(p: Push, step = 0, version = VERSION): void {
  for (let offset = 0; offset < SIZE; offset += CHUNK) {
    p.worker.push({ step, version, sampleCount: p.sampleCount, offset, values: p.gradient.subarray(offset, offset + CHUNK) });
  }
}

/** The next `count` shardPush notices, by worker (one per worker: a second notice for a worker fails). */
async function pushNotices(link: CoordinatorLink, count: number): Promise<Map<number, ShardPushMessage>> {
  const notices = new Map<number, ShardPushMessage>();
  for (let i = 0; i < count; i += 1) {
    const notice = await link.next('shardPush');
    expect(notices.has(notice.workerId), `a second shardPush for worker ${notice.workerId}`).toBe(false);
    notices.set(notice.workerId, notice);
  }
  return notices;
}

/** The next whole version a worker receives: its chunks' version, step and weights. */
async function nextVersion(worker: FakeWorker): Promise<{ version: number; step: number; weights: Float32Array }> {
  const chunks = await worker.nextWeights(SIZE / CHUNK);
  const versions = new Set(chunks.map((c) => c.version));
  const steps = new Set(chunks.map((c) => c.step));
  expect(versions.size, `worker ${worker.workerId} got chunks of versions ${[...versions].join(', ')} as one version`).toBe(1);
  expect(steps.size).toBe(1);
  return { version: chunks[0]?.version ?? -1, step: chunks[0]?.step ?? -1, weights: weightsOf(chunks, 0, SIZE) };
}

/** Prepare and apply one step including `workers`; each must receive the new version. */
async function commitStep(link: CoordinatorLink, step: number, included: readonly FakeWorker[], learningRate: number) {
  link.send({ type: 'shardPrepare', step, included: included.map((w) => w.workerId), learningRate });
  expect(await link.next('shardPrepared')).toEqual({ type: 'shardPrepared', step, ok: true, reason: '' });
  link.send({ type: 'shardDecide', step, apply: true });
  const received = await Promise.all(included.map((w) => nextVersion(w)));
  const applied = await link.next('shardApplied');
  return { received, applied };
}

async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const res = await within(WAIT_MS, `GET ${url}`, fetch(url));
  return { status: res.status, body: await res.text() };
}

/** The sample of one series in a Prometheus text body, matched by its exact series text. */
function metric(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('ShardProcess over real sockets', () => {
  let coordinator: FakeCoordinator | undefined;
  let shard: ShardProcess | undefined;
  const workers: FakeWorker[] = [];
  /** The shard's log lines, for a failure to quote. */
  const logs: string[] = [];
  const log: ShardLogger = {
    info: (m) => logs.push(`info ${m}`),
    warn: (m) => logs.push(`warn ${m}`),
    error: (m) => logs.push(`error ${m}`),
  };

  afterEach(async () => {
    for (const w of workers.splice(0)) w.close();
    shard?.stop('test over');
    await shard?.exited;
    await coordinator?.close();
    shard = undefined;
    coordinator = undefined;
    logs.length = 0;
  });

  /** A coordinator, and a shard that dialled it: its control link, the URL it advertises, and where to reach it from here (data link and HTTP). */
  async function startShard(options: Partial<Pick<ShardProcessOptions, 'reconnectTimeoutMs' | 'linger'>> = {}) {
    const c = (coordinator = await FakeCoordinator.start());
    shard = new ShardProcess({
      coordinator: c.url,
      token: 't',
      index: 0,
      host: '127.0.0.1',
      port: 0,
      reconnectTimeoutMs: 5_000,
      log,
      registry: createMetricsRegistry({ defaultMetrics: false }),
      ...options,
    });
    const advertised = await shard.start();
    // The advertised host is this machine's name; the shard listens on 127.0.0.1 only.
    const port = new URL(advertised).port;
    const link = await c.nextLink();
    return { coordinator: c, shard, link, advertised, url: `http://127.0.0.1:${port}` };
  }

  async function worker(url: string, workerId: number, options: { token?: string } = {}): Promise<FakeWorker> {
    const w = await FakeWorker.connect(url, { workerId, ...options });
    workers.push(w);
    return w;
  }

  /** The shard closes `w`'s link (the test never closes it first). */
  async function expectClosedByShard(w: FakeWorker): Promise<void> {
    await within(WAIT_MS, `worker ${w.workerId}'s link closing`, w.closed);
  }

  /** The coordinator's setup of the whole range at VERSION (generation 1 unless told). */
  async function setUp(link: CoordinatorLink, weights: Float32Array, optimizer: OptimizerConfig = SGD, generation = 1): Promise<void> {
    link.setup({ generation, layout: LAYOUT, start: 0, end: SIZE, chunkBytes: CHUNK_BYTES, optimizer: { ...optimizer }, version: VERSION }, weights);
    expect(await link.next('shardReady')).toEqual({ type: 'shardReady', generation, version: VERSION });
  }

  it('says shardHello, is set up from shardSetup + shardState + shardSetupDone, turns ready, and streams the weights to a worker', async () => {
    const { link, advertised, url } = await startShard();
    expect(link.hello).toMatchObject({ type: 'shardHello', protocolVersion: PROTOCOL_VERSION, token: 't', index: 0, url: advertised });
    expect(link.authorization).toBe('Bearer t');
    expect((await httpGet(`${url}/readyz`)).status).toBe(503);
    expect((await httpGet(`${url}/healthz`)).status).toBe(200);

    // A ping is answered at once, set up or not.
    link.send({ type: 'heartbeat', kind: 'ping', sentAt: 1 });
    expect(await link.next('heartbeat')).toMatchObject({ type: 'heartbeat', kind: 'pong' });

    const w0 = randomValues(SIZE);
    await setUp(link, w0);
    expect((await httpGet(`${url}/readyz`)).status).toBe(200);

    const w = await worker(url, 1);
    const chunks = await w.nextWeights(2);
    expect(chunks.map(({ kind, workerId, version, sampleCount, offset, count }) => ({ kind, workerId, version, sampleCount, offset, count }))).toEqual([
      { kind: 'weightsChunk', workerId: 0, version: VERSION, sampleCount: 0, offset: 0, count: CHUNK },
      { kind: 'weightsChunk', workerId: 0, version: VERSION, sampleCount: 0, offset: CHUNK, count: CHUNK },
    ]);
    expectSameBits(weightsOf(chunks, 0, SIZE), w0, 'the weights a worker receives after setup');
    expect(link.pending, 'messages from the shard nobody asked for').toBe(0);
  });

  it('sums two workers\' pushes, tells the coordinator of each once, and applies the sample-weighted mean on prepare + apply', async () => {
    const { link, url } = await startShard();
    // One worker says hello before the setup (it is sent the weights when they exist), one after.
    const early = await worker(url, 1);
    const w0 = randomValues(SIZE);
    await setUp(link, w0);
    const late = await worker(url, 2);
    for (const w of [early, late]) {
      const got = await nextVersion(w);
      expect(got.version).toBe(VERSION);
      expectSameBits(got.weights, w0, `worker ${w.workerId}'s weights at version ${VERSION}`);
    }

    const pushes: Push[] = [
      { worker: early, gradient: randomValues(SIZE), sampleCount: 2 },
      { worker: late, gradient: randomValues(SIZE), sampleCount: 6 },
    ];
    for (const p of pushes) pushAll(p);
    const notices = await pushNotices(link, 2);
    expect(notices.get(1)).toEqual({ type: 'shardPush', step: 0, workerId: 1, sampleCount: 2, nonFinite: false });
    expect(notices.get(2)).toEqual({ type: 'shardPush', step: 0, workerId: 2, sampleCount: 6, nonFinite: false });

    const { received, applied } = await commitStep(link, 0, [early, late], 0.5);
    const expected = sgdStep(w0, pushes, 0.5);
    for (const [i, got] of received.entries()) {
      expect(got.version).toBe(VERSION + 1);
      expect(got.step).toBe(0);
      expectSameBits(got.weights, expected, `worker ${i + 1}'s weights at version ${VERSION + 1}`);
    }
    expect(applied).toMatchObject({
      type: 'shardApplied',
      step: 0,
      version: VERSION + 1,
      sampleCount: 8,
      bytesIn: 2 * (SIZE / CHUNK) * WEIGHTS_FRAME_BYTES,
      bytesOut: 2 * (SIZE / CHUNK) * WEIGHTS_FRAME_BYTES,
    });
    expect(applied.applySeconds).toBeGreaterThanOrEqual(0);
    expect(link.pending, 'messages from the shard nobody asked for').toBe(0);
  });

  it('refuses to prepare a step while a push it leaves out is in the sum, drops that sum on abort, and runs the step again', async () => {
    const { link, url } = await startShard();
    const w0 = randomValues(SIZE);
    await setUp(link, w0);
    const [a, b, dying] = [await worker(url, 1), await worker(url, 2), await worker(url, 3)];
    for (const w of [a, b, dying]) expect((await nextVersion(w)).version).toBe(VERSION);

    pushAll({ worker: a, gradient: randomValues(SIZE), sampleCount: 4 });
    pushAll({ worker: b, gradient: randomValues(SIZE), sampleCount: 4 });
    // Worker 3 sends one of its two chunks, then a frame the shard rejects:
    // frames of one connection are handled in order, so the error reply says
    // the chunk before it is in the sum (a worker that died mid-push).
    dying.push({ step: 0, version: VERSION, sampleCount: 4, offset: 0, values: randomValues(CHUNK) });
    dying.push({ workerId: 99, step: 0, version: VERSION, sampleCount: 4, offset: CHUNK, values: randomValues(CHUNK) });
    expect((await dying.nextError()).code).toBe('DTRAIN_PROTOCOL_MALFORMED');
    expect([...(await pushNotices(link, 2)).keys()].sort()).toEqual([1, 2]);

    link.send({ type: 'shardPrepare', step: 0, included: [1, 2], learningRate: 0.5 });
    const refused = await link.next('shardPrepared');
    expect(refused).toMatchObject({ type: 'shardPrepared', step: 0, ok: false });
    expect(refused.reason).toMatch(/\bworker 3\b/);
    link.send({ type: 'shardDecide', step: 0, apply: false });

    // The step runs again under the same number and version. The next frames
    // the workers see are its result: the abort sent nothing, and neither the
    // refused sums nor worker 3's chunk are in it.
    const again: Push[] = [
      { worker: a, gradient: randomValues(SIZE), sampleCount: 3 },
      { worker: b, gradient: randomValues(SIZE), sampleCount: 5 },
    ];
    for (const p of again) pushAll(p);
    expect([...(await pushNotices(link, 2)).keys()].sort()).toEqual([1, 2]);
    // At another learning rate: each step's shardPrepare sets the one it applies with.
    const { received, applied } = await commitStep(link, 0, [a, b], 0.25);
    const expected = sgdStep(w0, again, 0.25);
    for (const got of received) {
      expect(got.version).toBe(VERSION + 1);
      expectSameBits(got.weights, expected, 'weights after the step that ran again');
    }
    expect(applied).toMatchObject({ step: 0, version: VERSION + 1, sampleCount: 8, bytesIn: 2 * (SIZE / CHUNK) * WEIGHTS_FRAME_BYTES });
  });

  it('closes only the connection of a worker that sends bad input, with an error first; another worker keeps pushing', async () => {
    const { link, url } = await startShard();
    const w0 = randomValues(SIZE);
    await setUp(link, w0);
    const good = await worker(url, 1);
    expect((await nextVersion(good)).version).toBe(VERSION);
    const gradient = randomValues(SIZE);
    good.push({ step: 0, version: VERSION, sampleCount: 7, offset: 0, values: gradient.subarray(0, CHUNK) });

    /** A fresh worker that sends `bad` once it has the weights: it must get `error` {code, message}, then its connection closes. */
    const rejects = async (workerId: number, bad: (w: FakeWorker) => void, message: string, code = 'DTRAIN_PROTOCOL_MALFORMED') => {
      const w = await worker(url, workerId);
      expect((await nextVersion(w)).version).toBe(VERSION);
      bad(w);
      const error = await w.nextError();
      expect(error.code).toBe(code);
      expect(error.message).toContain(message);
      await expectClosedByShard(w);
    };
    await rejects(5, (w) => w.push({ workerId: 6, step: 0, version: VERSION, sampleCount: 1, offset: 0, values: randomValues(CHUNK) }), "gradientChunk.workerId: 6 is not this connection's worker 5");
    await rejects(6, (w) => w.push({ step: 0, version: VERSION, sampleCount: 1, offset: 7, values: randomValues(CHUNK) }), 'offset 7 with 1024 elements is not a chunk');
    await rejects(7, (w) => w.sendFrame(encodeChunk({ kind: 'weightsChunk', workerId: 0, step: 0, version: VERSION, sampleCount: 0, offset: 0 }, randomValues(CHUNK))), 'may not send weightsChunk');
    await rejects(8, (w) => w.send({ type: 'pushReport', workerId: 8, step: 0, version: VERSION, batchId: 0, sampleCount: 1, loss: 1, computeSeconds: 0, finite: true }), 'may not send pushReport');
    // A record too short to hold a frame.
    await rejects(10, (w) => w.sendBytes(Uint8Array.of(3, 0, 0, 0, 1, 2, 3)), 'a record of 3 bytes', 'DTRAIN_PROTOCOL_TRUNCATED');

    // The wrong token in dataHello: refused before any weights are sent.
    const impostor = await worker(url, 9, { token: 'not-t' });
    const error = await impostor.nextError();
    expect(error).toEqual({ type: 'error', code: 'DTRAIN_PROTOCOL_MALFORMED', message: 'dataHello.token: wrong token' });
    await expectClosedByShard(impostor);
    expect(impostor.weights.size, 'weight chunks sent to a worker with the wrong token').toBe(0);

    // The upgrade itself wants the token.
    expect(await upgradeStatus(url, {})).toBe(401);
    expect(await upgradeStatus(url, { authorization: 'Bearer not-t' })).toBe(401);
    expect(await upgradeStatus(url, { authorization: 't' })).toBe(401);
    expect(await upgradeStatus(url, { authorization: 'Bearer t' })).toBe(101);

    good.push({ step: 0, version: VERSION, sampleCount: 7, offset: CHUNK, values: gradient.subarray(CHUNK) });
    expect(await link.next('shardPush')).toEqual({ type: 'shardPush', step: 0, workerId: 1, sampleCount: 7, nonFinite: false });
    // None of the rejected frames reached the sum: the step with the good worker alone applies its gradient alone.
    const { received } = await commitStep(link, 0, [good], 0.5);
    expectSameBits(received[0]?.weights ?? new Float32Array(0), sgdStep(w0, [{ worker: good, gradient, sampleCount: 7 }], 0.5), 'weights after the good worker\'s step');
    expect(good.messages.size, 'control messages sent to the good worker').toBe(0);
  });

  it('takes nothing more from a worker once it has rejected one of its frames', async () => {
    // A peer that sent one bad frame is not trusted with the next: the
    // frames behind a rejected one, even in the same read, are dropped. The
    // bad worker's whole push that follows its bad chunk must neither be
    // summed nor announced to the coordinator.
    const { link, url } = await startShard();
    const w0 = randomValues(SIZE);
    await setUp(link, w0);
    const good = await worker(url, 1);
    const bad = await worker(url, 5);
    for (const w of [good, bad]) expect((await nextVersion(w)).version).toBe(VERSION);

    // One write: a chunk at an offset that is no chunk's, then a whole push.
    const frames = [7, 0, CHUNK].map((offset) => encodeChunk({ kind: 'gradientChunk', workerId: 5, step: 0, version: VERSION, sampleCount: 1, offset }, randomValues(CHUNK)));
    bad.sendBytes(Buffer.concat(frames.flatMap((frame) => [recordLength(frame.byteLength), frame])));
    expect((await bad.nextError()).message).toContain('offset 7');
    await expectClosedByShard(bad);

    const gradient = randomValues(SIZE);
    pushAll({ worker: good, gradient, sampleCount: 2 });
    const notice = await link.next('shardPush');
    expect(notice.workerId, 'the first shardPush after the bad frame must be the good worker\'s, not the rejected worker\'s').toBe(1);
    link.send({ type: 'shardPrepare', step: 0, included: [1], learningRate: 0.5 });
    expect(await link.next('shardPrepared'), 'nothing of the rejected worker may be in the sum').toEqual({ type: 'shardPrepared', step: 0, ok: true, reason: '' });
  });

  describe.each<OptimizerConfig>([
    { name: 'momentum', learningRate: 0.5, momentum: 0.9 },
    { name: 'adam', learningRate: 0.01 },
  ])('snapshots with $name', (optimizer) => {
    /** The snapshot's frames until its shardSnapshotDone: slots in order, collected. */
    async function takeSnapshot(link: CoordinatorLink, id: number, withOptimizer: boolean) {
      link.send({ type: 'shardSnapshot', id, optimizer: withOptimizer });
      const collector = new SlotCollector(id, 'any', SIZE);
      const order: string[] = [];
      for (;;) {
        const message: Message = await link.nextAny(`shardState or shardSnapshotDone of snapshot ${id}`);
        if (message.type === 'shardSnapshotDone') return { done: message, order, arrays: collector.take() };
        if (message.type !== 'shardState') throw new Error(`snapshot ${id}: unexpected ${message.type}`);
        order.push(`${message.slot}@${message.offset}`);
        collector.add(message);
      }
    }

    it('sends the weights and every optimizer array as shardState, then shardSnapshotDone; a setup from it continues bit for bit', async () => {
      const { link, url } = await startShard();
      const w0 = randomValues(SIZE);
      await setUp(link, w0, optimizer);
      const [a, b] = [await worker(url, 1), await worker(url, 2)];
      for (const w of [a, b]) await nextVersion(w);

      // The same steps in-process: what the shard process must match (two
      // pushes make a float64 sum that is the same in either arrival order).
      const reference = new ParameterShard({ layout: LAYOUT, range: { start: 0, end: SIZE }, chunkBytes: CHUNK_BYTES, weights: w0, optimizer, version: VERSION });
      const runStep = async (step: number, version: number) => {
        const pushes: Push[] = [
          { worker: a, gradient: randomValues(SIZE), sampleCount: 2 },
          { worker: b, gradient: randomValues(SIZE), sampleCount: 6 },
        ];
        for (const p of pushes) {
          pushAll(p, step, version);
          for (let offset = 0; offset < SIZE; offset += CHUNK) {
            const frame = encodeChunk({ kind: 'gradientChunk', workerId: p.worker.workerId, step, version, sampleCount: p.sampleCount, offset }, p.gradient.subarray(offset, offset + CHUNK));
            expect(reference.acceptChunk(decodeChunk(frame))).toBe('accepted');
          }
        }
        await pushNotices(link, 2);
        const outcome = await reference.commit(step, [{ workerId: 1, step }, { workerId: 2, step }], () => undefined);
        expect(outcome).toEqual({ committed: true, version: version + 1, sampleCount: 8 });
        return commitStep(link, step, [a, b], optimizer.learningRate);
      };

      const { received } = await runStep(0, VERSION);
      expectSameBits(received[0]?.weights ?? new Float32Array(0), reference.weights, `${optimizer.name}: weights after step 0`);

      const expectedState: OptimizerState = reference.optimizerState();
      const names = Object.keys(expectedState.arrays).sort();
      expect(names.length, `${optimizer.name} keeps per-element state`).toBeGreaterThan(0);

      const full = await takeSnapshot(link, 9, true);
      expect(full.order).toEqual(['weights', ...names].flatMap((slot) => [`${slot}@0`, `${slot}@${CHUNK}`]));
      expect(full.done).toEqual({
        type: 'shardSnapshotDone',
        id: 9,
        version: VERSION + 1,
        optimizerState: { name: expectedState.name, iterations: expectedState.iterations, learningRate: expectedState.learningRate, scalars: expectedState.scalars, arrays: names },
      });
      expectSameBits(full.arrays.get('weights') ?? new Float32Array(0), received[0]?.weights ?? new Float32Array(0), 'snapshot weights vs the weights the workers received');
      for (const name of names) expectSameBits(full.arrays.get(name) ?? new Float32Array(0), expectedState.arrays[name] as Float32Array, `snapshot ${name}`);

      const weightsOnly = await takeSnapshot(link, 10, false);
      expect(weightsOnly.order).toEqual(['weights@0', `weights@${CHUNK}`]);
      expect(weightsOnly.done).toEqual({ type: 'shardSnapshotDone', id: 10, version: VERSION + 1 });

      // Set up again from the snapshot (as after a restart): the workers get
      // its weights, and the next step matches the in-process shard exactly.
      const header = full.done.optimizerState;
      if (header === undefined) throw new Error('the snapshot has no optimizer state');
      link.setup(
        { generation: 2, layout: LAYOUT, start: 0, end: SIZE, chunkBytes: CHUNK_BYTES, optimizer: { ...optimizer }, version: VERSION + 1, optimizerState: header },
        full.arrays.get('weights') ?? new Float32Array(0),
        Object.fromEntries(full.arrays),
      );
      expect(await link.next('shardReady')).toEqual({ type: 'shardReady', generation: 2, version: VERSION + 1 });
      for (const w of [a, b]) {
        const got = await nextVersion(w);
        expect(got.version).toBe(VERSION + 1);
        expectSameBits(got.weights, reference.weights, `worker ${w.workerId}'s weights after the second setup`);
      }
      const next = await runStep(1, VERSION + 1);
      expect(next.applied).toMatchObject({ step: 1, version: VERSION + 2 });
      expectSameBits(next.received[0]?.weights ?? new Float32Array(0), reference.weights, `${optimizer.name}: weights after a step from the restored state`);
    });
  });

  it('dials the coordinator again when it goes away (1001), and exits 0 when the job is finished (4002)', async () => {
    const { coordinator: c, shard: s, link, advertised } = await startShard();
    link.close(1001, 'coordinator stopping');
    const again = await c.nextLink();
    expect(again.hello).toMatchObject({ type: 'shardHello', index: 0, url: advertised });
    again.close(4002, 'done');
    expect(await within(WAIT_MS, 'the shard exiting', s.exited)).toEqual({ code: 0, reason: 'job finished' });
  });

  it('dials the coordinator again after losing a connection that lasted longer than reconnectTimeoutMs', async () => {
    // reconnectTimeoutMs counts from the loss of a working connection, not
    // from when it opened: a shard whose connection outlived the window
    // dials again when it drops instead of giving up at once (as it must
    // when a coordinator restarts late in a job).
    const { coordinator: c, shard: s, link } = await startShard({ reconnectTimeoutMs: 1_000 });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    link.send({ type: 'heartbeat', kind: 'ping', sentAt: 1 });
    expect(await link.next('heartbeat'), 'the connection is alive before it drops').toMatchObject({ kind: 'pong' });
    link.close(1001, 'coordinator stopping');
    const outcome = await Promise.race([
      c.nextLink().then((l) => ({ redialled: l.hello.index })),
      s.exited.then((exit) => ({ exited: exit })),
    ]);
    expect(outcome, `a shard that lost a healthy coordinator connection must dial again, not exit; it logged:\n${logs.join('\n')}`).toEqual({ redialled: 0 });
  });

  it('exports its bytes and commits on /metrics', async () => {
    const { link, url } = await startShard();
    await setUp(link, randomValues(SIZE));
    const [a, b] = [await worker(url, 1), await worker(url, 2)];
    for (const w of [a, b]) await nextVersion(w);
    const before = (await httpGet(`${url}/metrics`)).body;
    expect(metric(before, 'dtrain_shard_bytes_total{shard="0",direction="in"}')).toBe(0);
    expect(metric(before, 'dtrain_shard_commits_total{shard="0",outcome="committed"}')).toBe(0);

    pushAll({ worker: a, gradient: randomValues(SIZE), sampleCount: 2 });
    pushAll({ worker: b, gradient: randomValues(SIZE), sampleCount: 6 });
    await pushNotices(link, 2);
    const { applied } = await commitStep(link, 0, [a, b], 0.5);

    const { status, body } = await httpGet(`${url}/metrics`);
    expect(status).toBe(200);
    expect(body).toContain(`dtrain_shard_bytes_total{shard="0",direction="in"} ${2 * (SIZE / CHUNK) * WEIGHTS_FRAME_BYTES}`);
    expect(body).toContain('dtrain_shard_commits_total{shard="0",outcome="committed"} 1');
    expect(metric(body, 'dtrain_shard_commits_total{shard="0",outcome="refused"}')).toBe(0);
    expect(metric(body, 'dtrain_shard_bytes_total{shard="0",direction="out"}')).toBe(applied.bytesOut);
    expect(metric(body, 'dtrain_shard_pushes{shard="0"}')).toBe(2);
  });
});
