import { hostname } from 'node:os';
import WebSocket from 'ws';
import type { BackendInfo, BackendRequest } from '@dtrain/engine';
import type { WorkerMetrics } from '@dtrain/metrics';
import {
  ChunkPlan,
  DEFAULT_MAX_MESSAGE_BYTES,
  MessageType,
  PROTOCOL_VERSION,
  backoffDelay,
  chunkFrameBytes,
  chunkKindOf,
  decodeChunk,
  decodeMessage,
  encodeMessage,
  toErrorMessage,
  type AssignmentMessage,
  type Chunk,
  type ChunkHeader,
  type Message,
  type WelcomeMessage,
} from '@dtrain/protocol';

import { SimulatedCompute, type ComputeHost } from './compute-host.js';
import { ComputeThread } from './compute-thread.js';
import { GradientSender, WeightReceiver, type ChunkSink } from './data-plane.js';
import { ShardConnections } from './shard-connections.js';
import { SharedSource } from './shared-source.js';
import { WorkerError } from './errors.js';
import { IdleClock } from './idle-clock.js';
import { PushRecord } from './push-record.js';
import { WorkerState } from './worker-state.js';

export interface WorkerLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface WorkerOptions {
  /** ws:// or wss:// URL of the coordinator. */
  readonly coordinator: string;
  /** tfjs backend: 'auto' (default), 'tensorflow', 'wasm' or 'cpu'. */
  readonly backend?: BackendRequest;
  /** Shared secret sent on the upgrade (Authorization: Bearer) and in hello. */
  readonly token?: string;
  /** Stop trying to reach the coordinator after this long without a connection, ms; default 120000. */
  readonly reconnectTimeoutMs?: number;
  /** Extra TLS trust for wss:// (PEM CA certificate). */
  readonly ca?: string | Buffer;
  readonly log: WorkerLogger;
  /**
   * When the job finishes successfully, stay idle until SIGTERM instead of
   * exiting (a Kubernetes Deployment would restart an exited worker, which
   * would only be told again that the job is over); default false.
   */
  readonly linger?: boolean;
  /** Install a SIGTERM handler that leaves cleanly; default true. */
  readonly handleSignals?: boolean;
  /** Where this worker records its compute, data and wait time and tfjs memory; default none (no metrics). */
  readonly metrics?: WorkerMetrics;
  /**
   * For data-plane benchmarks: instead of tfjs, take this many milliseconds
   * per step (a timer, no CPU) and push constant gradients. Default: real compute.
   */
  readonly simulateComputeMs?: number;
  /** Milliseconds the compute thread stays blocked after each real step (tests of long steps); default 0. */
  readonly extraStepMs?: number;
  /**
   * Append one JSON line per gradient push sent to this file
   * (`{"step","epoch","version","batchId","workerId","sampleIds","finite"}`),
   * evidence for `dtrain audit` independent of the coordinator's ledger.
   * Opened (created or appended to) by the constructor, which throws if it
   * cannot; closed when the worker is done. Default: no record.
   */
  readonly recordPath?: string;
}

/** Longest wait between two attempts to reach the coordinator, ms. */
const RECONNECT_CAP_MS = 2_000;

/** Fills the WebSocket masking key with zeros (see the connection options). */
function zeroMask(mask: Uint8Array): void {
  mask.fill(0);
}

/** How a worker process ended. */
export interface WorkerExit {
  readonly code: number;
  readonly reason: string;
}

/**
 * A generic worker: given only the coordinator's address it receives the
 * model, weights, job settings and data over the connection, computes
 * gradients for each assignment and pushes them. It reconnects with capped
 * exponential backoff and jitter when the coordinator goes away, and leaves
 * cleanly on SIGTERM.
 */
