/**
 * Every message of the step lifecycle, as typed payloads. This file is the
 * contract between coordinator and workers: the codec and the validators
 * follow it, and nothing else defines a message shape.
 */

/** Bumped on any incompatible change of a message or of the frame layout. */
export const PROTOCOL_VERSION = 2;

/** Wire type codes. Stable: never renumber, only append. */
export const MessageType = {
  hello: 1,
  welcome: 2,
  assignment: 3,
  /** 4 and 5 were the whole-model `gradients` and `weights` messages of protocol 1. */
  heartbeat: 6,
  leave: 7,
  error: 8,
  dataChunk: 9,
  standby: 10,
  shutdown: 11,
  pushReport: 14,
} as const;
export type MessageKind = keyof typeof MessageType;

/** What a worker can compute with, reported in `hello`. */
export interface WorkerCapabilities {
  /** tfjs backend in use: 'tensorflow' (tfjs-node / -gpu), 'wasm' or 'cpu'. */
  readonly backend: string;
  /** Devices visible to the backend, e.g. ['cpu'] or ['gpu:0']. */
  readonly devices: readonly string[];
  /** Free-form host name, for status pages. */
  readonly host: string;
}

/** worker → coordinator, first message on a connection. */
export interface HelloMessage {
  readonly type: 'hello';
  readonly protocolVersion: number;
  /** Shared secret; '' when the coordinator requires none. */
  readonly token: string;
  readonly capabilities: WorkerCapabilities;
  /** The id this worker had before a reconnect, so it can be reused. */
  readonly previousWorkerId?: number;
}

/** One entry of the flat weight layout shared by engine and parameter server. */
export interface WeightEntry {
  /** tfjs weight name, e.g. 'dense_0/kernel'. */
  readonly name: string;
  readonly shape: readonly number[];
  /** Offset in float32 elements into the flat array. */
  readonly offset: number;
  /** Element count (product of shape). */
  readonly size: number;
  /** Non-trainable entries (batch-norm moving stats) carry state, not gradients. */
  readonly trainable: boolean;
}

/** Describes the data a worker will be sent in `dataChunk` messages. */
export interface DataDescriptor {
  readonly numSamples: number;
  readonly featureShape: readonly number[];
  readonly labelShape: readonly number[];
  /** Samples per chunk; chunk k holds sample ids [k*chunkSize, (k+1)*chunkSize). */
  readonly chunkSize: number;
}

/** Training settings a worker needs; the job config's JSON-able subset. */
export interface WorkerJobConfig {
  readonly name: string;
  /** Loss name as in the engine: 'categoricalCrossentropy' | ... */
  readonly loss: string;
  readonly batchSize: number;
  readonly seed: number;
  /** Heartbeat period the coordinator expects, ms. */
  readonly heartbeatIntervalMs: number;
  /** Largest data-plane chunk payload, bytes (a multiple of 4); `cluster.chunkBytes`. */
  readonly chunkBytes: number;
}

/** One parameter-server shard: the flat range it owns. */
export interface ShardDescriptor {
  /** First flat element the shard owns. */
  readonly start: number;
  /** One past the last flat element it owns. */
  readonly end: number;
  /**
   * Where its data plane listens (`ws://host:port`); '' for the embedded
   * shard, which is reached over the coordinator connection itself.
   */
  readonly url: string;
}

/** coordinator → worker, answer to `hello`. */
export interface WelcomeMessage {
  readonly type: 'welcome';
  readonly workerId: number;
  readonly job: WorkerJobConfig;
  /** tfjs Layers topology JSON (model.toJSON(null, false)). */
  readonly modelTopology: unknown;
  readonly layout: readonly WeightEntry[];
  /** Version of the weights that follow as `weightsChunk` frames. */
  readonly version: number;
  /** The shards, in range order; together they cover the whole layout. */
  readonly shards: readonly ShardDescriptor[];
  readonly data: DataDescriptor;
}

/** coordinator → worker: compute gradients for this batch at this version. */
export interface AssignmentMessage {
  readonly type: 'assignment';
  readonly step: number;
  readonly epoch: number;
  readonly version: number;
  readonly batchId: number;
  readonly sampleIds: Uint32Array;
}

/** coordinator → worker: samples [start, start+count) of the training set. */
export interface DataChunkMessage {
  readonly type: 'dataChunk';
  readonly chunkId: number;
  readonly start: number;
  readonly count: number;
  readonly features: Float32Array;
  readonly labels: Float32Array;
}

/**
 * worker → coordinator: the result of one assignment. The gradients
 * themselves went to the shards as `gradientChunk` frames before this
 * report; a non-finite result sends no chunks at all.
 */
export interface PushReportMessage {
  readonly type: 'pushReport';
  readonly workerId: number;
  readonly step: number;
  readonly version: number;
  readonly batchId: number;
  readonly sampleCount: number;
  /** Mean loss over the batch (regularisation included); may be NaN when `finite` is false. */
  readonly loss: number;
  /** Seconds the worker spent computing (for straggler metrics). */
  readonly computeSeconds: number;
  /** False when the loss or any gradient value was NaN or ±Infinity (no chunks were sent). */
  readonly finite: boolean;
}

/** Either direction; the receiver answers a ping with a pong. */
export interface HeartbeatMessage {
  readonly type: 'heartbeat';
  readonly kind: 'ping' | 'pong';
  /** Sender's clock, ms since epoch. */
  readonly sentAt: number;
}

/** worker → coordinator: leaving on purpose (SIGTERM, scale-down). */
export interface LeaveMessage {
  readonly type: 'leave';
  readonly reason: string;
}

/** Either direction: the peer did something wrong; the connection closes. */
export interface ErrorMessage {
  readonly type: 'error';
  readonly code: string;
  readonly message: string;
}

/** coordinator → worker: connected but not needed now (above maxWorkers). */
export interface StandbyMessage {
  readonly type: 'standby';
  readonly reason: string;
}

/** coordinator → worker: the job is over; exit with this status. */
export interface ShutdownMessage {
  readonly type: 'shutdown';
  readonly reason: string;
  readonly success: boolean;
}

export type Message =
  | HelloMessage
  | WelcomeMessage
  | AssignmentMessage
  | DataChunkMessage
  | PushReportMessage
  | HeartbeatMessage
  | LeaveMessage
  | ErrorMessage
  | StandbyMessage
  | ShutdownMessage;
