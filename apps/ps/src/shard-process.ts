import { hostname } from 'node:os';
import WebSocket from 'ws';
import { ShardMetrics, collectProcessMetrics, createMetricsRegistry, type Registry } from '@dtrain/metrics';
import { ParameterShard, type IncludedPush, type OptimizerConfig, type OptimizerState, type WeightsChunkParts } from '@dtrain/parameter-server';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  MessageType,
  PROTOCOL_VERSION,
  ProtocolError,
  SlotCollector,
  assertSameProtocol,
  backoffDelay,
  chunkFrameBytes,
  decodeMessage,
  encodeMessage,
  stateMessages,
  toErrorMessage,
  tokenMatches,
  type ChunkHeader,
  type Message,
  type ShardSetupMessage,
} from '@dtrain/protocol';
import { DataPlaneServer, type DataPlaneHandler, type WorkerLink } from './data-plane-server.js';
import { ShardError } from './errors.js';

export interface ShardLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface ShardProcessOptions {
  /** ws:// URL of the coordinator. */
  readonly coordinator: string;
  /** Shared secret: sent to the coordinator, required of workers; '' for none. */
  readonly token: string;
  /** This shard's index, 0 … cluster.psShards − 1. */
  readonly index: number;
  /** Interface and port the workers' data plane (and /metrics) listens on; port 0 picks one. */
  readonly host: string;
  readonly port: number;
  /** The URL workers dial; default ws://<host>:<bound port> (the machine's host name when listening on every interface). Must stay the same across restarts. */
  readonly advertise?: string;
  /** Give up after this long without a coordinator, ms; default 120000. */
  readonly reconnectTimeoutMs?: number;
  /** Stay up after the job finished (a StatefulSet would restart an exited pod); default false. */
  readonly linger?: boolean;
  readonly log: ShardLogger;
  /** Where the shard's metrics go; default a fresh registry with process metrics. */
  readonly registry?: Registry;
}

/** How a shard process ended. */
export interface ShardExit {
  readonly code: number;
  readonly reason: string;
}

/** cluster.chunkBytes at most (the config's limit). */
const MAX_CHUNK_BYTES = 2 ** 30;
/** A worker sends the shard only dataHello (and perhaps an error): small. */
const MAX_WORKER_MESSAGE_BYTES = 1 << 16;

/** WebSocket close codes (the coordinator's, for the codes it sends). */
const CLOSE_PROTOCOL_ERROR = 4000;
const CLOSE_JOB_FINISHED = 4002;
const CLOSE_UNAUTHORIZED = 4003;
const CLOSE_REJECTED = 4004;

/** Fills the WebSocket masking key with zeros: ws then skips masking (a trusted peer; see the worker). */
function zeroMask(mask: Uint8Array): void {
  mask.fill(0);
}

/**
 * One parameter-server shard process (`dtrain ps`). It dials the
 * coordinator (the control plane) and serves the workers' data plane:
 *
 * - setup: the coordinator sends the range it owns, the layout, the
 *   optimizer and the state to start from (a fresh job, a checkpoint, or a
 *   rollback); the shard builds a ParameterShard and streams the weights to
 *   every connected worker;
 * - each step: gradient chunks arrive from workers and are summed at once;
 *   when a worker's push is whole here the coordinator is told (shardPush);
 *   the coordinator's two-phase commit (prepare: can you apply exactly these
 *   pushes? then apply or abort) makes every shard apply the same pushes;
 *   applying streams each new weight chunk to every worker as it is ready;
 * - snapshots: its weights and optimizer state, for checkpoints, evaluation
 *   and the final model.
 *
 * It holds no state the job cannot rebuild: killed and restarted, it is set
 * up again from the last checkpoint.
 */
export class ShardProcess implements DataPlaneHandler {
  readonly #o: ShardProcessOptions;
  readonly #registry: Registry;
  readonly #metrics: ShardMetrics;
  readonly #server: DataPlaneServer;
  #url = '';
  #ws: WebSocket | undefined;
  #chain: Promise<void> = Promise.resolve();
  #attempt = 0;
  #lastConnected = Date.now();
  #shard: ParameterShard | undefined;
  /**
   * A setup under way: the shard is made at once, its weights written in
   * place as they arrive (a big shard never holds them twice); the optimizer
   * arrays are collected and restored at the end.
   */
  #setup: { readonly message: ShardSetupMessage; readonly shard: ParameterShard; weightsFilled: number; readonly collector: SlotCollector } | undefined;
  #prepared: { readonly step: number; readonly included: readonly IncludedPush[] } | undefined;
  /** Workers whose dataHello was accepted. */
  readonly #workers = new Set<WorkerLink>();
  /** Workers that said hello during a commit: sent the whole new version after it. */
  readonly #awaiting = new Set<WorkerLink>();
  /**
   * Where each link's gradient chunk is received: one buffer per link (a
   * chunk's bytes arrive over many reads, interleaved with other links'),
   * reused for every chunk of that link.
   */
  readonly #staging = new WeakMap<WorkerLink, Float32Array>();
  #committing = false;
  /** Gradient payload bytes summed since the last commit or abort. */
  #bytesIn = 0;
  #finished = false;
  #finish!: (exit: ShardExit) => void;
  readonly exited: Promise<ShardExit>;

