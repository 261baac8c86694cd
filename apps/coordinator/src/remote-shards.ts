import { optimizerSlotNames, resolveOptimizerConfig, type ChunkOutcome, type IncludedPush, type OptimizerConfig, type OptimizerState, type ShardPush, type WeightsChunkParts } from '@dtrain/parameter-server';
import {
  ChunkPlan,
  ProtocolError,
  SlotCollector,
  assertSameProtocol,
  chunkKindOf,
  decodeMessage,
  encodeMessage,
  stateMessages,
  toErrorMessage,
  tokenMatches,
  type Chunk,
  type FlatRange,
  type Message,
  type OptimizerStateHeader,
  type ShardDescriptor,
  type ShardHelloMessage,
  type WeightEntry,
  type WireFormat,
} from '@dtrain/protocol';
import { JobError, ShardLostError } from './errors.js';
import type { Logger } from './logger.js';
import type { ShardStepEvent } from './observer.js';
import type { ShardCommit, ShardSet, ShardSetState } from './shard-set.js';
import type { StartState } from './run-start.js';
import { Signal } from './signal.js';
import { CloseCode, type Connection } from './transport.js';

export interface RemoteShardsOptions {
  /** cluster.psShards. */
  readonly count: number;
  readonly layout: readonly WeightEntry[];
  readonly chunkBytes: number;
  /** cluster.wireWeights: the element format of the weights chunks the shards send workers. */
  readonly wireWeights: WireFormat;
  readonly optimizer: OptimizerConfig;
  /** Shards must present it (as workers do); '' or undefined accepts any. */
  readonly token: string | undefined;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly log: Logger;
  /** A shard in service was lost (connection closed or silent). */
  readonly onLost: (error: ShardLostError) => void;
  /** A shard confirmed a worker's push. */
  readonly onPush: (workerId: number) => void;
  /** Traffic on the shards' control connections, for the coordinator's byte counters. */
  readonly bytes?: (direction: 'in' | 'out', bytes: number) => void;
}

/** Replies the coordinator waits for, one at a time per shard. */
type Reply = Extract<Message, { type: 'shardReady' | 'shardPrepared' | 'shardApplied' | 'shardSnapshotDone' }>;

interface Waiter {
  readonly type: Reply['type'];
  readonly resolve: (message: Reply) => void;
  readonly reject: (error: Error) => void;
}

/** One shard process's control connection. */
class ShardLink {
  readonly connection: Connection;
  readonly index: number;
  readonly url: string;
  readonly host: string;
  lastSeen = Date.now();
  waiter: Waiter | undefined;
  snapshot: SlotCollector | undefined;

  constructor(connection: Connection, hello: ShardHelloMessage) {
    this.connection = connection;
    this.index = hello.index;
    this.url = hello.url;
    this.host = hello.host;
  }
}

/** A worker's push as the shards have confirmed it. */
interface PushView {
  step: number;
  sampleCount: number;
  nonFinite: boolean;
  readonly confirmed: Set<number>;
}

/**
 * K `dtrain ps` processes (cluster.psShards ≥ 1), as the step loop sees
 * them. Each dials the coordinator and owns one of the chunk plan's K
 * balanced ranges. Workers push gradient chunks to and receive weights from
 * the shards directly; this side only carries control messages: the
 * shards' push confirmations, the two-phase commit that makes all of them
 * apply the same pushes (prepare → every shard answers → apply or abort),
 * setups and snapshots (checkpoints, evaluation, the final model).
 *
 * A shard whose connection closes or goes silent for
 * `cluster.heartbeatTimeoutMs` is lost: `onLost` is called and every pending
 * reply fails with ShardLostError. The job then waits for a shard with that
 * index to dial in again and sets every shard up afresh (rollback).
 */