export class Worker {
  readonly #o: WorkerOptions;
  #thread: ComputeHost | undefined;
  #ws: WebSocket | undefined;
  /** What this worker knows of the job it joined; replaced at every welcome. */
  #job: JoinedJob | undefined;
  #workerId: number | undefined;
  #state: WorkerState = WorkerState.connecting;
  #chain: Promise<void> = Promise.resolve();
  #attempt = 0;
  #lastConnected = Date.now();
  #finish!: (exit: WorkerExit) => void;
  #finished = false;
  /** The job finished and `linger` is set: connected to nobody, waiting for SIGTERM. */
  #lingering = false;
  /** Milliseconds spent taking in data chunks since the last push report (part of its data wait). */
  #chunkMs = 0;
  readonly #idle = new IdleClock();
  readonly #record: PushRecord | undefined;
  readonly exited: Promise<WorkerExit>;

  constructor(options: WorkerOptions) {
    this.#o = options;
    this.#record = options.recordPath === undefined ? undefined : new PushRecord(options.recordPath);
    this.exited = new Promise((resolve) => {
      this.#finish = (exit) => {
        if (this.#finished) return;
        this.#finished = true;
        this.#state = WorkerState.gone;
        this.#dropJob();
        void this.#thread?.dispose();
        this.#record?.close();
        resolve(exit);
      };
    });
  }

  /** Where the worker is in its lifecycle (connecting → joined → training → draining → gone). */
  get state(): WorkerState {
    return this.#state;
  }

