import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * An append-only JSON-lines record of every applied batch
 * (`{"epoch","step","batchId","workerId","sampleIds":[...]}`) and of every
 * rollback (`{"rolledBack":{"fromStep","toStep","epoch","reason"}}`), so
 * that sample accounting can be audited from outside the coordinator.
 */
export class AuditLedger {
  readonly #out: WriteStream;

  constructor(path: string) {
    this.#out = createWriteStream(path, { flags: 'a' });
  }

  record(epoch: number, step: number, batchId: number, workerId: number, sampleIds: Uint32Array): void {
    this.#out.write(`${JSON.stringify({ epoch, step, batchId, workerId, sampleIds: Array.from(sampleIds) })}\n`);
  }

  /**
   * A lost parameter-server shard rolled the job back: the batches applied
   * at steps [toStep, fromStep) are not in the final weights' lineage (an
   * auditor drops them; they are computed again).
   */
  rolledBack(fromStep: number, toStep: number, epoch: number, reason: string): void {
    this.#out.write(`${JSON.stringify({ rolledBack: { fromStep, toStep, epoch, reason } })}\n`);
  }

  /** A diverged step's batches were skipped (training.nonFinite.action: skip): done, not applied. */
  skipped(epoch: number, step: number, batchIds: readonly number[]): void {
    this.#out.write(`${JSON.stringify({ skipped: { epoch, step, batchIds } })}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#out.end(resolve));
  }
}
