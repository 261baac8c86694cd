import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * An append-only JSON-lines record of every applied batch
 * (`{"epoch","step","batchId","workerId","sampleIds":[...]}`), so that
 * sample accounting can be audited from outside the coordinator.
 */
export class AuditLedger {
  readonly #out: WriteStream;

  constructor(path: string) {
    this.#out = createWriteStream(path, { flags: 'a' });
  }

  record(epoch: number, step: number, batchId: number, workerId: number, sampleIds: Uint32Array): void {
    this.#out.write(`${JSON.stringify({ epoch, step, batchId, workerId, sampleIds: Array.from(sampleIds) })}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#out.end(resolve));
  }
}