  /**
   * Starts the compute thread (which picks the backend), connects, and
   * resolves when the worker is done (job over, left, or gave up). Compute
   * runs on that thread so this one always answers heartbeats and receives
   * chunks, however long a step takes.
   */
  async run(): Promise<WorkerExit> {
    const simulated = this.#o.simulateComputeMs;
    const thread: ComputeHost = simulated === undefined ? await ComputeThread.start({ backend: this.#o.backend ?? 'auto', ...(this.#o.extraStepMs === undefined ? {} : { extraStepMs: this.#o.extraStepMs }) }) : new SimulatedCompute(simulated);
    this.#thread = thread;
    // Left (or failed) while the thread was starting: #finish ran before there was a thread to dispose.
    if (this.#finished) {
      await thread.dispose();
      return this.exited;
    }
    void thread.exited.then((lost) => {
      if (lost !== undefined) this.#fail(lost.message);
    });
    const backend: BackendInfo = thread.backend;
    this.#o.log.info(`backend ${backend.name} (${backend.reason})${simulated === undefined ? ', computing on a worker thread' : ''}`);
    this.#o.metrics?.setInfo({ backend: backend.name });
    if (this.#o.handleSignals ?? true) {
      const onTerm = (): void => this.leave('SIGTERM');
      process.once('SIGTERM', onTerm);
      process.once('SIGINT', onTerm);
      void this.exited.then(() => {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onTerm);
      });
    }
    this.#connect();
    return this.exited;
  }

  /** Leaves on purpose: says so, closes, and exits 0. Safe at any time. */
  leave(reason: string): void {
    this.#state = WorkerState.draining;
    const ws = this.#ws;
    if (ws !== undefined && ws.readyState === WebSocket.OPEN) {
      ws.send(encodeMessage({ type: 'leave', reason }));
      ws.close(1000, 'leave');
    }
    this.#finish({ code: 0, reason: `left: ${reason}` });
  }

  #connect(): void {
    if (this.#finished) return;
    const headers: Record<string, string> = {};
    if (this.#o.token !== undefined && this.#o.token !== '') headers.authorization = `Bearer ${this.#o.token}`;
    const ws = new WebSocket(this.#o.coordinator, {
      headers,
      maxPayload: DEFAULT_MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
      // RFC 6455 masking protects HTTP intermediaries from frames crafted by untrusted browser
      // scripts; a worker is a trusted process, and XOR-ing every gradient byte cost ~1 ms per MB
      // on each side. ws skips masking and unmasking for an all-zero mask.
      generateMask: zeroMask,
      ...(this.#o.ca === undefined ? {} : { ca: this.#o.ca }),
    });
    ws.binaryType = 'nodebuffer';
    this.#ws = ws;
    ws.on('open', () => {
      this.#attempt = 0;
      this.#lastConnected = Date.now();
      const backend = this.#thread?.backend;
      ws.send(
        encodeMessage({
          type: 'hello',
          protocolVersion: PROTOCOL_VERSION,
          token: this.#o.token ?? '',
          capabilities: { backend: backend?.name ?? 'unknown', devices: backend?.devices ?? [], host: hostname() },
          ...(this.#workerId === undefined ? {} : { previousWorkerId: this.#workerId }),
        }),
      );
    });
    ws.on('unexpected-response', (_req, res) => {
      if (res.statusCode === 401) {
        this.#o.log.error('coordinator refused the token (HTTP 401)');
        this.#finish({ code: 3, reason: 'unauthorized' });
      }
      ws.terminate();
    });
    ws.on('message', (data: Buffer) => {
      // Pings are answered at once, never queued behind a step.
      if (data[3] === MessageType.heartbeat && this.#answerPing(ws, data)) return;
      this.#chain = this.#chain.then(() => this.#onFrame(ws, data));
    });
    ws.on('error', (error) => this.#o.log.warn(`connection: ${error.message}`));
    let opened = false;
    ws.on('open', () => (opened = true));
    ws.on('close', (code, reason) => {
      if (this.#ws === ws) this.#ws = undefined;
      // The reconnect window counts from the loss of a working connection, not from when it opened.
      if (opened) this.#lastConnected = Date.now();
      this.#idle.reset();
      this.#dropJob();
      if (this.#finished || this.#lingering) return;
      this.#state = WorkerState.connecting;
      this.#o.log.warn(`disconnected (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}); reconnecting`);
      this.#scheduleReconnect();
    });
  }

  #scheduleReconnect(): void {
    const limit = this.#o.reconnectTimeoutMs ?? 120_000;
    if (Date.now() - this.#lastConnected > limit) {
      this.#finish({ code: 1, reason: `no coordinator at ${this.#o.coordinator} for ${Math.round(limit / 1000)} s` });
      return;
    }
    // Capped at 2 s: a restarted coordinator is back in a second or two, and every
    // second a worker sleeps past that is a second the job waits; with full
    // jitter, 1,000 workers at this cap dial it about 1,000 times a second.
    const delay = backoffDelay(this.#attempt++, { capMs: RECONNECT_CAP_MS });
    setTimeout(() => this.#connect(), delay);
  }

  /** True when `frame` was a ping and has been answered. */
  #answerPing(ws: WebSocket, frame: Buffer): boolean {
    try {
      const message = decodeMessage(frame);
      if (message.type !== 'heartbeat') return false;
      if (message.kind === 'ping' && ws.readyState === WebSocket.OPEN) ws.send(encodeMessage({ type: 'heartbeat', kind: 'pong', sentAt: Date.now() }));
      return true;
    } catch {
      return false; // the ordered path reports it
    }
  }

  async #onFrame(ws: WebSocket, frame: Buffer): Promise<void> {
    if (this.#finished || ws !== this.#ws) return;
    try {
      if (chunkKindOf(frame) !== undefined) {
        await this.#weightsChunk(frame);
        return;
      }
      await this.#handle(ws, decodeMessage(frame));
    } catch (error) {
      this.#reportAndClose(ws, error);
    }
  }

  async #handle(ws: WebSocket, message: Message): Promise<void> {
    switch (message.type) {
      case 'welcome':
        await this.#welcome(message);
        return;
      case 'dataChunk': {
        const job = this.#requireJob();
        const started = performance.now();
        await job.thread.addChunk(message);
        const took = performance.now() - started;
        this.#idle.busy(took);
        this.#chunkMs += took;
        return;
      }
      case 'assignment':
        await this.#assignment(ws, message);
        return;
      case 'prefetch':
        this.#requireJob().shared?.prefetch(message.sampleIds);
        return;
      case 'heartbeat':
        return;
      case 'standby':
        this.#o.log.info(`on standby: ${message.reason}`);
        return;
      case 'shutdown':
        this.#o.log.info(`coordinator says: ${message.reason}`);
        if (message.success && this.#o.linger === true) {
          this.#lingering = true;
          this.#state = WorkerState.gone;
          // Nothing else keeps the event loop alive once the socket is closed.
          const keepAlive = setInterval(() => undefined, 60_000);
          void this.exited.then(() => clearInterval(keepAlive));
          this.#o.log.info('job finished; idle until SIGTERM (--linger)');
          ws.close(1000, 'shutdown');
          return;
        }
        this.#finish({ code: message.success ? 0 : 1, reason: message.reason });
        ws.close(1000, 'shutdown');
        return;
      case 'error':
        this.#o.log.error(`coordinator reported ${message.code}: ${message.message}`);
        return;
      default:
        throw new WorkerError('DTRAIN_WORKER_REJECTED', `unexpected ${message.type} from the coordinator`);
    }
  }

  async #welcome(welcome: WelcomeMessage): Promise<void> {
    const thread = this.#requireThread();
    const remote = welcome.shards.filter((shard) => shard.url !== '').length;
    if (remote !== 0 && remote !== welcome.shards.length) {
      throw new WorkerError('DTRAIN_WORKER_REJECTED', 'the welcome mixes the embedded shard with shard processes');
    }
    this.#dropJob();
    await thread.load(welcome);
    const shared = welcome.data.shared === undefined ? undefined : await SharedSource.open(welcome.data.shared, welcome.data.numSamples);
    const total = welcome.shards.at(-1)?.end ?? 0;
    const plan = new ChunkPlan(total, welcome.job.chunkBytes);
    const job: JoinedJob = {
      thread,
      plan,
      receiver: new WeightReceiver(plan),
      sender: new GradientSender(plan, welcome.job.wire ?? 'float32'),
      version: -1,
      handOver: Promise.resolve(),
      maxChunkBytes: chunkFrameBytes(plan.chunkElements),
      shards: undefined,
      shared,
      waiting: undefined,
      chain: Promise.resolve(),
      queued: 0,
    };
    if (remote > 0) {
      // Each shard's weights arrive on its own connection, in that connection's order.
      job.shards = new ShardConnections({
        shards: welcome.shards,
        workerId: welcome.workerId,
        token: this.#o.token ?? '',
        chunkElements: plan.chunkElements,
        log: this.#o.log,
        onChunk: (header, values) => this.#shardChunk(job, header, values),
        onMessage: (frame) => this.#shardMessage(frame),
      });
    }
    this.#job = job;
    this.#workerId = welcome.workerId;
    this.#state = WorkerState.joined;
    this.#idle.reset();
    this.#o.metrics?.setInfo({ workerId: welcome.workerId, job: welcome.job.name });
    this.#o.log.info(`joined job ${welcome.job.name} as worker ${welcome.workerId} at version ${welcome.version} (${plan.chunkCount} chunk(s) of ≤ ${welcome.job.chunkBytes} bytes)`);
    if (shared !== undefined) {
      this.#o.log.info(`reading the training samples myself (shared access) from ${welcome.data.shared?.shards.length ?? 0} shard(s), caching up to ${welcome.data.shared?.cacheBytes ?? 0} bytes`);
    }
  }

  /** Forgets the joined job: its shard connections and the files of its shared source close. */
  #dropJob(): void {
    const job = this.#job;
    this.#job = undefined;
    job?.shards?.close();
    void job?.shared?.close().catch(() => undefined);
  }

  /**
   * A weights chunk goes straight into the thread's shared weights; a whole
   * version is handed to the model. That hand-over is not awaited here: the
   * thread takes requests in order, so the next compute runs after it, and
   * the step saves a round trip between the threads.
   */
  async #weightsChunk(frame: Buffer, job = this.#requireJob()): Promise<void> {
    const chunk = decodeChunk(frame, job.maxChunkBytes);
    if (chunk.kind !== 'weightsChunk') throw new WorkerError('DTRAIN_WORKER_REJECTED', `unexpected ${chunk.kind} from the coordinator`);
    // The thread may still be copying the previous version out of the shared buffer.
    if (!job.thread.weightsWritable) await job.handOver;
    this.#acceptWeights(job, chunk);
  }

  /**
   * A weights chunk from a shard's data link. `values` is the link's
   * receive buffer: taken at once when the weights are writable (the usual
   * case), else copied and queued behind the hand-over in progress.
   */
  #shardChunk(job: JoinedJob, header: ChunkHeader, values: Float32Array): void {
    if (this.#finished || this.#job !== job) return;
    if (job.queued === 0 && job.thread.weightsWritable) {
      this.#acceptWeightsReporting(job, { ...header, values });
      return;
    }
    const chunk = { ...header, values: values.slice() };
    job.queued += 1;
    job.chain = job.chain
      .then(async () => {
        if (!job.thread.weightsWritable) await job.handOver;
        if (this.#job === job) this.#acceptWeightsReporting(job, chunk);
      })
      .finally(() => (job.queued -= 1));
  }

  #acceptWeightsReporting(job: JoinedJob, chunk: Chunk): void {
    try {
      this.#acceptWeights(job, chunk);
    } catch (error) {
      const report = toErrorMessage(error);
      this.#o.log.error(`shard data: ${report.code}: ${report.message}`);
    }
  }

  #shardMessage(frame: Uint8Array): void {
    try {
      const message = decodeMessage(frame);
      if (message.type === 'error') this.#o.log.warn(`a shard reported ${message.code}: ${message.message}`);
    } catch (error) {
      this.#o.log.warn(`shard data: ${toErrorMessage(error).message}`);
    }
  }

  /** Copies a weights chunk into the shared weights; a whole version is handed to the model, and an assignment waiting for it runs. */
  #acceptWeights(job: JoinedJob, chunk: Chunk): void {
    const started = performance.now();
    if (job.receiver.accept(chunk, job.thread.weights)) {
      job.version = chunk.version;
      job.handOver = job.thread.setWeights(chunk.version);
      // A failure surfaces at the next compute, which awaits the hand-over.
      job.handOver.catch(() => undefined);
      const waiting = job.waiting;
      if (waiting?.assignment.version === chunk.version) {
        job.waiting = undefined;
        this.#chain = this.#chain.then(() => this.#onAssignment(waiting.ws, waiting.assignment));
      }
    }
    this.#idle.busy(performance.now() - started);
  }

  /** A failure on the coordinator connection: logged, reported to the coordinator, and the connection closed (it reconnects). */
  #reportAndClose(ws: WebSocket, error: unknown): void {
    const report = toErrorMessage(error);
    this.#o.log.error(`${report.code}: ${report.message}`);
    if (ws.readyState === WebSocket.OPEN) {
      ws.send(encodeMessage(report));
      ws.close(4000, report.code);
    }
  }

