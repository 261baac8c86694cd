/**
 * Every message of the step lifecycle, as typed payloads. This file is the
 * contract between coordinator and workers: the codec and the validators
 * follow it, and nothing else defines a message shape.
 */
import type { WireFormat } from './wire-format.js';

/** Bumped on any incompatible change of a message or of the frame layout. */
export const PROTOCOL_VERSION = 3;

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
  dataHello: 15,
  shardHello: 16,
  shardSetup: 17,
  shardState: 18,
  shardSetupDone: 19,
  shardReady: 20,
  shardPush: 21,
  shardPrepare: 22,
  shardPrepared: 23,
  shardDecide: 24,
  shardApplied: 25,
  shardSnapshot: 26,
  shardSnapshotDone: 27,
  prefetch: 28,
  readFailure: 29,
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
  /** Present when the worker reads its own samples (`dataset.access: shared`); no `dataChunk` follows then. */
  readonly shared?: SharedDataDescriptor;
}

/**
 * Where a worker reads the training samples itself, and how: the source
 * (every shard a path every worker sees or an http(s) URL), which of its
 * samples are the training set, and the normalisation to apply when a
 * batch is built (8-bit samples stay 8-bit until then).
 */
export interface SharedDataDescriptor {
  /**
   * The source as the job config's `dataset:` gives it, `format` included,
   * with shard globs expanded to lists of paths or URLs (one per shard, in
   * order) and `numClasses` fixed; the worker's reader checks it.
   */
  readonly source: Readonly<Record<string, unknown>>;
  /**
   * The shards as the coordinator indexed them, in order. A worker opens a
   * shard when it first needs one of its samples, so a shard it cannot read
   * costs it only that shard's batches.
   */
  readonly shards: readonly SharedShard[];
  /**
   * Feature shape the model takes (`dataset.featureShape`); the source's own
   * when absent. Same element count as the source's samples.
   */
  readonly featureShape?: readonly number[];
  /** The training set is the source minus this fraction, chosen with `splitSeed` (the data package's `splitIds`). */
  readonly validationSplit: number;
  readonly splitSeed: number;
  /** Normalisation statistics fitted on the training set, as `statsToJSON` writes them. */
  readonly normalisation: Readonly<Record<string, unknown>>;
  /** Byte budget of the worker's sample cache. */
  readonly cacheBytes: number;
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
  /** Element format of the gradient chunks the worker sends (`cluster.wire`); absent means float32. */
  readonly wire?: WireFormat;
  /** Local SGD (`training.localSteps` > 1); absent means synchronous steps (one batch, one gradient). */
  readonly local?: LocalStepsConfig;
}

/**
 * Local SGD (DiLoCo): each assignment is a round of up to `steps` batches,
 * on which the worker takes that many steps of the inner optimizer (the
 * job's `training.optimizer`, its state on the worker) before pushing its
 * pseudo-gradient: the weights it was assigned at minus the weights it ends
 * with (non-trainable entries: their values, as in a synchronous push).
 */
export interface LocalStepsConfig {
  /** H, the most batches in a round (a round at the end of an epoch may have fewer). */
  readonly steps: number;
  /** The inner optimizer as `training.optimizer` gives it ({ name, learningRate, … }); the worker checks it. */
  readonly optimizer: Readonly<Record<string, unknown>>;
  /** `keep`: the inner optimizer's state carries over from round to round; `reset`: each round starts it afresh. */
  readonly innerState: 'keep' | 'reset';
}

/** One batch of a local-SGD round: its id in the epoch plan and how many of the assignment's sample ids are its. */
export interface AssignedBatch {
  readonly batchId: number;
  readonly size: number;
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
  /** The batch (with local SGD: the round's first batch). */
  readonly batchId: number;
  /** The batch's samples (with local SGD: the round's batches one after another). */
  readonly sampleIds: Uint32Array;
  /**
   * Local SGD only: the round's batches in order; their sizes add up to
   * `sampleIds.length` and the first is `batchId`. Absent: one synchronous step.
   */
  readonly batches?: readonly AssignedBatch[];
}

