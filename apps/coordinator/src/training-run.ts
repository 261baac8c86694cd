import { BatchQueue, type Batch, type PlanCursor } from '@dtrain/data';
import type { WeightsChunkParts } from '@dtrain/parameter-server';
import { encodeMessage, type Chunk, type PushReportMessage, type ReadFailureMessage } from '@dtrain/protocol';
import type { JobConfig } from './config/index.js';
import type { DataShipper } from './data-shipper.js';
import type { SharedTraining } from './shared-data.js';
import { SharedReads } from './shared-reads.js';
import { JobError, ShardLostError } from './errors.js';
import { JobState, type JobStateMachine } from './job-state.js';
import type { Logger } from './logger.js';
import { WorkerState, type Membership, type WorkerRecord } from './membership.js';
import type { CoordinatorObserver, EpochRecord, RejectReason } from './observer.js';
import type { Signal } from './signal.js';
import { StepRound, batchesOf, localRoundWork, sampleWeightedAccuracy, type RoundEnd, type RoundWork, type StepAccuracy } from './step-round.js';
import { StragglerPolicy } from './straggler-policy.js';
import { PushAdmission } from './push-admission.js';
import type { ShardSet } from './shard-set.js';

/** Where a run starts: fresh, or from a checkpoint. */

export interface RunPosition {
  readonly epoch: number;
  readonly step: number;
  readonly samples: number;
  readonly history: readonly EpochRecord[];
  /** The unfinished epoch's batch plan, when resuming mid-epoch (null in a checkpoint taken between epochs). */
  readonly cursor: PlanCursor | null | undefined;
}

export interface TrainingRunDeps {
  readonly config: JobConfig;
  readonly numTrainSamples: number;
  /** The parameter-server shards: one inside the coordinator, or shard processes. */
  readonly shards: ShardSet;
  readonly membership: Membership;
  /** Ships the training samples in chunks; undefined with shared access. */
  readonly shipper: DataShipper | undefined;
  /** Shared access: workers read their own samples from this source. */
  readonly shared?: SharedTraining | undefined;
  readonly state: JobStateMachine;
  readonly membershipChanged: Signal;
  readonly observer: CoordinatorObserver;
  readonly log: Logger;
  /** Validation metrics for the current weights; undefined without a validation split. */
  readonly evaluate: () => Promise<{ loss: number; accuracy: number | undefined } | undefined>;
  /** Writes a checkpoint of the current weights and this run position; resolves with its folder. */
  readonly checkpoint: (position: RunPosition) => Promise<string>;
  /** Closes a worker's connection for good (silent past the deadline). */
  readonly evict: (worker: WorkerRecord, reason: string) => void;
  /** Called for every batch whose gradient was applied (audit ledger). */
  readonly onBatchApplied?: (epoch: number, step: number, batchId: number, workerId: number, sampleIds: Uint32Array) => void;
  /**
   * After a shard process was lost: waits until every shard is back, sets
   * them all up from the last checkpoint, and returns that checkpoint's
   * position. Rejects (JobError) if a shard stays away too long.
   */
  readonly restore?: (reason: string) => Promise<RunPosition>;
  /** A diverged step's batches were skipped, not applied (audit ledger). */
  readonly onBatchesSkipped?: (epoch: number, step: number, batchIds: readonly number[]) => void;
  /** Steps [toStep, fromStep) were rolled back (audit ledger). */
  readonly onRolledBack?: (fromStep: number, toStep: number, epoch: number, reason: string) => void;
}

/**
 * The step loop of ARCHITECTURE.md: each step hands one batch to every
 * active worker, waits for their gradients (or the deadline), commits once
 * through the parameter server, and broadcasts the new weights. Batches
 * whose gradients were not applied go back to the epoch's queue, so every
 * sample of an epoch is applied exactly once. It never touches a socket.
 */
