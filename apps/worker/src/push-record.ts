import { closeSync, openSync, writeSync } from 'node:fs';

/** One gradient push this worker sent, as a line of its `--record` file. */
export interface PushRecordLine {
  readonly step: number;
  readonly epoch: number;
  readonly version: number;
  readonly batchId: number;
  readonly workerId: number;
  readonly sampleIds: readonly number[];
  /** False when the loss or a gradient was NaN/±Infinity (no gradient chunks were sent). */
  readonly finite: boolean;
}

/**
 * The worker's own append-only JSON-lines account of every push it sent,
 * kept apart from the coordinator so that `dtrain audit` can check the
 * coordinator's ledger against evidence the coordinator did not write.
 *
 * Each line is written with a synchronous `write(2)` rather than through a
 * WriteStream: a stream buffers in this process, and a worker SIGKILLed
 * just after its push report would lose the line of a batch the
 * coordinator goes on to credit. Once `writeSync` returns, the line is in
 * the kernel and survives the process. One short line per step costs
 * microseconds next to the step itself.
 */
export class PushRecord {
  #fd: number | undefined;

  /** Opens (creating or appending to) `path`; throws if it cannot. */
  constructor(readonly path: string) {
    this.#fd = openSync(path, 'a');
  }

  append(line: PushRecordLine): void {
    if (this.#fd === undefined) return;
    writeSync(this.#fd, `${JSON.stringify(line)}\n`);
  }

  /** Closes the file; later appends are dropped. Safe to call twice. */
  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}