/** One shard of a shared source: its file (features file for paired formats) and how many samples it holds. */
export interface SharedShard {
  readonly file: string;
  readonly numSamples: number;
}

/**
 * coordinator → worker, shared access only: sample ids the worker will
 * probably be assigned next, to read into its cache while it computes. A
 * hint: the next assignment may differ (membership changed), and nothing
 * breaks if it does.
 */
export interface PrefetchMessage {
  readonly type: 'prefetch';
  readonly sampleIds: Uint32Array;
}

/**
 * worker → coordinator, shared access only: the assignment of `step` could
 * not be read because a whole shard could not (missing, refused, truncated).
 * The coordinator gives its batches to other workers and this worker no
 * batch with samples of that shard; no worker able to read it fails the job.
 */
export interface ReadFailureMessage {
  readonly type: 'readFailure';
  readonly step: number;
  /** The shard, as the source names it (path or URL). */
  readonly file: string;
  /** What went wrong, one line. */
  readonly message: string;
}

/** One sample of an assignment that was skipped because it does not parse or decode. */
export interface BadSampleReport {
  /** Training-set id, as in the assignment. */
  readonly sampleId: number;
  /** 'parse' | 'decode' | 'shape'; a label of `dtrain_data_errors_total`. */
  readonly reason: string;
  /** One line naming the file and line or sample. */
  readonly message: string;
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
  /**
   * Fraction of the batch's samples predicted right in the training-mode
   * forward pass that produced the gradients, in [0, 1]; absent for
   * regression losses (and from workers older than this field).
   */
  readonly accuracy?: number;
  /**
   * Samples of the assignment left out of the step because they do not
   * parse or decode (shared access); absent when there were none.
   */
  readonly badSamples?: readonly BadSampleReport[];
  /** Of `computeSeconds`, the seconds spent getting the batch's samples (the worker's data wait); absent from older workers. */
  readonly dataSeconds?: number;
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

// ---- Parameter-server shard processes (`dtrain ps`) ----
//
// A shard dials the coordinator (control plane: shardHello, then setup,
// push notices, the two-phase commit, snapshots) and serves the workers'
// data plane (dataHello, then gradientChunk frames in and weightsChunk
// frames out). Offsets in shardState are local to the shard's range.

/** worker → shard, first message on a data-plane connection. */
export interface DataHelloMessage {
  readonly type: 'dataHello';
  readonly protocolVersion: number;
  readonly token: string;
  /** The id the coordinator gave this worker; every gradient chunk on the connection must carry it. */
  readonly workerId: number;
}

/** shard → coordinator, first message on the shard's control connection. */
export interface ShardHelloMessage {
  readonly type: 'shardHello';
  readonly protocolVersion: number;
  readonly token: string;
  /** 0 … cluster.psShards − 1. */
  readonly index: number;
  /** Where workers reach this shard's data plane (`ws://host:port`). */
  readonly url: string;
  readonly host: string;
}

/** The optimizer state's non-array part; the arrays follow as shardState frames named by `arrays`. */
export interface OptimizerStateHeader {
  readonly name: string;
  readonly iterations: number;
  readonly learningRate: number;
  readonly scalars: Readonly<Record<string, number>>;
  /** Names of the per-element arrays, each sent as shardState frames with that slot name. */
  readonly arrays: readonly string[];
}

/**
 * coordinator → shard: (re)start as the owner of `range`. Its weights (slot
 * 'weights') and, when `optimizerState` is set, each optimizer array follow
 * as shardState frames of this generation, then shardSetupDone.
 */
export interface ShardSetupMessage {
  readonly type: 'shardSetup';
  /** Counts setups of this coordinator; every later control message refers to it implicitly. */
  readonly generation: number;
  readonly layout: readonly WeightEntry[];
  readonly start: number;
  readonly end: number;
  readonly chunkBytes: number;
  /** The job's optimizer config (the parameter server validates it). */
  readonly optimizer: Readonly<Record<string, unknown>>;
  readonly version: number;
  readonly optimizerState?: OptimizerStateHeader;
  /** Element format of the weights chunks the shard sends workers (`cluster.wireWeights`); absent means float32. */
  readonly wireWeights?: WireFormat;
}

/** Either way: `values` of one array of a shard's state, at `offset` within its range. */
export interface ShardStateMessage {
  readonly type: 'shardState';
  /** The setup generation (coordinator → shard) or snapshot id (shard → coordinator). */
  readonly id: number;
  /** 'weights' or an optimizer array's name. */
  readonly slot: string;
  readonly offset: number;
  readonly values: Float32Array;
}

/** coordinator → shard: the setup's state frames are all sent. */
export interface ShardSetupDoneMessage {
  readonly type: 'shardSetupDone';
  readonly generation: number;
}

/** shard → coordinator: set up and serving `version`. */
export interface ShardReadyMessage {
  readonly type: 'shardReady';
  readonly generation: number;
  readonly version: number;
}

/** shard → coordinator: every chunk of a worker's push for a step has arrived here. */
export interface ShardPushMessage {
  readonly type: 'shardPush';
  readonly step: number;
  readonly workerId: number;
  readonly sampleCount: number;
  /** Some chunk held NaN or ±Infinity. */
  readonly nonFinite: boolean;
}

/** coordinator → shard: phase one of a commit; the step takes exactly these workers' pushes. */
export interface ShardPrepareMessage {
  readonly type: 'shardPrepare';
  readonly step: number;
  readonly included: readonly number[];
  /** The learning rate of this step (linear scaling may change it per step). */
  readonly learningRate: number;
}

/** shard → coordinator: whether the shard can apply exactly the included pushes (no chunk is taken after this). */
export interface ShardPreparedMessage {
  readonly type: 'shardPrepared';
  readonly step: number;
  readonly ok: boolean;
  /** Why not, when `ok` is false. */
  readonly reason: string;
}

/** coordinator → shard: phase two; apply the prepared step, or drop its sum. */
export interface ShardDecideMessage {
  readonly type: 'shardDecide';
  readonly step: number;
  readonly apply: boolean;
}

/** shard → coordinator: the step is applied and its new weights sent to every worker connected. */
export interface ShardAppliedMessage {
  readonly type: 'shardApplied';
  readonly step: number;
  readonly version: number;
  readonly sampleCount: number;
  readonly applySeconds: number;
  /** Gradient payload bytes summed for the step, and weight bytes sent for it. */
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** coordinator → shard: send the current state (weights, and the optimizer's when asked) as shardState frames. */
export interface ShardSnapshotMessage {
  readonly type: 'shardSnapshot';
  readonly id: number;
  readonly optimizer: boolean;
}

/** shard → coordinator: the snapshot's frames are all sent. */
export interface ShardSnapshotDoneMessage {
  readonly type: 'shardSnapshotDone';
  readonly id: number;
  readonly version: number;
  readonly optimizerState?: OptimizerStateHeader;
}

export type Message =
  | DataHelloMessage
  | ShardHelloMessage
  | ShardSetupMessage
  | ShardStateMessage
  | ShardSetupDoneMessage
  | ShardReadyMessage
  | ShardPushMessage
  | ShardPrepareMessage
  | ShardPreparedMessage
  | ShardDecideMessage
  | ShardAppliedMessage
  | ShardSnapshotMessage
  | ShardSnapshotDoneMessage
  | HelloMessage
  | WelcomeMessage
  | AssignmentMessage
  | DataChunkMessage
  | PrefetchMessage
  | ReadFailureMessage
  | PushReportMessage
  | HeartbeatMessage
  | LeaveMessage
  | ErrorMessage
  | StandbyMessage
  | ShutdownMessage;