  constructor(options: ShardProcessOptions) {
    this.#o = options;
    this.#registry = options.registry ?? createMetricsRegistry({ defaultMetrics: false });
    if (options.registry === undefined) collectProcessMetrics(this.#registry);
    this.#metrics = new ShardMetrics(this.#registry, { shards: [options.index] });
    this.#server = new DataPlaneServer(this, {
      host: options.host,
      port: options.port,
      token: options.token,
      // Before the first setup the chunk size is not known: the job's largest allowed chunk.
      maxChunkFrameBytes: () => chunkFrameBytes(this.#shard?.plan.chunkElements ?? MAX_CHUNK_BYTES / 4),
      maxMessageBytes: MAX_WORKER_MESSAGE_BYTES,
      registry: this.#registry,
      ready: () => this.#shard !== undefined,
    });
    this.exited = new Promise((resolve) => {
      this.#finish = (exit) => {
        if (this.#finished) return;
        this.#finished = true;
        this.#ws?.close(1000, 'shard exiting');
        void this.#server.close();
        resolve(exit);
      };
    });
  }

  /** The URL workers are told to dial. */
  get url(): string {
    return this.#url;
  }

  /** True once set up and serving a version. */
  get ready(): boolean {
    return this.#shard !== undefined;
  }

  /** Listens for workers, then dials the coordinator. Resolves with the advertised URL. */
  async start(): Promise<string> {
    const port = await this.#server.listen();
    const host = this.#o.host === '0.0.0.0' || this.#o.host === '::' ? hostname() : this.#o.host;
    this.#url = this.#o.advertise ?? `ws://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.#o.log.info(`shard ${this.#o.index}: data plane on ${this.#o.host}:${port} (workers dial ${this.#url}), /metrics on the same port`);
    this.#connect();
    return this.#url;
  }

  /** Stops at once (SIGTERM): the coordinator pauses the job until a shard with this index is back. */
  stop(reason: string): void {
    this.#o.log.info(`shard ${this.#o.index}: stopping (${reason})`);
    this.#finish({ code: 0, reason });
  }

  // ---- the coordinator link ----