  /** Runs an assignment that waited for its weights, reporting a failure as the ordered path does. */
  async #onAssignment(ws: WebSocket, assignment: AssignmentMessage): Promise<void> {
    if (this.#finished || ws !== this.#ws) return;
    try {
      await this.#assignment(ws, assignment);
    } catch (error) {
      this.#reportAndClose(ws, error);
    }
  }

  async #assignment(ws: WebSocket, assignment: AssignmentMessage): Promise<void> {
    const job = this.#requireJob();
    if (assignment.version > job.version && job.shards !== undefined) {
      // Shard processes send the new version on their own connections: it may still be on its way.
      job.waiting = { ws, assignment };
      return;
    }
    if (assignment.version !== job.version) {
      throw new WorkerError('DTRAIN_WORKER_VERSION', `assignment for version ${assignment.version} but the weights received are at ${job.version}`);
    }
    const waited = this.#idle.stop();
    this.#state = WorkerState.training;
    const read = job.shared === undefined ? undefined : await job.shared.read(assignment);
    if (read?.kind === 'unreadable') {
      // Not this worker's batch after all: the coordinator gives it to another and this worker none with that shard.
      this.#state = WorkerState.joined;
      this.#o.log.warn(`cannot read ${read.file}: ${read.message}`);
      if (this.#job === job && ws.readyState === WebSocket.OPEN) ws.send(encodeMessage({ type: 'readFailure', step: assignment.step, file: read.file, message: read.message }));
      this.#idle.start();
      return;
    }
    const computed = read === undefined ? job.thread.compute(assignment) : job.thread.compute(read.assignment, read.samples);
    const [, result] = await Promise.all([job.handOver, computed]);
    this.#state = WorkerState.joined;
    if (this.#job !== job || ws.readyState !== WebSocket.OPEN) return;
    const gradients = job.thread.gradients;
    const sampleCount = assignment.sampleIds.length;
    const finite = result.finite;
    const workerId = this.#workerId ?? 0;
    if (finite) {
      // Two WebSocket fragments of one message: header, then the payload straight from shared memory (zero mask: no copy).
      const sink: ChunkSink =
        job.shards?.send ??
        ((header, payload) => {
          ws.send(header, { binary: true, fin: false });
          ws.send(payload, { binary: true, fin: true });
        });
      job.sender.send({ workerId, step: assignment.step, version: assignment.version, sampleCount }, gradients, sink);
    }
    // Recorded before the push report, which is what gets the batch credited: a worker killed
    // between the two leaves a record without a credit (harmless), never a credit without a record.
    // One line per batch of the plan (a local-SGD round has several).
    let at = 0;
    for (const batch of assignment.batches ?? [{ batchId: assignment.batchId, size: assignment.sampleIds.length }]) {
      this.#record?.append({
        step: assignment.step,
        epoch: assignment.epoch,
        version: assignment.version,
        batchId: batch.batchId,
        workerId,
        sampleIds: Array.from(assignment.sampleIds.subarray(at, at + batch.size)),
        finite,
      });
      at += batch.size;
    }
    ws.send(
      encodeMessage({
        type: 'pushReport',
        workerId,
        step: assignment.step,
        version: assignment.version,
        batchId: assignment.batchId,
        sampleCount,
        loss: result.loss,
        computeSeconds: result.seconds,
        finite,
        ...(result.accuracy === undefined || !finite ? {} : { accuracy: result.accuracy }),
        ...(read === undefined || read.bad.length === 0 ? {} : { badSamples: read.bad }),
        // Taking in the chunks shipped for this batch (or reading its samples), then gathering it.
        dataSeconds: this.#chunkMs / 1000 + (read?.seconds ?? 0) + result.dataSeconds,
      }),
    );
    this.#chunkMs = 0;
    this.#idle.start();
    const metrics = this.#o.metrics;
    if (metrics !== undefined) {
      if (waited !== undefined) metrics.waited(waited);
      metrics.stepComputed({ computeSeconds: result.stepSeconds, dataSeconds: result.dataSeconds + (read?.seconds ?? 0), samples: sampleCount });
      if (job.shared !== undefined) metrics.sampleReads(job.shared.takeReads());
      metrics.tfjsMemory(result.tfjsMemory);
    }
  }

  #fail(reason: string): void {
    this.#o.log.error(`compute thread lost: ${reason}`);
    this.#ws?.close(1011, 'compute thread lost');
    this.#finish({ code: 1, reason });
  }

  #requireThread(): ComputeHost {
    if (this.#thread === undefined) throw new WorkerError('DTRAIN_WORKER_STATE', 'no compute thread');
    return this.#thread;
  }

  #requireJob(): JoinedJob {
    if (this.#job === undefined) throw new WorkerError('DTRAIN_WORKER_STATE', 'message before welcome');
    return this.#job;
  }
}

/** A joined job: the compute thread, the chunk plan, and the data-plane state for it. */
interface JoinedJob {
  readonly thread: ComputeHost;
  readonly plan: ChunkPlan;
  readonly receiver: WeightReceiver;
  readonly sender: GradientSender;
  /** The newest whole weights version received (handed to the model, or being); -1 before the first. */
  version: number;
  /** The hand-over of `version` to the model. */
  handOver: Promise<void>;
  /** Largest chunk frame this job can send. */
  readonly maxChunkBytes: number;
  /** The data-plane connections to shard processes; undefined when the shard is embedded in the coordinator. */
  shards: ShardConnections | undefined;
  /** Shared access: the source this worker reads its samples from; undefined when the coordinator ships them. */
  readonly shared: SharedSource | undefined;
  /** An assignment whose weights version is still arriving from the shards. */
  waiting: { readonly ws: WebSocket; readonly assignment: AssignmentMessage } | undefined;
  /** Shard chunks that could not be taken at once, handled in order. */
  chain: Promise<void>;
  queued: number;
}
