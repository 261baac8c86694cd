import type { ParameterShard } from '@dtrain/parameter-server';
import {
  ProtocolError,
  assertCompatibleHello,
  chunkFrameBytes,
  chunkKindOf,
  decodeChunk,
  decodeMessage,
  encodeMessage,
  toErrorMessage,
  type HelloMessage,
  type Message,
} from '@dtrain/protocol';
import type { JobConfig } from './config/index.js';
import { DataShipper } from './data-shipper.js';
import { JobError } from './errors.js';
import { JobState, JobStateMachine } from './job-state.js';
import type { JobData } from './job-data.js';
import type { Logger } from './logger.js';
import { Membership, WorkerState, type WorkerRecord } from './membership.js';
import type { CoordinatorObserver } from './observer.js';
import { ModelHost } from './model-host.js';
import { Signal } from './signal.js';
import { buildStatus, type StatusReport } from './status.js';
import { TrainingRun, type RunPosition } from './training-run.js';
import { CloseCode, type Connection, type ConnectionHandler } from './transport.js';
import { writeJobCheckpoint, writeJobOutput, type JobSummary } from './output.js';
import { AuditLedger } from './audit-ledger.js';
import { StepTimings } from './step-timings.js';
import { HeartbeatMonitor } from './heartbeat-monitor.js';
import { tokenMatches } from './token-match.js';
import { buildWelcome } from './welcome-message.js';
import { startRun } from './run-start.js';

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
  readonly #ps: ParameterShard;
  readonly #shipper: DataShipper;
  readonly #run: TrainingRun;
  readonly #changed = new Signal();
  readonly #observer: CoordinatorObserver;
  readonly #timings = new StepTimings();
  readonly #ledger: AuditLedger | undefined;
  readonly #startedAt = Date.now();
  readonly #checkpointDir: string;
  readonly #heartbeat: HeartbeatMonitor;
  #peakWorkers = 0;
  #failure: string | undefined;
  #test: { loss: number; accuracy: number | undefined } | undefined;
  #summary: JobSummary | undefined;

  private constructor(o: CoordinatorOptions, host: ModelHost, ps: ParameterShard, from: RunPosition) {
    this.#o = o;
    this.#host = host;
    this.#ps = ps;
    this.#observer = this.#timings.observe(o.observer ?? {});
    this.#checkpointDir = Coordinator.checkpointDirOf(o);
    this.#shipper = new DataShipper(o.data.train, o.config.dataset.chunkSize);
    this.#ledger = o.ledgerPath === undefined ? undefined : new AuditLedger(o.ledgerPath);
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
        ps,
        membership: this.membership,
        shipper: this.#shipper,
        state: this.state,
        membershipChanged: this.#changed,
        observer: this.#observer,
        log: o.log,
        evaluate: () => this.#evaluate(),
        checkpoint: (position) => this.#checkpoint(position),
        evict: (worker, reason) => this.#evict(worker, reason),
        ...(this.#ledger === undefined ? {} : { onBatchApplied: this.#ledger.record.bind(this.#ledger) }),
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
    const host = await ModelHost.create(o.config, o.backend ?? 'auto');
    const { ps, position } = await startRun(host, o.config, Coordinator.checkpointDirOf(o), o.resume !== false, o.log);
    return new Coordinator(o, host, ps, position);
  }


  /** Runs the job to the end. Never throws: a failure is reported in the summary with state 'failed'. */
  async run(): Promise<JobSummary> {
    this.#heartbeat.start();
    try {
      await this.#run.run();
      this.state.to(JobState.writing);
      const test = this.#o.data.test;
      this.#test = test === undefined || test.numSamples === 0 ? undefined : this.#host.evaluate(this.#ps.weights, test);
      this.#summary = await writeJobOutput(this.#o.outDir, this.#summaryInput('done'));
      this.state.to(JobState.done);
    } catch (error) {
      const stopped = error instanceof JobError && error.code === 'DTRAIN_JOB_STOPPED';
      this.#failure = error instanceof Error ? error.message : String(error);
      if (stopped) this.#o.log.warn(`job stopped at step ${this.#run.step}; a restart with the same checkpoint folder resumes it`);
      else this.#o.log.error(`job failed: ${this.#failure}`);
      // At the step boundary where the loop halted, so a restart loses nothing committed.
      await this.#checkpoint(this.#run.position()).catch((e: unknown) => this.#o.log.error(`final checkpoint failed: ${String(e)}`));
      this.state.to(stopped ? JobState.stopped : JobState.failed);
      this.#summary = await writeJobOutput(this.#o.outDir, this.#summaryInput(stopped ? 'stopped' : 'failed'), { modelToo: false });
    } finally {
      this.#heartbeat.stop();
      await this.#ledger?.close();
      this.#shutdownWorkers();
    }
    return this.#summary;
  }

  /**
   * Stops at the next step boundary (SIGTERM): the open step is abandoned
   * (its batches stay pending), a checkpoint is written, and `run` resolves
   * with state 'stopped'. Workers are not told the job is over.
   */
  stop(): void {
    this.#run.stop();
  }

  /**
   * The largest frame a worker can legitimately send: one gradient chunk,
   * or a control message (1 MiB is far more than any needs). Anything larger
   * is refused before it is buffered (the transport's frame limit) and by
   * the decoder.
   */
  get maxInboundBytes(): number {
    const plan = this.#ps.plan;
    return Math.max(chunkFrameBytes(Math.min(plan.chunkElements, plan.totalSize)), CONTROL_MESSAGE_MAX_BYTES);
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
      version: this.#ps.version,
      workers: this.membership.all(),
      startedAt: this.#startedAt,
      failure: this.#failure,
      rejected: this.#run.rejectedCounts(),
    });
  }

  // ---- ConnectionHandler ----

  onOpen(connection: Connection): void {
    const worker = this.membership.add(connection);
    this.#o.log.info(`connection ${connection.id} from ${connection.remoteAddress} (worker ${worker.id} pending hello)`);
  }

  onMessage(connection: Connection, frame: Uint8Array): void {
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
    const worker = this.membership.remove(connection);
    if (worker === undefined) return;
    this.#o.log.info(`worker ${worker.id} disconnected (${code}${reason === '' ? '' : ` ${reason}`})`);
    this.#run.onWorkerGone(worker);
    this.#promoteStandby();
    this.#membershipChanged();
  }

  // ---- internals ----

  #dispatch(worker: WorkerRecord, message: Message): void {
    if (worker.state === WorkerState.connecting && message.type !== 'hello') {
      throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `expected hello first, got ${message.type}`);
    }
    switch (message.type) {
      case 'hello':
        return this.#hello(worker, message);
      case 'pushReport':
        return this.#run.onPushReport(worker, message);
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
    if (this.membership.active().length >= this.#o.config.cluster.maxWorkers) {
      record.state = WorkerState.standby;
      this.#send(record.connection, encodeMessage({ type: 'standby', reason: `cluster.maxWorkers=${this.#o.config.cluster.maxWorkers} reached` }));
      this.#o.log.info(`worker ${record.id} on standby (${hello.capabilities.host}, ${hello.capabilities.backend})`);
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
      version: this.#ps.version,
      shards: [{ start: this.#ps.range.start, end: this.#ps.range.end, url: '' }],
      train: this.#o.data.train,
      chunkSize: this.#shipper.chunkSize,
    });
    this.#send(worker.connection, encodeMessage(welcome));
    worker.state = WorkerState.joined;
    this.#run.sendWeights(worker);
    const caps = worker.capabilities;
    this.#o.log.info(`worker ${worker.id} joined (${caps?.host ?? '?'}, backend ${caps?.backend ?? '?'}) at version ${this.#ps.version}`);
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
    worker.connection.close(CloseCode.evicted, reason.slice(0, 120));
    // The transport reports the close asynchronously; forget the worker now so the step loop does not wait for it.
    this.onClose(worker.connection, CloseCode.evicted, 'evicted');
  }

  async #evaluate(): Promise<{ loss: number; accuracy: number | undefined } | undefined> {
    const validation = this.#o.data.validation;
    if (validation.numSamples === 0) return undefined;
    return this.#host.evaluate(this.#ps.weights, validation);
  }

  async #checkpoint(position: RunPosition): Promise<void> {
    const dir = await writeJobCheckpoint(this.#checkpointDir, {
      host: this.#host,
      ps: this.#ps,
      config: this.#o.config,
      position,
      keep: this.#o.config.checkpoint.keep,
    });
    this.#observer.checkpointWritten?.(position.step, dir);
  }

  #summaryInput(state: JobSummary['state']): Parameters<typeof writeJobOutput>[1] {
    const backends = new Set<string>();
    for (const w of this.membership.all()) if (w.capabilities !== undefined) backends.add(w.capabilities.backend);
    return {
      config: this.#o.config,
      state,
      failure: this.#failure,
      host: this.#host,
      weights: this.#ps.weights,
      stats: this.#o.data.stats,
      featureShape: this.#o.data.train.featureShape,
      version: this.#ps.version,
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
