import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * An append-only JSON-lines record of every applied batch
 * (`{"epoch","step","batchId","workerId","sampleIds":[...]}`), of every
 * rollback (`{"rolledBack":{"fromStep","toStep","epoch","reason"}}`), of
 * every resume from a checkpoint (`{"resumed":{"step","epoch"}}`) and of
 * skipped steps, so that sample accounting can be audited from outside the
 * coordinator.
 *
 * Lines are written synchronously: a coordinator that is SIGKILLed has every
 * line of every step it applied on disk (a buffered stream loses the last
 * ones, and the audit would then miss samples that the checkpoint it resumes
 * from contains).
 */
export class AuditLedger {
  #fd: number | undefined;

  constructor(path: string) {
    this.#fd = openSync(path, 'a');
  }

  record(epoch: number, step: number, batchId: number, workerId: number, sampleIds: Uint32Array): void {
    this.#write({ epoch, step, batchId, workerId, sampleIds: Array.from(sampleIds) });
  }

  /**
   * A lost parameter-server shard rolled the job back: the batches applied
   * at steps [toStep, fromStep) are not in the final weights' lineage (an
   * auditor drops them; they are computed again).
   */
  rolledBack(fromStep: number, toStep: number, epoch: number, reason: string): void {
    this.#write({ rolledBack: { fromStep, toStep, epoch, reason } });
  }

  /**
   * The coordinator started from the checkpoint taken before `step`: batches
   * a previous coordinator process applied at `step` or later (it may have
   * been killed past its last checkpoint) are not in the lineage.
   */
  resumed(step: number, epoch: number): void {
    this.#write({ resumed: { step, epoch } });
  }

  /** A diverged step's batches were skipped (training.nonFinite.action: skip): done, not applied. */
  skipped(epoch: number, step: number, batchIds: readonly number[]): void {
    this.#write({ skipped: { epoch, step, batchIds } });
  }

  close(): Promise<void> {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    return Promise.resolve();
  }

  #write(line: unknown): void {
    if (this.#fd !== undefined) writeSync(this.#fd, `${JSON.stringify(line)}\n`);
  }
}
