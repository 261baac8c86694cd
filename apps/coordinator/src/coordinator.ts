import { ParameterShard, type OptimizerConfig } from '@dtrain/parameter-server';
import {
  ProtocolError,
  assertCompatibleHello,
  chunkFrameBytes,
  chunkKindOf,
  decodeChunk,
  decodeMessage,
  encodeMessage,
  toErrorMessage,
  tokenMatches,
  type HelloMessage,
  type Message,
  type ShardHelloMessage,
} from '@dtrain/protocol';
import type { JobConfig } from './config/index.js';
import { checkLocalStepsFit, serverOptimizer } from './config/index.js';
import { DataShipper } from './data-shipper.js';
import { JobError, RequestRefusedError, ShardLostError } from './errors.js';
import { JobState, JobStateMachine } from './job-state.js';
import { evaluateData, type EvalData, type Evaluation, type JobData } from './job-data.js';
import type { Logger } from './logger.js';
import { Membership, WorkerState, type WorkerRecord } from './membership.js';
import type { CoordinatorObserver } from './observer.js';
import { ModelHost } from './model-host.js';
import { Signal } from './signal.js';
import { buildStatus, type StatusReport } from './status.js';
import { TrainingRun, type RunPosition } from './training-run.js';
import { CloseCode, type Connection, type ConnectionHandler } from './transport.js';
import { writeHistoryFile, writeJobCheckpoint, writeJobOutput, type JobSummary } from './output.js';
import { AuditLedger } from './audit-ledger.js';
import { StepTimings } from './step-timings.js';
import { HeartbeatMonitor } from './heartbeat-monitor.js';

import { buildWelcome } from './welcome-message.js';
import { readValidCheckpoint, startRun, type StartState } from './run-start.js';
import { assertSameJob } from './checkpoint-checks.js';
import { EmbeddedShard } from './embedded-shard.js';
import { RemoteShards } from './remote-shards.js';
import type { ShardSet } from './shard-set.js';
import type { RunHistory } from './run-history.js';

export interface CoordinatorOptions {
  readonly config: JobConfig;
  readonly data: JobData;
  /** Folder for `model/` and `summary.json`. */
  readonly outDir: string;
  /** Folder for checkpoints; default `<outDir>/checkpoints`. */
  readonly checkpointDir?: string;
  /** Shared secret workers must present; '' or undefined accepts any worker. */
  readonly token?: string;
  /** tfjs backend for the coordinator's own evaluation; default 'auto'. */
  readonly backend?: string;
  readonly log: Logger;
  readonly observer?: CoordinatorObserver;
  /** When set, every applied batch is appended to this JSON-lines file (sample-accounting audits). */
  readonly ledgerPath?: string;
  /** Continue from the newest checkpoint in the checkpoint folder when there is one; default true. */
  readonly resume?: boolean;
  /** The run's history (also one of the observers): written as `<outDir>/history.json` when the job ends. */
  readonly history?: RunHistory;
  /**
   * The flat weights (the model's weight layout, `layout.totalSize` float32
   * values) a fresh job starts from instead of the model's own initialisers;
   * ignored when the job resumes from a checkpoint. Copied. Default: the
   * model's initial weights.
   */
  readonly initialWeights?: Float32Array;
}

/** Largest control (non-chunk) frame accepted from a worker. */
const CONTROL_MESSAGE_MAX_BYTES = 1 << 20;

/**
 * The coordinator: owns the job, the parameter server and the membership,
 * and speaks the protocol over whatever transport calls its ConnectionHandler
 * methods. One instance runs one job.
 */
export class Coordinator implements ConnectionHandler {
  readonly state = new JobStateMachine();
  readonly membership = new Membership();
  readonly #o: CoordinatorOptions;
  readonly #host: ModelHost;
  readonly #shards: ShardSet;
  /** The shard processes, when cluster.psShards ≥ 1. */
  readonly #remote: RemoteShards | undefined;
  /** The state the shard processes are first set up with; dropped once they are. */
  #startState: StartState | undefined;
  /** True when the job resumed from a checkpoint (else one is written at step 0, for a rollback to find). */
  readonly #resumed: boolean;
  /** Workers that said hello before every shard process was set up: welcomed once they are. */
  readonly #awaitingShards = new Set<WorkerRecord>();
  /** Ships training chunks; undefined with shared access (workers read their own samples). */
  readonly #shipper: DataShipper | undefined;
  readonly #run: TrainingRun;
  readonly #changed = new Signal();
  readonly #observer: CoordinatorObserver;
  readonly #timings = new StepTimings();
  readonly #ledger: AuditLedger | undefined;
  readonly #startedAt = Date.now();
  readonly #checkpointDir: string;
  readonly #heartbeat: HeartbeatMonitor;
  #peakWorkers = 0;
  #stopping = false;
  #failure: string | undefined;
  #test: { loss: number; accuracy: number | undefined } | undefined;
  #summary: JobSummary | undefined;
  #finalWeights: Float32Array | undefined;