export class RemoteShards implements ShardSet {
  readonly remote = true;
  readonly plan: ChunkPlan;
  readonly #o: RemoteShardsOptions;
  readonly #ranges: readonly FlatRange[];
  readonly #links = new Map<number, ShardLink>();
  readonly #byConnection = new Map<Connection, ShardLink>();
  readonly #pushes = new Map<number, PushView>();
  readonly #changed = new Signal();
  readonly #timer: NodeJS.Timeout;
  #version = 0;
  #generation = 0;
  #learningRate: number;
  /** True while every shard is connected and set up at the current generation. */
  #inService = false;
  #nextSnapshot = 1;
  #lastTick = Date.now();

  constructor(o: RemoteShardsOptions) {
    this.#o = o;
    const total = o.layout.reduce((end, entry) => Math.max(end, entry.offset + entry.size), 0);
    this.plan = new ChunkPlan(total, o.chunkBytes);
    this.#ranges = this.plan.shardRanges(o.count);
    this.#learningRate = o.optimizer.learningRate;
    this.#timer = setInterval(() => this.#heartbeat(), o.heartbeatIntervalMs);
    this.#timer.unref();
  }

  get version(): number {
    return this.#version;
  }

  /** Every shard connected and set up: workers can be welcomed and steps run. */
  get inService(): boolean {
    return this.#inService;
  }

  /** Shards connected now. */
  get connected(): number {
    return this.#links.size;
  }