  #connect(): void {
    if (this.#finished) return;
    const headers: Record<string, string> = {};
    if (this.#o.token !== '') headers.authorization = `Bearer ${this.#o.token}`;
    const ws = new WebSocket(this.#o.coordinator, { headers, maxPayload: DEFAULT_MAX_MESSAGE_BYTES, perMessageDeflate: false, generateMask: zeroMask });
    ws.binaryType = 'nodebuffer';
    this.#ws = ws;
    ws.on('open', () => {
      this.#attempt = 0;
      this.#lastConnected = Date.now();
      ws.send(encodeMessage({ type: 'shardHello', protocolVersion: PROTOCOL_VERSION, token: this.#o.token, index: this.#o.index, url: this.#url, host: hostname() }));
    });
    ws.on('unexpected-response', (_req, res) => {
      if (res.statusCode === 401) this.#reject('the coordinator refused the token (HTTP 401)');
      ws.terminate();
    });
    ws.on('message', (data: Buffer) => {
      // Pings are answered at once, never queued behind a commit.
      if (data[3] === MessageType.heartbeat) return this.#answerPing(ws, data);
      this.#chain = this.#chain.then(() => this.#onControl(ws, data));
    });
    ws.on('error', (error) => this.#o.log.warn(`shard ${this.#o.index}: coordinator connection: ${error.message}`));
    let opened = false;
    ws.on('open', () => (opened = true));
    ws.on('close', (code, reason) => {
      if (this.#ws === ws) this.#ws = undefined;
      this.#prepared = undefined;
      // The reconnect window counts from the loss of a working connection, not from when it opened.
      if (opened) this.#lastConnected = Date.now();
      if (this.#finished) return;
      if (code === CLOSE_UNAUTHORIZED || code === CLOSE_REJECTED) return this.#reject(`the coordinator refused this shard (${code} ${reason.toString()})`);
      if (code === CLOSE_JOB_FINISHED && this.#o.linger !== true) return this.#finish({ code: 0, reason: 'job finished' });
      this.#o.log.warn(`shard ${this.#o.index}: coordinator disconnected (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}); reconnecting`);
      this.#scheduleReconnect();
    });
  }

  #reject(why: string): void {
    const error = new ShardError('DTRAIN_SHARD_REJECTED', why);
    this.#o.log.error(`${error.code}: ${error.message}`);
    this.#finish({ code: 3, reason: why });
  }

  #scheduleReconnect(): void {
    const limit = this.#o.reconnectTimeoutMs ?? 120_000;
    if (Date.now() - this.#lastConnected > limit) {
      const error = new ShardError('DTRAIN_SHARD_CONNECT', `no coordinator at ${this.#o.coordinator} for ${Math.round(limit / 1000)} s`);
      this.#o.log.error(`${error.code}: ${error.message}`);
      this.#finish({ code: 1, reason: error.message });
      return;
    }
    // Capped at 1 s: there are only a few shards, and the job cannot train until every one is back.
    setTimeout(() => this.#connect(), backoffDelay(this.#attempt++, { capMs: 1_000 }));
  }

  #answerPing(ws: WebSocket, frame: Buffer): void {
    try {
      const message = decodeMessage(frame);
      if (message.type === 'heartbeat' && message.kind === 'ping') ws.send(encodeMessage({ type: 'heartbeat', kind: 'pong', sentAt: Date.now() }));
    } catch {
      // A malformed ping: the ordered path would report it, but heartbeats carry nothing to lose.
    }
  }

  async #onControl(ws: WebSocket, frame: Buffer): Promise<void> {
    if (this.#finished || ws !== this.#ws) return;
    try {
      await this.#handle(ws, decodeMessage(frame));
    } catch (error) {
      const report = toErrorMessage(error);
      this.#o.log.error(`shard ${this.#o.index}: ${report.code}: ${report.message}`);
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(encodeMessage(report));
        ws.close(CLOSE_PROTOCOL_ERROR, report.code);
      }
    }
  }

  async #handle(ws: WebSocket, message: Message): Promise<void> {
    switch (message.type) {
      case 'shardSetup':
        return this.#beginSetup(message);
      case 'shardState': {
        const setup = this.#setup;
        if (setup === undefined || message.id !== setup.message.generation) {
          throw new ShardError('DTRAIN_SHARD_STATE', `shardState for setup ${message.id} outside a setup`);
        }
        if (message.slot !== 'weights') return setup.collector.add(message);
        if (message.offset !== setup.weightsFilled) {
          throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `shardState "weights" at ${message.offset}: expected offset ${setup.weightsFilled}`);
        }
        try {
          setup.shard.writeWeights(message.offset, message.values);
        } catch (error) {
          throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `shardState "weights": ${error instanceof Error ? error.message : String(error)}`);
        }
        setup.weightsFilled += message.values.length;
        return;
      }
      case 'shardSetupDone':
        return this.#finishSetup(ws, message.generation);
      case 'shardPrepare': {
        const shard = this.#requireShard('shardPrepare');
        shard.setLearningRate(message.learningRate);
        const included = message.included.map((workerId) => ({ workerId, step: message.step }));
        const reason = shard.prepare(message.step, included);
        this.#prepared = { step: message.step, included };
        ws.send(encodeMessage({ type: 'shardPrepared', step: message.step, ok: reason === undefined, reason: reason ?? '' }));
        return;
      }
      case 'shardDecide':
        return this.#decide(ws, message.step, message.apply);
      case 'shardSnapshot':
        return this.#snapshot(ws, message.id, message.optimizer);
      case 'shutdown':
        this.#o.log.info(`shard ${this.#o.index}: coordinator says: ${message.reason}`);
        if (this.#o.linger === true && message.success) return;
        this.#finish({ code: message.success ? 0 : 1, reason: message.reason });
        return;
      case 'error':
        this.#o.log.error(`shard ${this.#o.index}: coordinator reported ${message.code}: ${message.message}`);
        return;
      case 'heartbeat':
        return;
      default:
        throw new ShardError('DTRAIN_SHARD_STATE', `a coordinator may not send ${message.type} to a shard`);
    }
  }

  #beginSetup(message: ShardSetupMessage): void {
    // Whatever was summed belongs to a state being replaced: nothing more goes into it.
    this.#shard = undefined;
    this.#prepared = undefined;
    this.#bytesIn = 0;
    this.#setup = undefined;
    let shard: ParameterShard;
    try {
      shard = new ParameterShard({
        layout: message.layout,
        range: { start: message.start, end: message.end },
        chunkBytes: message.chunkBytes,
        weights: 'zeros',
        optimizer: message.optimizer as unknown as OptimizerConfig,
        version: message.version,
        ...(message.wireWeights === undefined ? {} : { wireWeights: message.wireWeights }),
      });
    } catch (error) {
      throw new ShardError('DTRAIN_SHARD_SETUP', `setup ${message.generation}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const collector = new SlotCollector(message.generation, message.optimizerState?.arrays ?? [], message.end - message.start);
    this.#setup = { message, shard, weightsFilled: 0, collector };
  }

  #finishSetup(ws: WebSocket, generation: number): void {
    const setup = this.#setup;
    if (setup === undefined || setup.message.generation !== generation) throw new ShardError('DTRAIN_SHARD_STATE', `shardSetupDone for setup ${generation} outside it`);
    this.#setup = undefined;
    const m = setup.message;
    const shard = setup.shard;
    if (setup.weightsFilled !== shard.size) throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `state slot "weights": ${setup.weightsFilled} of ${shard.size} elements arrived`);
    const arrays = setup.collector.take();
    const header = m.optimizerState;
    if (header !== undefined) {
      try {
        shard.restoreOptimizerState({
          name: header.name as OptimizerState['name'],
          iterations: header.iterations,
          learningRate: header.learningRate,
          scalars: header.scalars,
          arrays: Object.fromEntries(header.arrays.map((name) => [name, arrays.get(name) as Float32Array])),
        });
      } catch (error) {
        throw new ShardError('DTRAIN_SHARD_SETUP', `setup ${generation}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    }
    this.#shard = shard;
    this.#o.log.info(`shard ${this.#o.index}: set up (generation ${generation}): range [${m.start}, ${m.end}), ${shard.chunkCount} chunk(s), version ${m.version}, ${shard.kernels} kernels`);
    ws.send(encodeMessage({ type: 'shardReady', generation, version: shard.version }));
    for (const link of this.#workers) this.#sendCurrent(link);
  }

  async #decide(ws: WebSocket, step: number, apply: boolean): Promise<void> {
    const shard = this.#requireShard('shardDecide');
    const prepared = this.#prepared;
    this.#prepared = undefined;
    if (prepared?.step !== step) throw new ShardError('DTRAIN_SHARD_STATE', `shardDecide for step ${step}, but the step prepared is ${prepared?.step ?? 'none'}`);
    const bytesIn = this.#bytesIn;
    this.#bytesIn = 0;
    if (!apply) {
      shard.abortStep();
      this.#metrics.shardStep({ shard: this.#o.index, applySeconds: 0, bytesIn, bytesOut: 0, pendingPushes: prepared.included.length, committed: false });
      return;
    }
    const started = performance.now();
    const recipients = [...this.#workers];
    let bytesOut = 0;
    this.#committing = true;
    let outcome: Awaited<ReturnType<ParameterShard['commit']>>;
    try {
      outcome = await shard.commit(step, prepared.included, (parts) => {
        for (const link of recipients) {
          if (!this.#workers.has(link)) continue;
          link.sendChunk(parts.header, parts.payload);
          bytesOut += parts.header.byteLength + parts.payload.byteLength;
        }
      });
    } finally {
      this.#committing = false;
      const waiting = [...this.#awaiting];
      this.#awaiting.clear();
      for (const link of waiting) if (this.#workers.has(link)) this.#sendCurrent(link);
    }
    const applySeconds = (performance.now() - started) / 1000;
    this.#metrics.shardStep({ shard: this.#o.index, applySeconds, bytesIn, bytesOut, pendingPushes: prepared.included.length, committed: outcome.committed });
    if (!outcome.committed) throw new ShardError('DTRAIN_SHARD_STATE', `step ${step} was prepared but could not be applied: ${outcome.reason}`);
    ws.send(encodeMessage({ type: 'shardApplied', step, version: outcome.version, sampleCount: outcome.sampleCount, applySeconds, bytesIn, bytesOut }));
  }

  /**
   * Sends the state a chunk at a time, each once the previous one is
   * written: queueing a big shard's whole state at once would hold a second
   * copy of it in the socket's buffer.
   */
  async #snapshot(ws: WebSocket, id: number, withOptimizer: boolean): Promise<void> {
    const shard = this.#requireShard('shardSnapshot');
    const elements = shard.plan.chunkElements;
    const sendWritten = (frame: Uint8Array): Promise<void> => new Promise((resolve) => ws.send(frame, () => resolve()));
    for (const message of stateMessages(id, 'weights', shard.weights, elements)) await sendWritten(encodeMessage(message));
    if (!withOptimizer) {
      ws.send(encodeMessage({ type: 'shardSnapshotDone', id, version: shard.version }));
      return;
    }
    // Views of the live slots: no commit runs while this is sent (control messages are handled in order).
    const state = shard.optimizerStateView();
    const names = Object.keys(state.arrays).sort();
    for (const name of names) for (const message of stateMessages(id, name, state.arrays[name] as Float32Array, elements)) await sendWritten(encodeMessage(message));
    ws.send(
      encodeMessage({
        type: 'shardSnapshotDone',
        id,
        version: shard.version,
        optimizerState: { name: state.name, iterations: state.iterations, learningRate: state.learningRate, scalars: state.scalars, arrays: names },
      }),
    );
  }

  #requireShard(what: string): ParameterShard {
    if (this.#shard === undefined) throw new ShardError('DTRAIN_SHARD_STATE', `${what} before the shard was set up`);
    return this.#shard;
  }

  // ---- the workers' data plane ----

  onOpen(): void {
    // Nothing until the worker's dataHello.
  }

  chunkTarget(link: WorkerLink, header: ChunkHeader): Float32Array {
    const workerId = link.workerId;
    if (workerId === undefined) throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `expected dataHello first, got a ${header.kind}`);
    if (header.kind !== 'gradientChunk') throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `a worker may not send ${header.kind}`);
    if (header.workerId !== workerId) {
      throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `gradientChunk.workerId: ${header.workerId} is not this connection's worker ${workerId}`);
    }
    let staging = this.#staging.get(link);
    if (staging === undefined || staging.length < header.count) {
      staging = new Float32Array(header.count);
      this.#staging.set(link, staging);
    }
    return staging.subarray(0, header.count);
  }

  onChunk(link: WorkerLink, header: ChunkHeader, values: Float32Array): void {
    const shard = this.#shard;
    // Being set up, or applying a step: the chunk is for a version this shard is leaving (stale).
    if (shard === undefined || this.#committing) return;
    const outcome = shard.acceptChunk({ ...header, values });
    if (outcome === 'malformed') {
      return link.fail(
        new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `gradientChunk: offset ${header.offset} with ${header.count} elements is not a chunk of shard ${this.#o.index}'s range (or its sample count changed mid-push)`),
      );
    }
    if (outcome !== 'accepted' && outcome !== 'non-finite') return;
    // Whole frames, header included, as bytesOut counts the weights.
    this.#bytesIn += chunkFrameBytes(header.count, header.format);
    const push = shard.push(header.workerId);
    // Only the chunk that completes a push is accepted with it complete: one notice per push.
    if (push?.complete === true && this.#ws?.readyState === WebSocket.OPEN) {
      this.#ws.send(encodeMessage({ type: 'shardPush', step: push.step, workerId: header.workerId, sampleCount: push.sampleCount, nonFinite: push.nonFinite }));
    }
  }

  onMessage(link: WorkerLink, frame: Uint8Array): void {
    try {
      const message = decodeMessage(frame, { maxBytes: MAX_WORKER_MESSAGE_BYTES });
      if (link.workerId !== undefined) {
        if (message.type === 'error') this.#o.log.warn(`shard ${this.#o.index}: worker ${link.workerId} reported ${message.code}: ${message.message}`);
        else throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `a worker may not send ${message.type} to a shard`);
        return;
      }
      if (message.type !== 'dataHello') throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `expected dataHello first, got ${message.type}`);
      assertSameProtocol('dataHello.protocolVersion', 'worker', message.protocolVersion);
      if (!tokenMatches(this.#o.token, message.token)) throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', 'dataHello.token: wrong token');
      link.workerId = message.workerId;
      this.#workers.add(link);
      this.#sendCurrent(link);
    } catch (error) {
      const report = toErrorMessage(error);
      this.#o.log.warn(`shard ${this.#o.index}: worker ${link.workerId ?? `link ${link.id}`}: ${report.code}: ${report.message}; closing its link`);
      link.fail(error);
    }
  }

  onClose(link: WorkerLink): void {
    this.#workers.delete(link);
    this.#awaiting.delete(link);
  }

  /** The current version to one worker, now or (during a commit) right after it. */
  #sendCurrent(link: WorkerLink): void {
    const shard = this.#shard;
    if (shard === undefined) return;
    if (this.#committing) {
      this.#awaiting.add(link);
      return;
    }
    for (const parts of shard.currentChunks(0) as WeightsChunkParts[]) link.sendChunk(parts.header, parts.payload);
  }
}