export class TrainingRun {
  readonly #d: TrainingRunDeps;
  #epoch: number;
  #step: number;
  #samples: number;
  readonly #history: EpochRecord[];
  #queue: BatchQueue | undefined;
  #round: StepRound | undefined;
  #lastLoss: number | undefined;
  #dataPlane = { gradientBytes: 0, weightBytes: 0, samples: 0 };
  #stopping = false;
  #applied: Uint16Array;
  readonly #stragglers: StragglerPolicy;
  /** Every rejected push by reason, whichever layer rejected it. */
  readonly #rejected: Record<RejectReason, number> = { stale: 0, duplicate: 0, 'non-finite': 0, malformed: 0 };
  #admission = new PushAdmission();
  /** True while a commit streams new weights; workers welcomed meanwhile get the new version after it. */
  #committing = false;
  readonly #awaitingWeights = new Set<WorkerRecord>();
  /** Reports whose pushes shard processes have not all confirmed yet, by worker. */
  readonly #pending = new Map<number, PushReportMessage>();
  /** Set when a shard process was lost: the open step ends and the run rolls back. */
  #lost: ShardLostError | undefined;
  /** Shared access: no worker can read a shard, or too many bad samples; the job fails with it. */
  #dataFailure: JobError | undefined;
  /** Shared access: shards workers cannot read, bad samples; undefined when the coordinator ships the data. */
  readonly #reads: SharedReads | undefined;
  /** Non-finite verdicts in the open round. */
  #roundNonFinite = 0;
  /** Steps in a row in which no push was finite (training.nonFinite). */
  #nonFiniteRun = 0;
  /** The learning rate of the last step (linear scaling changes it). */
  #learningRate: number;
  /** Batches and samples skipped as diverged (training.nonFinite.action: skip). */
  #skipped = { batches: 0, samples: 0 };
  /** Checkpoints asked for on demand (`requestCheckpoint`), answered by the next one written. */
  #checkpointWanted: { resolve: (written: { step: number; dir: string }) => void; reject: (error: Error) => void }[] = [];

  constructor(deps: TrainingRunDeps, from: RunPosition) {
    this.#d = deps;
    this.#epoch = from.epoch;
    this.#step = from.step;
    this.#samples = from.samples;
    this.#history = [...from.history];
    this.#queue = from.cursor === undefined || from.cursor === null ? undefined : BatchQueue.restore(from.cursor);
    this.#applied = new Uint16Array(deps.numTrainSamples);
    this.#stragglers = new StragglerPolicy({ ratio: deps.config.cluster.stragglerRatio, minWorkers: deps.config.cluster.minWorkers });
    this.#learningRate = deps.config.training.optimizer.learningRate;
    this.#reads = deps.shared === undefined ? undefined : new SharedReads(deps.shared, deps.config.dataset.maxBadSamples, deps.log, deps.observer);
  }

  /** Training samples skipped because they do not parse or decode (shared access). */
  get badSamples(): number {
    return this.#reads?.badSamples ?? 0;
  }

  get epoch(): number {
    return this.#epoch;
  }
  get step(): number {
    return this.#step;
  }
  get samples(): number {
    return this.#samples;
  }
  get lastLoss(): number | undefined {
    return this.#lastLoss;
  }
  /**
   * Data-plane payload bytes of the committed steps since this coordinator
   * started (a resumed run counts from the restart): gradients the shards
   * summed (on the cluster.wire format) and weights they sent, with the
   * samples those steps applied, for bytes per sample.
   */
  get dataPlane(): { readonly gradientBytes: number; readonly weightBytes: number; readonly samples: number } {
    return this.#dataPlane;
  }
  get history(): readonly EpochRecord[] {
    return this.#history;
  }

  /** The current position, for checkpoints. */
  position(): RunPosition {
    return {
      epoch: this.#epoch,
      step: this.#step,
      samples: this.#samples,
      history: this.#history,
      cursor: this.#queue?.snapshot(),
    };
  }