  /** Stops the heartbeat timer (the job is over). */
  dispose(): void {
    clearInterval(this.#timer);
  }

  /**
   * The job is over: shards are told so and exit (unless they linger). A
   * stopped coordinator only closes their connections: they keep running
   * and dial the restarted coordinator, which sets them up again.
   */
  shutdown(reason: string, success: boolean, stopped: boolean): void {
    this.#inService = false;
    for (const link of [...this.#links.values()]) {
      if (stopped) link.connection.close(CloseCode.goingAway, 'coordinator stopping');
      else {
        this.#send(link, { type: 'shutdown', reason, success });
        link.connection.close(CloseCode.jobFinished, success ? 'done' : 'failed');
      }
    }
  }

  /** Wakes `waitForAll` (the job is stopping). */
  wake(): void {
    this.#changed.notify();
  }

  /** True when `connection` is a shard's control connection. */
  owns(connection: Connection): boolean {
    return this.#byConnection.has(connection);
  }

  /**
   * A shard's first message on a fresh connection. A shard with the index
   * of a connected one replaces it (a restarted pod whose old connection
   * has not timed out yet): the old one counts as lost.
   */
  attach(connection: Connection, hello: ShardHelloMessage): void {
    assertSameProtocol('shardHello.protocolVersion', `shard ${hello.index}`, hello.protocolVersion);
    if (!tokenMatches(this.#o.token, hello.token)) {
      connection.send(encodeMessage({ type: 'error', code: 'DTRAIN_AUTH', message: 'wrong or missing token' }));
      connection.close(CloseCode.unauthorized, 'unauthorized');
      return;
    }
    if (hello.index >= this.#o.count) {
      const message = `shard index ${hello.index} is not below cluster.psShards=${this.#o.count}`;
      connection.send(encodeMessage({ type: 'error', code: 'DTRAIN_SHARD_REJECTED', message }));
      connection.close(CloseCode.rejected, message.slice(0, 120));
      return;
    }
    const previous = this.#links.get(hello.index);
    if (previous !== undefined) {
      this.#o.log.warn(`shard ${hello.index} connected again from ${connection.remoteAddress}; dropping its previous connection`);
      previous.connection.close(CloseCode.evicted, 'replaced by a new connection of the same shard');
      this.detach(previous.connection);
    }
    const link = new ShardLink(connection, hello);
    this.#links.set(hello.index, link);
    this.#byConnection.set(connection, link);
    this.#o.log.info(`shard ${hello.index} connected (${hello.host}, data plane ${hello.url}); ${this.#links.size} of ${this.#o.count}`);
    this.#changed.notify();
  }

  /** A frame on a shard's control connection. Protocol violations close that connection (the shard is then lost). */
  onFrame(connection: Connection, frame: Uint8Array): void {
    const link = this.#byConnection.get(connection);
    if (link === undefined) return;
    link.lastSeen = Date.now();
    this.#o.bytes?.('in', frame.byteLength);
    try {
      if (chunkKindOf(frame) !== undefined) throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', 'a shard sends no chunk frames to the coordinator');
      this.#dispatch(link, decodeMessage(frame, { maxBytes: this.maxInboundBytes }));
    } catch (error) {
      const report = toErrorMessage(error);
      this.#o.log.warn(`shard ${link.index}: ${report.code}: ${report.message}; closing its connection`);
      connection.send(encodeMessage(report));
      connection.close(CloseCode.protocolError, report.code);
      this.detach(connection);
    }
  }

  /** Largest frame a shard sends: a state message of one chunk, with room for its header. */
  get maxInboundBytes(): number {
    return this.plan.chunkElements * 4 + 4096;
  }

  /** A shard's connection closed (or was closed here). */
  detach(connection: Connection): void {
    const link = this.#byConnection.get(connection);
    if (link === undefined) return;
    this.#byConnection.delete(connection);
    if (this.#links.get(link.index) === link) this.#links.delete(link.index);
    const error = new ShardLostError(link.index, `parameter-server shard ${link.index} (${link.host}) lost`);
    link.waiter?.reject(error);
    link.waiter = undefined;
    this.#changed.notify();
    if (this.#inService) {
      this.#inService = false;
      this.#o.onLost(error);
    }
  }

  /**
   * Waits until all `count` shards are connected. Rejects with
   * JobError DTRAIN_JOB_SHARD_LOST after `timeoutMs`, or DTRAIN_JOB_STOPPED
   * once `stopped()` says so (checked whenever `wake` is called).
   */
  async waitForAll(timeoutMs: number, what: string, stopped: () => boolean = () => false): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#links.size < this.#o.count) {
      if (stopped()) throw new JobError('DTRAIN_JOB_STOPPED', `stopped while waiting for parameter-server shards (${what})`);
      const left = deadline - Date.now();
      if (left <= 0) {
        const missing = Array.from({ length: this.#o.count }, (_, i) => i).filter((i) => !this.#links.has(i));
        throw new JobError('DTRAIN_JOB_SHARD_LOST', `${what}: parameter-server shard(s) ${missing.join(', ')} did not connect within cluster.waitTimeoutMs=${timeoutMs}`);
      }
      await this.#changed.wait(left);
    }
  }

  /**
   * Sets every shard up with its range of `state` (weights and, if given,
   * optimizer state) at `version`, and waits until all are ready; each then
   * streams its weights to the workers connected to it.
   */
  async setup(state: StartState, version: number): Promise<void> {
    this.#inService = false;
    this.#pushes.clear();
    const generation = ++this.#generation;
    const links = this.#requireAll();
    const header = state.optimizerState === undefined ? undefined : stateHeader(state.optimizerState);
    const ready = links.map((link) => this.#expect(link, 'shardReady'));
    for (const link of links) {
      const { start, end } = this.#ranges[link.index] as FlatRange;
      this.#send(link, {
        type: 'shardSetup',
        generation,
        layout: this.#o.layout,
        start,
        end,
        chunkBytes: this.#o.chunkBytes,
        optimizer: this.#o.optimizer as unknown as Readonly<Record<string, unknown>>,
        version,
        ...(header === undefined ? {} : { optimizerState: header }),
        // Absent for float32, as a shard of a version before the field expects.
        ...(this.#o.wireWeights === 'float32' ? {} : { wireWeights: this.#o.wireWeights }),
      });
      // A chunk at a time, each once the previous one is written: the whole state queued at once would be a second copy of it.
      for (const message of stateMessages(generation, 'weights', state.weights.subarray(start, end), this.plan.chunkElements)) await this.#sendWritten(link, message);
      for (const name of header?.arrays ?? []) {
        const array = (state.optimizerState as OptimizerState).arrays[name] as Float32Array;
        for (const message of stateMessages(generation, name, array.subarray(start, end), this.plan.chunkElements)) await this.#sendWritten(link, message);
      }
      this.#send(link, { type: 'shardSetupDone', generation });
    }
    await Promise.all(ready);
    this.#version = version;
    this.#learningRate = state.optimizerState?.learningRate ?? this.#o.optimizer.learningRate;
    this.#inService = true;
    this.#o.log.info(`${links.length} parameter-server shard(s) set up at version ${version}`);
  }

  descriptors(): ShardDescriptor[] {
    return this.#ranges.map((range, index) => ({ start: range.start, end: range.end, url: this.#links.get(index)?.url ?? '' }));
  }

  setLearningRate(learningRate: number): void {
    this.#learningRate = learningRate;
  }

  push(workerId: number): ShardPush | undefined {
    const view = this.#pushes.get(workerId);
    if (view === undefined) return undefined;
    return { workerId, step: view.step, sampleCount: view.sampleCount, complete: view.confirmed.size === this.#o.count, nonFinite: view.nonFinite };
  }

  acceptChunk(chunk: Chunk): ChunkOutcome {
    throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `gradientChunk at offset ${chunk.offset}: this job's shards are processes; push to the shard URLs of the welcome`);
  }

  currentChunks(): WeightsChunkParts[] {
    return [];
  }

  async commit(step: number, included: readonly IncludedPush[]): Promise<ShardCommit> {
    const links = this.#requireAll();
    const workers = included.map((p) => p.workerId);
    const started = performance.now();
    const prepared = await this.#all(links, 'shardPrepared', { type: 'shardPrepare', step, included: workers, learningRate: this.#learningRate });
    const refusal = prepared.find(({ reply }) => reply.type === 'shardPrepared' && !reply.ok);
    if (refusal !== undefined) {
      for (const link of links) this.#send(link, { type: 'shardDecide', step, apply: false });
      this.#pushes.clear();
      const reason = refusal.reply.type === 'shardPrepared' ? refusal.reply.reason : '';
      return {
        outcome: { committed: false, reason: `shard ${refusal.link.index}: ${reason}` },
        shards: links.map((link) => refusedEvent(link.index, workers.length)),
      };
    }
    const applied = await this.#all(links, 'shardApplied', { type: 'shardDecide', step, apply: true });
    this.#pushes.clear();
    const events: ShardStepEvent[] = [];
    let version = -1;
    let sampleCount = 0;
    for (const { link, reply } of applied) {
      if (reply.type !== 'shardApplied') continue;
      if (version >= 0 && reply.version !== version) {
        throw new JobError('DTRAIN_JOB_INTERNAL', `shards disagree on the version after step ${step}: ${version} and ${reply.version} (shard ${link.index})`);
      }
      version = reply.version;
      sampleCount = reply.sampleCount;
      events.push({ shard: link.index, applySeconds: reply.applySeconds, bytesIn: reply.bytesIn, bytesOut: reply.bytesOut, pendingPushes: workers.length, committed: true });
    }
    this.#version = version;
    this.#o.log.info(`step ${step}: ${links.length} shard(s) applied ${workers.length} push(es) in ${Math.round(performance.now() - started)} ms`);
    return { outcome: { committed: true, version, sampleCount }, shards: events };
  }

  async abortStep(step: number): Promise<void> {
    const links = this.#requireAll();
    await this.#all(links, 'shardPrepared', { type: 'shardPrepare', step, included: [], learningRate: this.#learningRate });
    for (const link of links) this.#send(link, { type: 'shardDecide', step, apply: false });
    this.#pushes.clear();
  }

  async weights(): Promise<Float32Array> {
    return (await this.#snapshot(false)).weights;
  }

  async state(): Promise<ShardSetState> {
    const snapshot = await this.#snapshot(true);
    return { weights: snapshot.weights, optimizerState: snapshot.optimizerState as OptimizerState, version: snapshot.version };
  }

  // ---- internals ----

  #dispatch(link: ShardLink, message: Message): void {
    switch (message.type) {
      case 'shardPush':
        return this.#confirm(link, message.workerId, message.step, message.sampleCount, message.nonFinite);
      case 'shardState': {
        if (link.snapshot === undefined) throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', 'shardState outside a snapshot');
        link.snapshot.add(message);
        return;
      }
      case 'shardReady':
      case 'shardPrepared':
      case 'shardApplied':
      case 'shardSnapshotDone': {
        const waiter = link.waiter;
        if (waiter?.type !== message.type) throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `unexpected ${message.type} from shard ${link.index}`);
        link.waiter = undefined;
        waiter.resolve(message);
        return;
      }
      case 'heartbeat':
        if (message.kind === 'ping') this.#send(link, { type: 'heartbeat', kind: 'pong', sentAt: Date.now() });
        return;
      case 'error':
        this.#o.log.error(`shard ${link.index} reported ${message.code}: ${message.message}`);
        return;
      default:
        throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `a shard may not send ${message.type}`);
    }
  }

  #confirm(link: ShardLink, workerId: number, step: number, sampleCount: number, nonFinite: boolean): void {
    let view = this.#pushes.get(workerId);
    if (view === undefined || view.step !== step) {
      view = { step, sampleCount, nonFinite, confirmed: new Set() };
      this.#pushes.set(workerId, view);
    }
    // Shards that disagree on the sample count make the push malformed (admission compares it with the report).
    if (view.sampleCount !== sampleCount) view.sampleCount = -1;
    view.nonFinite ||= nonFinite;
    view.confirmed.add(link.index);
    if (view.confirmed.size === this.#o.count) this.#o.onPush(workerId);
  }

  /**
   * Every shard's state at one version, gathered straight into whole-layout
   * arrays (each shard's frames land in its range of them): the coordinator
   * holds the model's state once, not once per shard and again assembled.
   */
  async #snapshot(withOptimizer: boolean): Promise<{ weights: Float32Array; optimizerState: OptimizerState | undefined; version: number }> {
    const links = this.#requireAll();
    const id = this.#nextSnapshot++;
    const total = this.plan.totalSize;
    const slots = withOptimizer ? ['weights', ...optimizerSlotNames(resolveOptimizerConfig(this.#o.optimizer))] : ['weights'];
    const whole = new Map<string, Float32Array>();
    const wholeOf = (slot: string): Float32Array => {
      let array = whole.get(slot);
      if (array === undefined) {
        array = new Float32Array(total);
        whole.set(slot, array);
      }
      return array;
    };
    for (const link of links) {
      const range = this.#ranges[link.index] as FlatRange;
      // Exactly the slots this job's optimizer has: a shard cannot make the coordinator allocate arrays for names of its choosing.
      link.snapshot = new SlotCollector(id, slots, range.end - range.start, (slot) => wholeOf(slot).subarray(range.start, range.end));
    }
    const done = await this.#all(links, 'shardSnapshotDone', { type: 'shardSnapshot', id, optimizer: withOptimizer });
    let version = -1;
    let first: { readonly index: number; readonly header: OptimizerStateHeader } | undefined;
    for (const { link, reply } of done) {
      if (reply.type !== 'shardSnapshotDone') continue;
      const collector = link.snapshot as SlotCollector;
      link.snapshot = undefined;
      collector.take(); // throws naming a slot that is not whole
      if (version >= 0 && reply.version !== version) throw new JobError('DTRAIN_JOB_INTERNAL', `shard ${link.index} is at version ${reply.version}, another at ${version}`);
      version = reply.version;
      if (!withOptimizer) continue;
      const header = reply.optimizerState;
      if (header === undefined) throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `shard ${link.index}'s snapshot lacks its optimizer state`);
      if (first === undefined) first = { index: link.index, header };
      else {
        const differs = headerDifference(first.header, header);
        if (differs !== undefined) throw new JobError('DTRAIN_JOB_INTERNAL', `shard ${link.index}'s optimizer state disagrees with shard ${first.index}'s on ${differs}`);
      }
    }
    const weights = whole.get('weights') ?? new Float32Array(total);
    if (!withOptimizer || first === undefined) return { weights, optimizerState: undefined, version };
    const { header } = first;
    const optimizerState: OptimizerState = {
      name: header.name as OptimizerState['name'],
      iterations: header.iterations,
      learningRate: header.learningRate,
      scalars: { ...header.scalars },
      arrays: Object.fromEntries(header.arrays.map((name) => [name, whole.get(name) ?? new Float32Array(total)])),
    };
    return { weights, optimizerState, version };
  }

  /** Sends `message` to every link and waits for each one's reply of `type`. */
  async #all(links: readonly ShardLink[], type: Reply['type'], message: Message): Promise<{ link: ShardLink; reply: Reply }[]> {
    const replies = links.map((link) => this.#expect(link, type).then((reply) => ({ link, reply })));
    for (const link of links) this.#send(link, message);
    return Promise.all(replies);
  }

  #expect(link: ShardLink, type: Reply['type']): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      if (!this.#byConnection.has(link.connection)) {
        reject(new ShardLostError(link.index, `parameter-server shard ${link.index} lost`));
        return;
      }
      link.waiter?.reject(new JobError('DTRAIN_JOB_INTERNAL', `a ${type} request replaced a pending ${link.waiter.type}`));
      link.waiter = { type, resolve, reject };
    });
  }

  #sendWritten(link: ShardLink, message: Message): Promise<void> {
    const frame = encodeMessage(message);
    this.#o.bytes?.('out', frame.byteLength);
    return new Promise((resolve) => link.connection.send(frame, resolve));
  }

  #send(link: ShardLink, message: Message): void {
    const frame = encodeMessage(message);
    link.connection.send(frame);
    this.#o.bytes?.('out', frame.byteLength);
  }

  /** Every shard's link, in index order; a missing one is a lost shard. */
  #requireAll(): ShardLink[] {
    const links: ShardLink[] = [];
    for (let index = 0; index < this.#o.count; index += 1) {
      const link = this.#links.get(index);
      if (link === undefined) throw new ShardLostError(index, `parameter-server shard ${index} is not connected`);
      links.push(link);
    }
    return links;
  }

  #heartbeat(): void {
    const now = Date.now();
    // If this process itself was busy (evaluation, GC), no shard could be heard: don't blame them.
    const stalled = now - this.#lastTick > 2 * this.#o.heartbeatIntervalMs;
    this.#lastTick = now;
    for (const link of [...this.#links.values()]) {
      if (stalled) link.lastSeen = now;
      if (now - link.lastSeen > this.#o.heartbeatTimeoutMs) {
        this.#o.log.warn(`shard ${link.index}: nothing heard for ${now - link.lastSeen} ms (cluster.heartbeatTimeoutMs=${this.#o.heartbeatTimeoutMs})`);
        link.connection.close(CloseCode.evicted, 'heartbeat timeout');
        this.detach(link.connection);
        continue;
      }
      this.#send(link, { type: 'heartbeat', kind: 'ping', sentAt: now });
    }
  }
}

