import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { SECONDS_BUCKETS } from './buckets.js';

/** Every metric a worker process defines (besides the default process metrics). */
export const WORKER_METRIC_NAMES = [
  'dtrain_worker_step_compute_seconds',
  'dtrain_worker_data_seconds',
  'dtrain_worker_wait_seconds',
  'dtrain_worker_steps_total',
  'dtrain_worker_samples_total',
  'dtrain_worker_sample_reads_total',
  'dtrain_worker_sample_read_bytes_total',
  'dtrain_tfjs_tensors',
  'dtrain_tfjs_bytes',
  'dtrain_worker_info',
] as const;

/** The labels of `dtrain_worker_info`; what is not known yet is exported as an empty label. */
export interface WorkerInfo {
  /** tfjs backend the worker computes with, once chosen. */
  readonly backend?: string;
  /** The id the coordinator gave this worker in its welcome (reused across reconnects when free). */
  readonly workerId?: number;
  /** The job's name, from the welcome. */
  readonly job?: string;
}

/** One computed step, as the worker timed it. */
export interface WorkerStep {
  /** Loss and gradient computation (forward + backward), seconds. */
  readonly computeSeconds: number;
  /** Getting the batch's samples: reading them (shared access) and gathering them, seconds. */
  readonly dataSeconds: number;
  /** Samples in the batch. */
  readonly samples: number;
}

/** Samples read through the worker's sample cache since the last report (shared access). */
export interface SampleReads {
  readonly hits: number;
  readonly misses: number;
  /** Feature bytes read from the source (reads and prefetches). */
  readonly bytesRead: number;
}

/** What tfjs holds (`tf.memory()` has this shape; the metrics package does not import tfjs). */
export interface TfjsMemory {
  readonly numTensors: number;
  readonly numBytes: number;
}

/** A worker process's metrics, registered on the injected registry, served on its own /metrics. */
export class WorkerMetrics {
  readonly #info: Gauge<'backend' | 'worker_id' | 'job'>;
  readonly #compute: Histogram;
  readonly #data: Histogram;
  readonly #wait: Histogram;
  readonly #steps: Counter;
  readonly #samples: Counter;
  readonly #sampleReads: Counter<'result'>;
  readonly #sampleBytes: Counter;
  readonly #tensors: Gauge;
  readonly #bytes: Gauge;
  #currentInfo: WorkerInfo;

  /**
   * @param registry where every metric is registered (never prom-client's global one)
   * @param info the labels of `dtrain_worker_info` known so far; `setInfo` adds the rest
   */
  constructor(registry: Registry, info: WorkerInfo = {}) {
    const registers = [registry];
    this.#currentInfo = info;
    this.#info = new Gauge({ name: 'dtrain_worker_info', help: 'dtrain worker backend, id and job; always 1.', labelNames: ['backend', 'worker_id', 'job'], registers });
    this.#compute = new Histogram({
      name: 'dtrain_worker_step_compute_seconds',
      help: 'Time computing the loss and gradients of one step (forward + backward), without gathering data.',
      buckets: [...SECONDS_BUCKETS],
      registers,
    });
    this.#data = new Histogram({
      name: 'dtrain_worker_data_seconds',
      help: "Time getting a step's batch: reading its samples (shared access) and gathering them.",
      buckets: [...SECONDS_BUCKETS],
      registers,
    });
    this.#wait = new Histogram({
      name: 'dtrain_worker_wait_seconds',
      help: 'Idle time between sending gradients and receiving the next assignment (time spent applying weights and storing data chunks excluded).',
      buckets: [...SECONDS_BUCKETS],
      registers,
    });
    this.#steps = new Counter({ name: 'dtrain_worker_steps_total', help: 'Steps this worker computed gradients for.', registers });
    this.#samples = new Counter({ name: 'dtrain_worker_samples_total', help: 'Samples this worker computed gradients for (applied or not).', registers });
    this.#sampleReads = new Counter({
      name: 'dtrain_worker_sample_reads_total',
      help: 'Shared access: samples of assignments found in the sample cache (hit, a prefetch included) or read from the source (miss).',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['hit', 'miss']) this.#sampleReads.inc({ result }, 0);
    this.#sampleBytes = new Counter({ name: 'dtrain_worker_sample_read_bytes_total', help: 'Shared access: feature bytes read from the source, prefetches included.', registers });
    this.#tensors = new Gauge({ name: 'dtrain_tfjs_tensors', help: 'Tensors tfjs holds, after the last step.', registers });
    this.#bytes = new Gauge({ name: 'dtrain_tfjs_bytes', help: 'Bytes of tensor data tfjs holds, after the last step.', registers });
    this.#setInfoLabels();
  }

  /** Adds or changes labels of `dtrain_worker_info` (backend once chosen, id and job once welcomed); the old series goes. */
  setInfo(info: WorkerInfo): void {
    this.#currentInfo = { ...this.#currentInfo, ...info };
    this.#setInfoLabels();
  }

  stepComputed(step: WorkerStep): void {
    this.#steps.inc();
    if (step.samples > 0) this.#samples.inc(step.samples);
    if (isDuration(step.computeSeconds)) this.#compute.observe(step.computeSeconds);
    if (isDuration(step.dataSeconds)) this.#data.observe(step.dataSeconds);
  }

  /** Shared access: what reading an assignment's samples (and prefetching) cost since the last call. */
  sampleReads(reads: SampleReads): void {
    if (reads.hits > 0) this.#sampleReads.inc({ result: 'hit' }, reads.hits);
    if (reads.misses > 0) this.#sampleReads.inc({ result: 'miss' }, reads.misses);
    if (reads.bytesRead > 0) this.#sampleBytes.inc(reads.bytesRead);
  }

  /** Idle time before an assignment arrived, seconds. */
  waited(seconds: number): void {
    if (isDuration(seconds)) this.#wait.observe(seconds);
  }

  tfjsMemory(memory: TfjsMemory): void {
    this.#tensors.set(memory.numTensors);
    this.#bytes.set(memory.numBytes);
  }

  #setInfoLabels(): void {
    const { backend, workerId, job } = this.#currentInfo;
    this.#info.reset();
    this.#info.set({ backend: backend ?? '', worker_id: workerId === undefined ? '' : String(workerId), job: job ?? '' }, 1);
  }
}

function isDuration(seconds: number): boolean {
  return Number.isFinite(seconds) && seconds >= 0;
}