  private constructor(o: CoordinatorOptions, host: ModelHost, start: StartState, from: RunPosition, resumed: boolean) {
    this.#o = o;
    this.#host = host;
    this.#resumed = resumed;
    const cluster = o.config.cluster;
    if (cluster.psShards === 0) {
      this.#remote = undefined;
      this.#shards = new EmbeddedShard(
        new ParameterShard({
          layout: host.layout.entries,
          range: { start: 0, end: host.layout.totalSize },
          chunkBytes: cluster.chunkBytes,
          weights: start.weights,
          optimizer: serverOptimizer(o.config.training),
          version: start.version,
          ...(start.optimizerState === undefined ? {} : { optimizerState: start.optimizerState }),
          wireWeights: cluster.wireWeights,
        }),
      );
    } else {
      this.#startState = start;
      this.#remote = new RemoteShards({
        count: cluster.psShards,
        layout: host.layout.entries,
        chunkBytes: cluster.chunkBytes,
        wireWeights: cluster.wireWeights,
        optimizer: serverOptimizer(o.config.training),
        token: o.token,
        heartbeatIntervalMs: cluster.heartbeatIntervalMs,
        heartbeatTimeoutMs: cluster.heartbeatTimeoutMs,
        log: o.log,
        onLost: (error) => this.#shardLost(error),
        onPush: (workerId) => this.#run.onShardPush(workerId),
        bytes: (direction, bytes) => this.#observer.bytes?.(direction, bytes),
      });
      this.#shards = this.#remote;
    }
    this.#observer = this.#timings.observe(o.observer ?? {});
    this.#checkpointDir = Coordinator.checkpointDirOf(o);
    this.#shipper = o.data.shared === undefined ? new DataShipper(o.data.train, o.config.dataset.chunkSize) : undefined;
    this.#ledger = o.ledgerPath === undefined ? undefined : new AuditLedger(o.ledgerPath);
    if (resumed) this.#ledger?.resumed(from.step, from.epoch);
    this.state.onChange((_from, to) => this.#observer.jobState?.(to));
    this.#heartbeat = new HeartbeatMonitor({
      intervalMs: o.config.cluster.heartbeatIntervalMs,
      timeoutMs: o.config.cluster.heartbeatTimeoutMs,
      membership: this.membership,
      ping: (worker, sentAt) => this.#send(worker.connection, encodeMessage({ type: 'heartbeat', kind: 'ping', sentAt })),
      evict: (worker, reason) => this.#evict(worker, reason),
    });
    this.#run = new TrainingRun(
      {
        config: o.config,
        numTrainSamples: o.data.train.numSamples,
        shards: this.#shards,
        membership: this.membership,
        shipper: this.#shipper,
        shared: o.data.shared,
        state: this.state,
        membershipChanged: this.#changed,
        observer: this.#observer,
        log: o.log,
        evaluate: () => this.#evaluate(),
        checkpoint: (position) => this.#checkpoint(position),
        evict: (worker, reason) => this.#evict(worker, reason),
        ...(this.#ledger === undefined
          ? {}
          : { onBatchApplied: this.#ledger.record.bind(this.#ledger), onRolledBack: this.#ledger.rolledBack.bind(this.#ledger), onBatchesSkipped: this.#ledger.skipped.bind(this.#ledger) }),
        ...(this.#remote === undefined ? {} : { restore: (reason: string) => this.#restoreShards(reason) }),
      },
      from,
    );
  }

  /** The folder checkpoints go to. */
  static checkpointDirOf(o: Pick<CoordinatorOptions, 'checkpointDir' | 'config' | 'outDir'>): string {
    return o.checkpointDir ?? o.config.checkpoint.dir ?? `${o.outDir}/checkpoints`;
  }

  /** Builds the model and the parameter server; resumes from the newest checkpoint in the checkpoint folder if there is one. */
  static async create(o: CoordinatorOptions): Promise<Coordinator> {
    checkLocalStepsFit(o.config.training, o.data.train.numSamples);
    const t = o.config.training;
    if (t.localSteps > 1) {
      o.log.info(
        `local SGD: each worker takes ${t.localSteps} steps of ${t.optimizer.name} (learning rate ${t.optimizer.learningRate}, inner state: ${t.innerState}) per round, ` +
          `then the parameter server applies ${describeOptimizer(t.outerOptimizer)} to the averaged pseudo-gradients; an epoch's last round is shorter when fewer batches are left`,
      );
    }
    const host = await ModelHost.create(o.config, o.backend ?? 'auto');
    const { state, position, resumed } = await startRun(host, o.config, o.data.train.numSamples, Coordinator.checkpointDirOf(o), o.resume !== false, o.log, o.initialWeights);
    return new Coordinator(o, host, state, position, resumed);
  }

  /**
   * Shard processes: waits for all of them, sets them up with the start
   * state, and (for a fresh job) writes a checkpoint at step 0, so a shard
   * lost before the first checkpoint has a state to roll back to.
   */
  async #startShards(remote: RemoteShards): Promise<void> {
    const cluster = this.#o.config.cluster;
    this.#o.log.info(`waiting for ${cluster.psShards} parameter-server shard(s) (dtrain ps)`);
    const start = this.#startState as StartState;
    for (;;) {
      await remote.waitForAll(cluster.waitTimeoutMs, 'start', () => this.#stopping);
      try {
        await remote.setup(start, start.version);
        break;
      } catch (error) {
        // A shard that dies during its setup is simply waited for again.
        if (!(error instanceof ShardLostError)) throw error;
        this.#o.log.warn(`${error.message} during setup; waiting for it again`);
      }
    }
    this.#startState = undefined;
    if (!this.#resumed) await this.#checkpoint(this.#run.position());
    this.#welcomeAwaiting();
  }

  /** After a shard was lost: every shard back, all set up from the newest checkpoint; its run position. */
  async #restoreShards(reason: string): Promise<RunPosition> {
    const remote = this.#remote as RemoteShards;
    const cluster = this.#o.config.cluster;
    await remote.waitForAll(cluster.waitTimeoutMs, reason, () => this.#stopping);
    const found = await readValidCheckpoint(this.#checkpointDir, this.#o.log);
    if (found === undefined) throw new JobError('DTRAIN_JOB_SHARD_LOST', `${reason}, and no checkpoint in ${this.#checkpointDir} to roll back to`);
    const { checkpoint: saved, position } = found;
    assertSameJob(this.#checkpointDir, saved, this.#o.config, this.#host, this.#o.data.train.numSamples);
    // Versions keep rising, so no worker mistakes the restored weights for ones it already has.
    await remote.setup({ weights: saved.weights, optimizerState: saved.optimizer.state, version: saved.version }, Math.max(remote.version, saved.version) + 1);
    this.#welcomeAwaiting();
    return position;
  }

  #shardLost(error: ShardLostError): void {
    this.#run.shardLost(error);
  }

  #welcomeAwaiting(): void {
    const waiting = [...this.#awaitingShards];
    this.#awaitingShards.clear();
    for (const worker of waiting) if (this.membership.byId(worker.id) === worker && worker.state === WorkerState.connecting) this.#admit(worker);
  }


  /** Runs the job to the end. Never throws: a failure is reported in the summary with state 'failed'. */
  async run(): Promise<JobSummary> {
    this.#heartbeat.start();
    try {
      if (this.#remote !== undefined) await this.#startShards(this.#remote);
      await this.#run.run();
      this.state.to(JobState.writing);
      const test = this.#o.data.test;
      const weights = await this.#shards.weights();
      // Not copied: nothing commits after run ends (a 92M-parameter model would hold a second 368 MB).
      this.#finalWeights = weights;
      this.#test = test === undefined || test.numSamples === 0 ? undefined : await this.#evaluateOn(weights, test);
      this.#summary = await writeJobOutput(this.#o.outDir, this.#summaryInput('done', weights));
      this.state.to(JobState.done);
    } catch (error) {
      const stopped = error instanceof JobError && error.code === 'DTRAIN_JOB_STOPPED';
      // A dtrain error's code leads its line (DTRAIN_JOB_NON_FINITE: step 6: …), for people and scripts alike.
      this.#failure = error instanceof JobError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
      if (stopped) this.#o.log.warn(`job stopped at step ${this.#run.step}; a restart with the same checkpoint folder resumes it`);
      else this.#o.log.error(`job failed: ${this.#failure}`);
      // At the step boundary where the loop halted, so a restart loses nothing committed (impossible with a shard missing).
      await this.#checkpoint(this.#run.position()).catch((e: unknown) => this.#o.log.error(`final checkpoint failed: ${e instanceof Error ? e.message : String(e)}`));
      // Before the shard processes go (below): with one missing there are no whole weights to read.
      this.#finalWeights = await this.#shards.weights().catch(() => undefined);
      this.state.to(stopped ? JobState.stopped : JobState.failed);
      this.#summary = await writeJobOutput(this.#o.outDir, this.#summaryInput(stopped ? 'stopped' : 'failed', new Float32Array(0)), { modelToo: false });
    } finally {
      this.#run.dropCheckpointRequests(`the job is ${this.state.state}`);
      if (this.#o.history !== undefined) {
        await writeHistoryFile(this.#o.outDir, this.#o.history.toJSON()).catch((e: unknown) => this.#o.log.error(`history.json: ${e instanceof Error ? e.message : String(e)}`));
      }
      this.#heartbeat.stop();
      this.#remote?.dispose();
      await this.#ledger?.close();
      await this.#o.data.shared?.close().catch(() => undefined);
      this.#shutdownWorkers();
      // Nothing evaluates after the end (the welcome's topology and layout are plain data).
      this.#host.dispose();
    }
    return this.#summary;
  }

  /**
   * The parameter server's flat weights when `run` ended (in the model's
   * weight layout; the shard's own array, not a copy: read, do not write): the trained weights when done, those of the
   * last committed step when stopped or failed. Undefined before `run` ends,
   * and when they could not be read (a shard process missing at the end).
   */
  finalWeights(): Float32Array | undefined {
    return this.#finalWeights;
  }

  /**
   * Stops at the next step boundary (SIGTERM): the open step is abandoned
   * (its batches stay pending), a checkpoint is written, and `run` resolves
   * with state 'stopped'. Workers are not told the job is over.
   */
  stop(): void {
    this.#stopping = true;
    this.#run.stop();
    this.#remote?.wake();
  }

  /**
   * Closes worker `id`'s connection as a straggler or heartbeat eviction
   * does (the worker reconnects and rejoins by itself). False when no
   * connected worker has that id.
   */
  evictWorker(id: number, reason: string): boolean {
    const worker = this.membership.byId(id);
    if (worker === undefined || worker.state === WorkerState.connecting) return false;
    this.#evict(worker, reason);
    return true;
  }

  /**
   * Writes a checkpoint at the next step boundary (after the open step
   * commits) and resolves with its step and folder. Rejects with a
   * RequestRefusedError when the job is not running.
   */
  checkpointNow(): Promise<{ step: number; dir: string }> {
    const state = this.state.state;
    if (this.#stopping || (state !== JobState.running && state !== JobState.evaluating && state !== JobState.checkpointing)) {
      return Promise.reject(new RequestRefusedError(`the job is ${this.#stopping ? 'stopping' : state}, not running`));
    }
    return this.#run.requestCheckpoint();
  }

  /**
   * The largest frame a worker can legitimately send: one gradient chunk,
   * or a control message (1 MiB is far more than any needs). Anything larger
   * is refused before it is buffered (the transport's frame limit) and by
   * the decoder.
   */
  get maxInboundBytes(): number {
    const plan = this.#shards.plan;
    return Math.max(chunkFrameBytes(Math.min(plan.chunkElements, plan.totalSize)), CONTROL_MESSAGE_MAX_BYTES, this.#remote?.maxInboundBytes ?? 0);
  }

  /** The tfjs backend the coordinator evaluates with (for dtrain_info). */
  get backend(): string {
    return this.#host.backend;
  }

  /** True while the coordinator accepts workers (for /readyz). */
  get ready(): boolean {
    return !this.state.finished;
  }

  status(): StatusReport {
    return buildStatus({
      config: this.#o.config,
      state: this.state.state,
      run: this.#run,
      version: this.#shards.version,
      workers: this.membership.all(),
      startedAt: this.#startedAt,
      failure: this.#failure,
      rejected: this.#run.rejectedCounts(),
      shards: this.#shards.descriptors().map((d, index) => ({
        index,
        state: !this.#shards.remote ? 'embedded' : d.url === '' ? 'missing' : 'connected',
        url: d.url === '' ? null : d.url,
        start: d.start,
        end: d.end,
      })),
    });
  }

  // ---- ConnectionHandler ----

  onOpen(connection: Connection): void {
    const worker = this.membership.add(connection);
    this.#o.log.info(`connection ${connection.id} from ${connection.remoteAddress} (worker ${worker.id} pending hello)`);
  }

  onMessage(connection: Connection, frame: Uint8Array): void {
    if (this.#remote?.owns(connection) === true) return this.#remote.onFrame(connection, frame);
    const worker = this.membership.byConnection(connection);
    if (worker === undefined) return;
    worker.lastSeen = Date.now();
    this.#observer.bytes?.('in', frame.byteLength);
    let message: Message;
    try {
      if (chunkKindOf(frame) !== undefined) {
        this.#chunk(worker, frame);
        return;
      }
      message = decodeMessage(frame, { maxBytes: CONTROL_MESSAGE_MAX_BYTES });
      this.#dispatch(worker, message);
    } catch (error) {
      this.#reject(worker, error);
    }
  }

  onClose(connection: Connection, code: number, reason: string): void {
    if (this.#remote?.owns(connection) === true) {
      const line = `a parameter-server shard disconnected (${code}${reason === '' ? '' : ` ${reason}`})`;
      if (this.state.finished) this.#o.log.info(line);
      else this.#o.log.warn(line);
      this.#remote.detach(connection);
      return;
    }
    const worker = this.membership.remove(connection);
    if (worker !== undefined) this.#awaitingShards.delete(worker);
    if (worker === undefined) return;
    const why = `${code}${reason === '' ? '' : ` ${reason}`}`;
    this.#o.log.info(`worker ${worker.id} disconnected (${why})`);
    // An eviction was reported as one already.
    if (code !== CloseCode.evicted && worker.state !== WorkerState.connecting) this.#observer.workerEvent?.('left', worker.id, `disconnected (${why})`);
    this.#run.onWorkerGone(worker);
    this.#promoteStandby();
    this.#membershipChanged();
  }

  // ---- internals ----

  #dispatch(worker: WorkerRecord, message: Message): void {
    if (worker.state === WorkerState.connecting && message.type === 'shardHello') return this.#shardHello(worker, message);
    // A worker whose hello waits for the shards is still connecting, and keeps its heartbeat going meanwhile.
    const waitingHeartbeat = message.type === 'heartbeat' && this.#awaitingShards.has(worker);
    if (worker.state === WorkerState.connecting && message.type !== 'hello' && !waitingHeartbeat) {
      throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `expected hello first, got ${message.type}`);
    }
    switch (message.type) {
      case 'hello':
        return this.#hello(worker, message);
      case 'pushReport':
        return this.#run.onPushReport(worker, message);
      case 'readFailure':
        return this.#run.onReadFailure(worker, message);
      case 'heartbeat':
        if (message.kind === 'ping') this.#send(worker.connection, encodeMessage({ type: 'heartbeat', kind: 'pong', sentAt: Date.now() }));
        return;
      case 'leave':
        this.#o.log.info(`worker ${worker.id} leaving: ${message.reason}`);
        worker.state = WorkerState.draining;
        this.#run.onWorkerGone(worker);
        this.#membershipChanged();
        return;
      case 'error':
        this.#o.log.warn(`worker ${worker.id} reported ${message.code}: ${message.message}`);
        return;
      default:
        throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `a worker may not send ${message.type}`);
    }
  }

  /** A data-plane frame: only a joined worker's gradient chunks belong here. */
  #chunk(worker: WorkerRecord, frame: Uint8Array): void {
    const chunk = decodeChunk(frame, this.maxInboundBytes);
    if (chunk.kind !== 'gradientChunk' || worker.state === WorkerState.connecting || worker.state === WorkerState.standby) {
      throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `a ${worker.state} worker may not send ${chunk.kind}`);
    }
    this.#run.onGradientChunk(worker, chunk);
  }

  #hello(worker: WorkerRecord, hello: HelloMessage): void {
    if (worker.state !== WorkerState.connecting) throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', 'hello sent twice');
    assertCompatibleHello(hello);
    if (!tokenMatches(this.#o.token, hello.token)) {
      this.#send(worker.connection, encodeMessage({ type: 'error', code: 'DTRAIN_AUTH', message: 'wrong or missing token' }));
      worker.connection.close(CloseCode.unauthorized, 'unauthorized');
      return;
    }
    const record = hello.previousWorkerId === undefined ? worker : this.membership.reclaimId(worker, hello.previousWorkerId);
    record.capabilities = hello.capabilities;
    if (this.state.state === JobState.stopped) {
      record.connection.close(CloseCode.goingAway, 'coordinator stopping');
      return;
    }
    if (this.state.finished) {
      this.#send(record.connection, encodeMessage({ type: 'shutdown', reason: 'job already finished', success: this.state.state === JobState.done }));
      record.connection.close(CloseCode.jobFinished, 'job finished');
      return;
    }
    if (this.#remote !== undefined && !this.#remote.inService) {
      // The welcome names the shards' URLs and ranges: it waits until every shard is up.
      this.#awaitingShards.add(record);
      this.#o.log.info(`worker ${record.id} waits for the parameter-server shards (${this.#remote.connected} of ${this.#o.config.cluster.psShards} connected)`);
      return;
    }
    this.#admit(record);
  }

  /** A connection whose first message says it is a shard process: handed to the shards. */
  #shardHello(worker: WorkerRecord, hello: ShardHelloMessage): void {
    this.membership.remove(worker.connection);
    if (this.#remote === undefined) {
      const message = 'this job runs its parameter server inside the coordinator (cluster.psShards: 0); no dtrain ps is needed';
      this.#send(worker.connection, encodeMessage({ type: 'error', code: 'DTRAIN_SHARD_REJECTED', message }));
      worker.connection.close(CloseCode.rejected, 'cluster.psShards is 0');
      return;
    }
    this.#remote.attach(worker.connection, hello);
  }

  /** Welcome, or standby above cluster.maxWorkers. */
  #admit(record: WorkerRecord): void {
    if (this.membership.active().length >= this.#o.config.cluster.maxWorkers) {
      record.state = WorkerState.standby;
      this.#send(record.connection, encodeMessage({ type: 'standby', reason: `cluster.maxWorkers=${this.#o.config.cluster.maxWorkers} reached` }));
      this.#o.log.info(`worker ${record.id} on standby (${record.capabilities?.host ?? "?"}, ${record.capabilities?.backend ?? "?"})`);
      return;
    }
    this.#welcome(record);
  }

  #welcome(worker: WorkerRecord): void {
    // The weights follow the welcome as chunk frames, like a broadcast.
    const welcome = buildWelcome({
      workerId: worker.id,
      config: this.#o.config,
      topology: this.#host.topology,
      layout: this.#host.layout.entries,
      version: this.#shards.version,
      shards: this.#shards.descriptors(),
      train: this.#o.data.train,
      chunkSize: this.#o.config.dataset.chunkSize,
      shared: this.#o.data.shared?.descriptor,
    });
    this.#send(worker.connection, encodeMessage(welcome));
    worker.state = WorkerState.joined;
    this.#run.sendWeights(worker);
    const caps = worker.capabilities;
    this.#o.log.info(`worker ${worker.id} joined (${caps?.host ?? '?'}, backend ${caps?.backend ?? '?'}) at version ${this.#shards.version}`);
    this.#observer.workerEvent?.('joined', worker.id, `${caps?.host ?? '?'}, backend ${caps?.backend ?? '?'}`);
    this.#membershipChanged();
  }

  #promoteStandby(): void {
    const max = this.#o.config.cluster.maxWorkers;
    for (const worker of this.membership.all()) {
      if (this.membership.active().length >= max) return;
      if (worker.state === WorkerState.standby) this.#welcome(worker);
    }
  }

  #membershipChanged(): void {
    const active = this.membership.active().length;
    if (active > this.#peakWorkers) this.#peakWorkers = active;
    this.#observer.workerStates?.(this.membership.countByState());
    this.#changed.notify();
  }

  /**
   * Sends a frame of the coordinator's own (welcome, heartbeat, standby,
   * shutdown, error) and counts it as outbound traffic. Assignments, data
   * chunks and weights are sent and counted by the step loop.
   */
  #send(connection: Connection, frame: Uint8Array): void {
    connection.send(frame);
    this.#observer.bytes?.('out', frame.byteLength);
  }

  /** A protocol violation closes that one connection; the job goes on. */
  #reject(worker: WorkerRecord, error: unknown): void {
    const message = toErrorMessage(error);
    this.#o.log.warn(`worker ${worker.id}: ${message.code}: ${message.message}; closing its connection`);
    this.#run.countRejected('malformed', worker.id);
    this.#send(worker.connection, encodeMessage(message));
    worker.connection.close(CloseCode.protocolError, message.code);
  }

  #evict(worker: WorkerRecord, reason: string): void {
    this.#o.log.warn(`evicting worker ${worker.id}: ${reason}`);
    this.#observer.workerEvent?.('evicted', worker.id, reason);
    worker.connection.close(CloseCode.evicted, reason.slice(0, 120));
    // The transport reports the close asynchronously; forget the worker now so the step loop does not wait for it.
    this.onClose(worker.connection, CloseCode.evicted, 'evicted');
  }

  async #evaluate(): Promise<{ loss: number; accuracy: number | undefined } | undefined> {
    const validation = this.#o.data.validation;
    if (validation.numSamples === 0) return undefined;
    return this.#evaluateOn(await this.#shards.weights(), validation);
  }

  /** Loss and accuracy on `data` (held, or read a block at a time under shared access). */
  #evaluateOn(weights: Float32Array, data: EvalData): Promise<Evaluation> {
    return evaluateData(data, (block) => this.#host.evaluate(weights, block));
  }

  async #checkpoint(position: RunPosition): Promise<string> {
    const dir = await writeJobCheckpoint(this.#checkpointDir, {
      host: this.#host,
      state: await this.#shards.state(),
      // A snapshot of shard processes is a private copy; the embedded shard's arrays are live.
      owned: this.#shards.remote,
      config: this.#o.config,
      position,
      keep: this.#o.config.checkpoint.keep,
    });
    this.#observer.checkpointWritten?.(position.step, dir);
    return dir;
  }

  #summaryInput(state: JobSummary['state'], weights: Float32Array): Parameters<typeof writeJobOutput>[1] {
    const backends = new Set<string>();
    for (const w of this.membership.all()) if (w.capabilities !== undefined) backends.add(w.capabilities.backend);
    return {
      config: this.#o.config,
      state,
      failure: this.#failure,
      host: this.#host,
      weights,
      stats: this.#o.data.stats,
      featureShape: this.#o.data.train.featureShape,
      version: this.#shards.version,
      run: this.#run,
      wallSeconds: (Date.now() - this.#startedAt) / 1000,
      peakWorkers: this.#peakWorkers,
      backend: [...backends].join(',') || this.#host.backend,
      rejected: this.#run.rejectedCounts(),
      timing: this.#timings.summary(),
      test: this.#test,
    };
  }

  #shutdownWorkers(): void {
    this.#remote?.shutdown(this.state.state === JobState.done ? 'training complete' : (this.#failure ?? 'failed'), this.state.state === JobState.done, this.state.state === JobState.stopped);
    if (this.state.state === JobState.stopped) {
      // Not the end of the job: workers keep their process and reconnect to the restarted coordinator.
      for (const worker of this.membership.all()) worker.connection.close(CloseCode.goingAway, 'coordinator stopping');
      return;
    }
    const success = this.state.state === JobState.done;
    const frame = encodeMessage({ type: 'shutdown', reason: success ? 'training complete' : (this.#failure ?? 'failed'), success });
    for (const worker of this.membership.all()) {
      this.#send(worker.connection, frame);
      worker.connection.close(CloseCode.jobFinished, success ? 'done' : 'failed');
    }
  }
}

/** `momentum 0.9 (Nesterov), learning rate 0.7`: an optimizer in a log line. */
function describeOptimizer(o: OptimizerConfig): string {
  const extra = o.name === 'momentum' ? ` ${o.momentum ?? 0.9}${o.useNesterov === true ? ' (Nesterov)' : ''}` : '';
  return `${o.name}${extra}, learning rate ${o.learningRate}`;
}
