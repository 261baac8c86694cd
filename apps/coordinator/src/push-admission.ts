import type { ChunkOutcome, ShardPush } from '@dtrain/parameter-server';
import { ProtocolError, type Chunk, type PushReportMessage } from '@dtrain/protocol';
import type { RejectReason } from './observer.js';
import type { StepRound } from './step-round.js';

/**
 * What admission decided about a worker's push report. `pending`: shard
 * processes have not all confirmed the push yet (the report came first);
 * judged again by `judgeShards` as confirmations arrive.
 */
export type ReportVerdict = 'accepted' | RejectReason | 'pending';

/** What admission decided about a gradient chunk before any shard sees it. */
export type ChunkVerdict = 'forward' | 'drop';

/** The parts of the data plane admission asks about. */
export interface AdmissionShards {
  /** The version the shards' weights have now. */
  readonly version: number;
  /** Shard processes confirm pushes on their own connections, possibly after the report. */
  readonly remote: boolean;
  /** What the shards hold of a worker's push (complete, finite, sample count), if anything. */
  push(workerId: number): ShardPush | undefined;
}

/**
 * The one place that classifies gradient pushes. A push is one worker's
 * result for one step: gradient chunks (to the shards) and then a report
 * (to the coordinator). Each push gets exactly one verdict, from its report,
 * and each rejection is counted once by the caller:
 *
 * - `malformed`: the report names another worker, a future step, a batch or
 *   sample count that is not the one assigned, or says finite while the
 *   shards lack some of its chunks.
 * - `duplicate`: a second report for a step this worker already reported
 *   (in the open round, or the last one it reported before the round closed).
 * - `stale`: the step is over (committed, aborted or never this worker's),
 *   or the push was computed at an old weights version.
 * - `non-finite`: the worker said so, the loss is NaN/±Inf, or a shard saw a
 *   NaN/±Inf value in one of its chunks.
 *
 * Chunks are screened before a shard sums them: one for the open step, from
 * the worker it names, with a batch in the step, goes on; one for a step
 * already over is dropped (its report will be judged stale); one that
 * claims another worker or a step not yet opened is a protocol violation,
 * because letting it into a sum would spoil everyone's step.
 */
export class PushAdmission {
  /** The step of each worker's last report, to tell a re-delivery (duplicate) from a late push (stale). */
  readonly #lastReport = new Map<number, number>();

  /** Screens one chunk from `workerId` against the open round; throws ProtocolError MALFORMED for a violation. */
  screenChunk(workerId: number, chunk: Chunk, round: StepRound | undefined): ChunkVerdict {
    if (chunk.workerId !== workerId) {
      throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `gradientChunk.workerId: ${chunk.workerId} is not this connection's worker ${workerId}`);
    }
    if (round === undefined || !round.isOpen || chunk.step < round.step) return 'drop';
    if (chunk.step > round.step) {
      throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `gradientChunk.step: ${chunk.step} is ahead of the open step ${round.step}`);
    }
    const batch = round.batchOf(workerId);
    if (batch === undefined) return 'drop';
    if (chunk.sampleCount !== batch.sampleIds.length) {
      throw new ProtocolError('DTRAIN_PROTOCOL_MALFORMED', `gradientChunk.sampleCount: ${chunk.sampleCount}, the batch assigned has ${batch.sampleIds.length} samples`);
    }
    return 'forward';
  }

  /**
   * A shard's answer for a forwarded chunk. Stale and duplicate chunks are
   * left for the report's verdict; a chunk whose offset or length does not
   * fit the chunk plan is a protocol violation.
   */
  checkChunkOutcome(outcome: ChunkOutcome, chunk: Chunk): void {
    if (outcome === 'malformed') {
      throw new ProtocolError(
        'DTRAIN_PROTOCOL_MALFORMED',
        `gradientChunk: offset ${chunk.offset} with ${chunk.count} elements is not a chunk of the plan (or its sample count changed mid-push)`,
      );
    }
  }

  /** The verdict on a worker's report for the open round (or for none). */
  judgeReport(workerId: number, report: PushReportMessage, round: StepRound | undefined, shards: AdmissionShards): ReportVerdict {
    if (report.workerId !== workerId) return 'malformed';
    const previous = this.#lastReport.get(workerId);
    this.#lastReport.set(workerId, report.step);
    if (round === undefined || report.step < round.step || !round.isOpen) return previous === report.step ? 'duplicate' : 'stale';
    if (report.step === round.step && round.hasReport(workerId)) return 'duplicate';
    const batch = round.batchOf(workerId);
    if (report.step > round.step || batch === undefined || batch.batchId !== report.batchId || batch.sampleIds.length !== report.sampleCount) {
      return 'malformed';
    }
    if (report.version !== shards.version) return 'stale';
    if (!report.finite || !Number.isFinite(report.loss)) return 'non-finite';
    return this.judgeShards(report, shards);
  }

  /**
   * The part of a verdict that depends on what the shards hold of the push.
   * An incomplete push is `malformed` for the embedded shard (its chunks
   * came before the report on the same connection) and `pending` for shard
   * processes (their confirmations travel on other connections).
   */
  judgeShards(report: PushReportMessage, shards: AdmissionShards): ReportVerdict {
    const push = shards.push(report.workerId);
    if (push === undefined || push.step !== report.step || !push.complete) return shards.remote ? 'pending' : 'malformed';
    if (push.nonFinite) return 'non-finite';
    if (push.sampleCount !== report.sampleCount) return 'malformed';
    return 'accepted';
  }

  /** A worker left: its next report (after a rejoin) starts afresh. */
  forget(workerId: number): void {
    this.#lastReport.delete(workerId);
  }
}
