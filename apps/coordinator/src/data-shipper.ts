import { chunkCount, chunkRange, chunksForSamples, type Dataset } from '@dtrain/data';
import { encodeMessage } from '@dtrain/protocol';
import type { WorkerRecord } from './membership.js';

/**
 * Sends workers the training-data chunks their batches need, over the same
 * connection as everything else, so workers need no shared volume. Each
 * chunk is encoded once and the same frame goes to every worker; a worker is
 * sent a chunk at most once per connection (it caches what it got).
 */
export class DataShipper {
  readonly #dataset: Dataset;
  readonly #chunkSize: number;
  readonly #frames = new Map<number, Uint8Array>();
  #bytesSent = 0;

  constructor(dataset: Dataset, chunkSize: number) {
    this.#dataset = dataset;
    this.#chunkSize = chunkSize;
  }

  get chunkSize(): number {
    return this.#chunkSize;
  }

  get chunkCount(): number {
    return chunkCount(this.#dataset.numSamples, this.#chunkSize);
  }

  /** Total bytes of chunk frames queued so far. */
  get bytesSent(): number {
    return this.#bytesSent;
  }

  /** Ships every chunk `sampleIds` touches that this worker has not been sent yet. Returns bytes queued. */
  shipFor(worker: WorkerRecord, sampleIds: Uint32Array): number {
    let bytes = 0;
    for (const chunkId of chunksForSamples(sampleIds, this.#chunkSize)) {
      if (worker.chunksSent.has(chunkId)) continue;
      const frame = this.#frame(chunkId);
      worker.connection.send(frame);
      worker.chunksSent.add(chunkId);
      bytes += frame.byteLength;
    }
    this.#bytesSent += bytes;
    return bytes;
  }

  #frame(chunkId: number): Uint8Array {
    let frame = this.#frames.get(chunkId);
    if (frame === undefined) {
      const { start, count } = chunkRange(chunkId, this.#chunkSize, this.#dataset.numSamples);
      const featureSize = this.#dataset.featureShape.reduce((a, b) => a * b, 1);
      const labelSize = this.#dataset.labelShape.reduce((a, b) => a * b, 1);
      frame = encodeMessage({
        type: 'dataChunk',
        chunkId,
        start,
        count,
        features: this.#dataset.features.subarray(start * featureSize, (start + count) * featureSize),
        labels: this.#dataset.labels.subarray(start * labelSize, (start + count) * labelSize),
      });
      this.#frames.set(chunkId, frame);
    }
    return frame;
  }
}