function stateHeader(state: OptimizerState): { name: string; iterations: number; learningRate: number; scalars: Readonly<Record<string, number>>; arrays: string[] } {
  return { name: state.name, iterations: state.iterations, learningRate: state.learningRate, scalars: state.scalars, arrays: Object.keys(state.arrays).sort() };
}

/** What two shards' optimizer state headers disagree on (they are steps of one optimizer), if anything. */
function headerDifference(a: OptimizerStateHeader, b: OptimizerStateHeader): string | undefined {
  if (a.name !== b.name) return `the optimizer (${a.name} vs ${b.name})`;
  if (a.iterations !== b.iterations) return `iterations (${a.iterations} vs ${b.iterations})`;
  if (!Object.is(a.learningRate, b.learningRate)) return `learningRate (${a.learningRate} vs ${b.learningRate})`;
  if ([...a.arrays].sort().join() !== [...b.arrays].sort().join()) return 'which arrays there are';
  const keys = Object.keys(a.scalars).sort();
  if (keys.join() !== Object.keys(b.scalars).sort().join()) return 'which scalars there are';
  for (const key of keys) if (!Object.is(a.scalars[key], b.scalars[key])) return `scalar ${key}`;
  return undefined;
}

function refusedEvent(shard: number, pushes: number): ShardStepEvent {
  return { shard, applySeconds: 0, bytesIn: 0, bytesOut: 0, pendingPushes: pushes, committed: false };
}