  /**
   * Runs the remaining epochs. Resolves when training is complete; rejects
   * with a JobError on failure. A lost shard process pauses the run, which
   * then continues from the last checkpoint once every shard is back.
   */
  async run(): Promise<void> {
    for (;;) {
      try {
        await this.#runEpochs();
        return;
      } catch (error) {
        let lost = error instanceof ShardLostError ? error : this.#lost;
        if (lost === undefined || this.#stopping || this.#d.restore === undefined) throw error;
        // A shard lost again while the others are being set up: wait for it again (each wait is bounded by cluster.waitTimeoutMs).
        for (;;) {
          try {
            await this.#rollBack(lost);
            break;
          } catch (again) {
            if (!(again instanceof ShardLostError) || this.#stopping) throw again;
            lost = again;
          }
        }
      }
    }
  }

  /**
   * Every shard back to the last checkpoint, and the run with them: epoch,
   * step, samples, history and the epoch's batch plan are the checkpoint's,
   * so the steps since then are computed again and every sample is applied
   * exactly once in the lineage of the final weights. Versions keep rising.
   */
  async #rollBack(lost: ShardLostError): Promise<void> {
    const { log, membership, state } = this.#d;
    const fromStep = this.#step;
    log.warn(`${lost.message}; training paused until every shard is back, then all roll back to the last checkpoint`);
    if (state.state !== JobState.paused && state.state !== JobState.waiting) state.to(JobState.paused);
    this.#round = undefined;
    this.#pending.clear();
    for (const worker of membership.all()) if (worker.state === WorkerState.training) worker.state = WorkerState.joined;
    const position = await (this.#d.restore as (reason: string) => Promise<RunPosition>)(lost.message);
    this.#lost = undefined;
    this.#admission = new PushAdmission();
    this.#epoch = position.epoch;
    this.#step = position.step;
    this.#samples = position.samples;
    this.#history.length = 0;
    this.#history.push(...position.history);
    this.#queue = position.cursor === undefined || position.cursor === null ? undefined : BatchQueue.restore(position.cursor);
    this.#d.onRolledBack?.(fromStep, position.step, position.epoch, lost.message);
    this.#d.observer.rolledBack?.(position.step, lost.message);
    log.warn(`rolled back from step ${fromStep} to step ${position.step} (epoch ${position.epoch}); training continues`);
    if (state.state !== JobState.waiting) state.to(JobState.running);
  }

  /** A shard process is gone: the open step ends now (its batches go back) and the run rolls back. */
  shardLost(error: ShardLostError): void {
    this.#lost ??= error;
    this.#round?.abort();
    this.#d.membershipChanged.notify();
  }

  async #runEpochs(): Promise<void> {
    const { config } = this.#d;
    while (this.#epoch < config.training.epochs) {
      const epochStart = performance.now();
      let lossSum = 0;
      let lossSamples = 0;
      let accuracySum = 0;
      let accuracySamples = 0;
      this.#queue ??= BatchQueue.forEpoch({
        numSamples: this.#d.numTrainSamples,
        batchSize: config.training.batchSize,
        seed: config.training.seed,
        epoch: this.#epoch,
        shuffle: config.training.shuffle,
      });
      this.#countCommitted(this.#queue);
      // Resuming mid-epoch: the samples committed before the checkpoint belong to this epoch too.
      const samplesAtStart = this.#samples - this.#queue.committedSamples;
      const samplesBefore = this.#samples;
      while (!this.#queue.isComplete()) {
        await this.#ensureQuorum();
        if (this.#lost !== undefined) throw this.#lost;
        if (this.#dataFailure !== undefined) throw this.#dataFailure;
        if (this.#stopping) throw new JobError('DTRAIN_JOB_STOPPED', 'stopped before training completed');
        const committed = await this.#runStep(this.#queue);
        if (committed !== undefined) {
          lossSum += committed.loss * committed.sampleCount;
          lossSamples += committed.sampleCount;
          if (committed.accuracy !== undefined) {
            accuracySum += committed.accuracy.value * committed.accuracy.samples;
            accuracySamples += committed.accuracy.samples;
          }
          const every = config.checkpoint.everySteps;
          if ((every > 0 && this.#step % every === 0) || this.#checkpointWanted.length > 0) await this.#checkpoint();
        }
      }
      this.#queue = undefined;
      // Throughput counts training time only; evaluation follows.
      const wallSeconds = (performance.now() - epochStart) / 1000;
      this.#d.state.to(JobState.evaluating);
      const validation = await this.#d.evaluate();
      const epochSamples = this.#samples - samplesAtStart;
      let appliedMin = Number.POSITIVE_INFINITY;
      let appliedMax = 0;
      for (const count of this.#applied) {
        if (count < appliedMin) appliedMin = count;
        if (count > appliedMax) appliedMax = count;
      }
      const record: EpochRecord = {
        epoch: this.#epoch,
        loss: lossSamples > 0 ? lossSum / lossSamples : Number.NaN,
        accuracy: accuracySamples > 0 ? accuracySum / accuracySamples : undefined,
        valLoss: validation?.loss,
        valAccuracy: validation?.accuracy,
        samples: epochSamples,
        samplesPerSecond: (this.#samples - samplesBefore) / wallSeconds,
        wallSeconds,
        appliedMin: this.#applied.length === 0 ? 0 : appliedMin,
        appliedMax,
      };
      this.#history.push(record);
      this.#d.observer.epochFinished?.(record);
      this.#epoch += 1;
      // Between epochs the cursor is empty: a resume starts the next epoch's plan afresh.
      await this.#checkpoint();
      if (this.#epoch < config.training.epochs) this.#d.state.to(JobState.running);
    }
  }

  /** Per-sample counts start from the batches already committed in this epoch (non-zero only when resuming mid-epoch). */
  #countCommitted(queue: BatchQueue): void {
    this.#applied.fill(0);
    for (let id = 0; id < queue.numBatches; id += 1) {
      if (queue.state(id) !== 'committed') continue;
      for (const sample of queue.batch(id).sampleIds) this.#applied[sample] = (this.#applied[sample] ?? 0) + 1;
    }
  }

  /** Stops at the next step boundary; an open round is aborted (its batches are released). */
  stop(): void {
    this.#stopping = true;
    this.#round?.abort();
    this.#d.membershipChanged.notify();
  }

  /** One gradient chunk from a worker over the coordinator connection: screened against the open round, then summed by the embedded shard. */
  onGradientChunk(worker: WorkerRecord, chunk: Chunk): void {
    if (this.#admission.screenChunk(worker.id, chunk, this.#round) === 'drop') return;
    this.#admission.checkChunkOutcome(this.#d.shards.acceptChunk(chunk), chunk);
  }

  /**
   * A worker's report that its push for a step is complete; the push's one
   * verdict. With shard processes the report may arrive before every shard
   * has confirmed the push: it waits (onShardPush) for the round's end.
   */
  onPushReport(worker: WorkerRecord, report: PushReportMessage): void {
    const round = this.#round;
    const verdict = this.#admission.judgeReport(worker.id, report, round, this.#d.shards);
    if (verdict === 'pending') {
      this.#pending.set(worker.id, report);
      return;
    }
    this.#record(worker.id, report, verdict);
    if (report.badSamples !== undefined && this.#reads !== undefined) this.#failData(this.#reads.skipped(report.badSamples));
  }

  /**
   * Shared access: a worker could not read a shard for its assignment. The
   * open round stops waiting for it (its batches go back to the queue) and
   * it is given no batch with samples there again; with no worker able to
   * read the shard, the job fails.
   */
  onReadFailure(worker: WorkerRecord, failure: ReadFailureMessage): void {
    if (this.#reads === undefined) {
      this.#d.log.warn(`worker ${worker.id} reports it cannot read ${failure.file}, but the coordinator ships this job's data; ignored`);
      return;
    }
    const active = this.#d.membership.active().map((w) => w.id);
    this.#failData(this.#reads.readFailed(worker.id, failure, active));
    const round = this.#round;
    if (round !== undefined && round.step === failure.step) round.forget(worker.id);
  }

  #failData(failure: JobError | undefined): void {
    if (failure === undefined) return;
    this.#dataFailure ??= failure;
    this.#round?.abort();
    this.#d.membershipChanged.notify();
  }

  /**
   * Shared access: tells the worker at `index` of `count` the samples it will
   * probably be dealt next (dealing is round-robin: batches index, index +
   * count, …), to read while it computes. Returns the bytes sent.
   */
  #sendPrefetch(worker: WorkerRecord, upcoming: readonly Batch[], index: number, count: number): number {
    const mine: Uint32Array[] = [];
    for (let at = index; at < upcoming.length; at += count) mine.push((upcoming[at] as Batch).sampleIds);
    if (mine.length === 0) return 0;
    const sampleIds = new Uint32Array(mine.reduce((n, ids) => n + ids.length, 0));
    let offset = 0;
    for (const ids of mine) {
      sampleIds.set(ids, offset);
      offset += ids.length;
    }
    const frame = encodeMessage({ type: 'prefetch', sampleIds });
    worker.connection.send(frame);
    return frame.byteLength;
  }

  /** A shard process confirmed a worker's push: a report that waited for it gets its verdict. */
  onShardPush(workerId: number): void {
    const report = this.#pending.get(workerId);
    const round = this.#round;
    if (report === undefined || round === undefined || !round.isOpen || report.step !== round.step) return;
    const verdict = this.#admission.judgeShards(report, this.#d.shards);
    if (verdict === 'pending') return;
    this.#pending.delete(workerId);
    this.#record(workerId, report, verdict);
  }

  #record(workerId: number, report: PushReportMessage, verdict: ReturnType<PushAdmission['judgeShards']>): void {
    const round = this.#round;
    if (verdict === 'non-finite' && round?.isOpen === true && report.step === round.step) this.#roundNonFinite += 1;
    if (verdict !== 'accepted') this.countRejected(verdict === 'pending' ? 'stale' : verdict, workerId);
    if (verdict === 'duplicate' || round === undefined) return;
    round.report(workerId, verdict === 'accepted', report.computeSeconds, report.loss, { accuracy: report.accuracy, dataSeconds: report.dataSeconds });
  }

  /**
   * Sends the current weights to a worker that just joined: at once, or,
   * while a commit is streaming a new version, right after it (so the
   * worker never holds half of one version and half of another).
   */
  sendWeights(worker: WorkerRecord): void {
    // Shard processes send their ranges themselves when the worker connects to them.
    if (this.#d.shards.remote) return;
    if (this.#committing) {
      this.#awaitingWeights.add(worker);
      return;
    }
    for (const parts of this.#d.shards.currentChunks(this.#step)) this.#sendChunk(worker, parts);
  }

  /** Sends one weights chunk over a worker's coordinator connection; returns the bytes. */
  #sendChunk(worker: WorkerRecord, parts: WeightsChunkParts): number {
    worker.connection.sendParts([parts.header, parts.payload]);
    const bytes = parts.header.byteLength + parts.payload.byteLength;
    this.#d.observer.bytes?.('out', bytes);
    return bytes;
  }

  /** Counts a rejected push (also the coordinator's own protocol rejections) and tells the observer. */
  countRejected(reason: RejectReason, workerId: number | undefined): void {
    this.#rejected[reason] += 1;
    this.#d.observer.gradientRejected?.(reason, workerId);
  }

  rejectedCounts(): Readonly<Record<RejectReason, number>> {
    return { ...this.#rejected };
  }

  /** Batches and samples skipped because their step diverged (training.nonFinite.action: skip). */
  get skipped(): { readonly batches: number; readonly samples: number } {
    return { ...this.#skipped };
  }

  /**
   * A step in which no push was finite. Its training loss is reported as
   * NaN (so the loss alert fires); after training.nonFinite.maxConsecutiveSteps
   * such steps in a row the job fails (throws DTRAIN_JOB_NON_FINITE) or, with
   * action 'skip', this step's batches are skipped (returns true: the caller
   * marks them done). False: they go back to the queue and are tried again.
   */
  #divergedStep(step: number, batches: readonly { readonly batchId: number; readonly sampleIds: Uint32Array }[]): boolean {
    const { maxConsecutiveSteps, action } = this.#d.config.training.nonFinite;
    this.#nonFiniteRun += 1;
    this.#d.observer.stepNotFinite?.({ step, epoch: this.#epoch });
    if (this.#nonFiniteRun < maxConsecutiveSteps) return false;
    const last = this.#lastLoss === undefined ? 'none yet' : String(this.#lastLoss);
    if (action === 'fail') {
      throw new JobError(
        'DTRAIN_JOB_NON_FINITE',
        `step ${step}: no finite gradient in ${this.#nonFiniteRun} consecutive steps (training.nonFinite.maxConsecutiveSteps=${maxConsecutiveSteps}); ` +
          `last finite training loss ${last}, learning rate ${this.#learningRate}; the weights are the last finite ones and are checkpointed`,
      );
    }
    this.#nonFiniteRun = 0;
    let samples = 0;
    for (const batch of batches) samples += batch.sampleIds.length;
    this.#skipped.batches += batches.length;
    this.#skipped.samples += samples;
    this.#d.onBatchesSkipped?.(this.#epoch, step, batches.map((b) => b.batchId));
    this.#d.log.warn(`step ${step}: no finite gradient in ${maxConsecutiveSteps} consecutive steps: skipping its ${batches.length} batch(es) (${samples} samples; training.nonFinite.action: skip)`);
    return true;
  }

  /** A worker left or was evicted: the open round stops waiting for it. */
  onWorkerGone(worker: WorkerRecord): void {
    this.#admission.forget(worker.id);
    this.#pending.delete(worker.id);
    this.#awaitingWeights.delete(worker);
    this.#round?.forget(worker.id);
    this.#stragglers.forget(worker.id);
    this.#reads?.forget(worker.id);
  }

  async #checkpoint(): Promise<void> {
    const previous = this.#d.state.state;
    this.#d.state.to(JobState.checkpointing);
    const wanted = this.#checkpointWanted;
    this.#checkpointWanted = [];
    try {
      const dir = await this.#d.checkpoint(this.position());
      for (const w of wanted) w.resolve({ step: this.#step, dir });
    } catch (error) {
      for (const w of wanted) w.reject(error instanceof Error ? error : new JobError('DTRAIN_JOB_INTERNAL', String(error)));
      throw error;
    }
    this.#d.state.to(previous === JobState.paused || previous === JobState.evaluating ? previous : JobState.running);
  }

  /**
   * A checkpoint on demand: written after the step that is open now commits
   * (or at the end of the epoch, whichever comes first). Rejected by
   * `dropCheckpointRequests` when the run ends first.
   */
  requestCheckpoint(): Promise<{ step: number; dir: string }> {
    return new Promise((resolve, reject) => this.#checkpointWanted.push({ resolve, reject }));
  }

  /** Rejects every pending `requestCheckpoint` (the run has ended). */
  dropCheckpointRequests(reason: string): void {
    const wanted = this.#checkpointWanted;
    this.#checkpointWanted = [];
    for (const w of wanted) w.reject(new JobError('DTRAIN_JOB_STOPPED', reason));
  }

  /** Waits until at least `cluster.minWorkers` are active; fails after `cluster.waitTimeoutMs`. */
  async #ensureQuorum(): Promise<void> {
    const { cluster } = this.#d.config;
    const deadline = Date.now() + cluster.waitTimeoutMs;
    while (!this.#stopping && this.#d.membership.active().length < cluster.minWorkers) {
      if (this.#d.state.state !== JobState.waiting) this.#d.state.to(JobState.paused);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new JobError(
          'DTRAIN_JOB_NO_WORKERS',
          `fewer than cluster.minWorkers=${cluster.minWorkers} workers for ${Math.round(cluster.waitTimeoutMs / 1000)} s (have ${this.#d.membership.active().length})`,
        );
      }
      await this.#d.membershipChanged.wait(left);
    }
    if (!this.#stopping) this.#d.state.to(JobState.running);
  }

  async #runStep(queue: BatchQueue): Promise<{ loss: number; sampleCount: number; accuracy: StepAccuracy | undefined } | undefined> {
    const { shards, shipper, membership, config, observer } = this.#d;
    const active = membership.active();
    const chosen = new Set(this.#stragglers.select(active.map((w) => w.id), this.#step));
    const workers: WorkerRecord[] = [];
    for (const worker of active) {
      worker.benched = !chosen.has(worker.id);
      if (!worker.benched) workers.push(worker);
    }
    const local = config.training.localSteps > 1;
    const reads = this.#reads?.anyUnreadable === true ? this.#reads : undefined;
    const { hands: dealt, spare } = dealBatches(
      queue,
      workers.length,
      config.training.localSteps,
      reads === undefined ? undefined : (hand, batch) => reads.canTake((workers[hand] as WorkerRecord).id, batch),
    );
    for (const batch of spare) queue.release(batch.batchId);
    if (reads !== undefined && spare.length > 0 && dealt.every((hand) => hand.length === 0)) {
      // Only batches none of these workers can read are left: fail now if no active worker can, else wait for one.
      this.#failData(reads.unreadableBy(spare[0] as Batch, membership.active().map((w) => w.id)));
      if (this.#dataFailure !== undefined) throw this.#dataFailure;
      await this.#d.membershipChanged.wait(config.cluster.stepTimeoutMs);
      return undefined;
    }
    const upcoming = this.#d.shared === undefined ? [] : queue.peek(workers.length * config.training.localSteps);
    const assigned = new Map<number, RoundWork>();
    let mostBatches = 1;
    workers.forEach((worker, index) => {
      const batches = dealt[index] as Batch[];
      if (batches.length === 0) return;
      const work = local ? localRoundWork(batches) : (batches[0] as Batch);
      mostBatches = Math.max(mostBatches, batches.length);
      assigned.set(worker.id, work);
      const shipped = shipper?.shipFor(worker, work.sampleIds) ?? 0;
      const frame = encodeMessage({
        type: 'assignment',
        step: this.#step,
        epoch: this.#epoch,
        version: shards.version,
        batchId: work.batchId,
        sampleIds: work.sampleIds,
        ...(local ? { batches: batches.map((b) => ({ batchId: b.batchId, size: b.sampleIds.length })) } : {}),
      });
      worker.connection.send(frame);
      worker.state = WorkerState.training;
      observer.bytes?.('out', shipped + frame.byteLength + this.#sendPrefetch(worker, upcoming, index, workers.length));
    });
    if (config.training.scaleLearningRate === 'linear' && assigned.size > 0) {
      // Linear scaling rule: the effective batch grows with the workers in the step.
      this.#learningRate = (config.training.optimizer.learningRate * assigned.size) / config.cluster.minWorkers;
      shards.setLearningRate(this.#learningRate);
    }
    // The deadline is per batch: a local-SGD round of H batches gets H of them.
    const round = new StepRound(this.#step, shards.version, assigned, config.cluster.stepTimeoutMs * mostBatches);
    this.#round = round;
    this.#roundNonFinite = 0;
    this.#pending.clear();
    const end = await round.ended;
    this.#round = undefined;
    if (this.#dataFailure !== undefined) {
      for (const batch of round.settle(false).released) queue.release(batch.batchId);
      throw this.#dataFailure;
    }
    // Reports still waiting for a shard's confirmation at the round's end arrived too late.
    for (const [workerId] of this.#pending) this.countRejected('stale', workerId);
    this.#pending.clear();
    if (this.#lost !== undefined) throw this.#lost;
    if (end === 'deadline') {
      for (const id of round.silentWorkers()) {
        const worker = membership.byId(id);
        if (worker !== undefined) this.#d.evict(worker, `no gradient for step ${this.#step} within cluster.stepTimeoutMs=${config.cluster.stepTimeoutMs}`);
      }
    }
    const commit = await this.#commit(round, end);
    const { applied, released, reports } = round.settle(commit !== undefined);
    for (const worker of membership.all()) if (worker.state === WorkerState.training) worker.state = WorkerState.joined;
    // Every report was non-finite: the job is diverging (not merely short of workers).
    const diverged = commit === undefined && end !== 'aborted' && reports.length > 0 && this.#roundNonFinite === reports.length;
    if (diverged && this.#divergedStep(round.step, released)) {
      // Skipped: the step's batches are done without being applied.
      for (const batch of released) queue.commit(batch.batchId);
      return undefined;
    }
    for (const batch of released) queue.release(batch.batchId);
    if (commit === undefined) {
      // Nothing applied: every assigned batch went back to the queue above.
      return undefined;
    }
    this.#nonFiniteRun = 0;
    for (const batch of applied) {
      queue.commit(batch.batchId);
      for (const id of batch.sampleIds) this.#applied[id] = (this.#applied[id] ?? 0) + 1;
    }
    for (const report of reports) {
      if (!report.accepted) continue;
      // Applied even if its worker has left since pushing: the audit records every applied batch.
      for (const batch of batchesOf(report.batch)) this.#d.onBatchApplied?.(this.#epoch, this.#step, batch.batchId, report.workerId, batch.sampleIds);
      const worker = membership.byId(report.workerId);
      if (worker === undefined) continue;
      worker.stepsApplied += 1;
      if (report.computeSeconds !== undefined) this.#stragglers.observe(report.workerId, report.computeSeconds);
      worker.samplesApplied += report.batch.sampleIds.length;
      worker.lastComputeSeconds = report.computeSeconds;
      worker.lastDataSeconds = report.dataSeconds;
    }
    this.#samples += commit.sampleCount;
    this.#lastLoss = commit.loss;
    observer.stepCommitted?.({
      step: this.#step,
      epoch: this.#epoch,
      version: commit.version,
      sampleCount: commit.sampleCount,
      loss: commit.loss,
      accuracy: commit.accuracy?.value,
      gradientBytes: commit.gradientBytes,
      weightBytes: commit.weightBytes,
      wallSeconds: (performance.now() - round.startedAt) / 1000,
      end,
      reports,
      activeWorkers: membership.active().length,
    });
    this.#step += 1;
    return { loss: commit.loss, sampleCount: commit.sampleCount, accuracy: commit.accuracy };
  }

  /**
   * Applies the step on the shard with exactly the accepted pushes, streaming
   * each new weight chunk to the workers as it is ready. Undefined when
   * nothing was applied: the round was aborted, nothing was accepted, or the
   * shard refused (a push that is not part of the step reached its sum).
   */
  async #commit(round: StepRound, end: RoundEnd): Promise<{ version: number; sampleCount: number; loss: number; accuracy: StepAccuracy | undefined; gradientBytes: number; weightBytes: number } | undefined> {
    const { shards, membership, log } = this.#d;
    const accepted = round.acceptedReports();
    if (end === 'aborted' || accepted.length === 0) {
      await shards.abortStep(round.step);
      return undefined;
    }
    // Fixed before the first chunk: a worker welcomed mid-commit is sent the whole new version afterwards.
    const recipients = membership.active();
    this.#committing = true;
    let outcome: Awaited<ReturnType<ShardSet['commit']>>['outcome'];
    let gradientBytes = 0;
    let weightBytes = 0;
    try {
      const commit = await shards.commit(
        round.step,
        accepted.map((r) => ({ workerId: r.workerId, step: round.step })),
        (parts) => {
          let bytes = 0;
          for (const worker of recipients) if (membership.byId(worker.id) === worker) bytes += this.#sendChunk(worker, parts);
          return bytes;
        },
      );
      outcome = commit.outcome;
      // Shard processes serve their own dtrain_shard_* series; counting them here too would double every sum.
      if (!shards.remote) for (const event of commit.shards) this.#d.observer.shardStep?.(event);
      if (commit.outcome.committed) {
        for (const event of commit.shards) {
          gradientBytes += event.bytesIn;
          weightBytes += event.bytesOut;
        }
        this.#dataPlane = {
          gradientBytes: this.#dataPlane.gradientBytes + gradientBytes,
          weightBytes: this.#dataPlane.weightBytes + weightBytes,
          samples: this.#dataPlane.samples + commit.outcome.sampleCount,
        };
      }
    } finally {
      this.#committing = false;
      const waiting = [...this.#awaitingWeights];
      this.#awaitingWeights.clear();
      for (const worker of waiting) if (membership.byId(worker.id) === worker) this.sendWeights(worker);
    }
    if (!outcome.committed) {
      log.warn(`step ${round.step} not applied: ${outcome.reason}; its batches go back to the queue`);
      return undefined;
    }
    let lossSum = 0;
    for (const r of accepted) lossSum += r.sampleCount * r.loss;
    return { version: outcome.version, sampleCount: outcome.sampleCount, loss: lossSum / outcome.sampleCount, accuracy: this.#d.config.training.metrics.includes('accuracy') ? sampleWeightedAccuracy(accepted) : undefined, gradientBytes, weightBytes };
  }
}

/**
 * Deals up to `perWorker` batches from the queue to each of `workers`, one
 * round of the table at a time, so that when the epoch runs short the
 * batches left are spread evenly (a shorter last round) rather than one
 * worker getting them all. Synchronous steps deal one each.
 */
function dealBatches(
  queue: BatchQueue,
  workers: number,
  perWorker: number,
  canTake?: (hand: number, batch: Batch) => boolean,
): { hands: Batch[][]; spare: Batch[] } {
  const hands: Batch[][] = Array.from({ length: workers }, () => []);
  const spare: Batch[] = [];
  if (canTake === undefined) {
    for (let k = 0; k < perWorker; k += 1) {
      for (const hand of hands) {
        const batch = queue.take();
        if (batch === undefined) return { hands, spare };
        hand.push(batch);
      }
    }
    return { hands, spare };
  }
  // Some worker cannot read some shard: each hand takes the first batch it can, from those set aside first.
  const next = (hand: number): Batch | undefined => {
    const at = spare.findIndex((batch) => canTake(hand, batch));
    if (at >= 0) return spare.splice(at, 1)[0];
    for (let looked = 0; looked < DEAL_LOOKAHEAD; looked += 1) {
      const batch = queue.take();
      if (batch === undefined) return undefined;
      if (canTake(hand, batch)) return batch;
      spare.push(batch);
    }
    return undefined;
  };
  for (let k = 0; k < perWorker; k += 1) {
    hands.forEach((hand, index) => {
      const batch = next(index);
      if (batch !== undefined) hand.push(batch);
    });
  }
  return { hands, spare };
}

/** Batches a worker that cannot read some shard looks past per step for one it can read. */
const DEAL_LOOKAHEAD = 64;
