import type { WorkerCapabilities } from '@dtrain/protocol';
import type { Connection } from './transport.js';

/** A worker's lifecycle as the coordinator sees it. */
export const WorkerState = {
  /** Socket open, no valid hello yet. */
  connecting: 'connecting',
  /** Welcomed; waiting for an assignment. */
  joined: 'joined',
  /** Holds an assignment of the current step. */
  training: 'training',
  /** Connected but not needed (above `cluster.maxWorkers`). */
  standby: 'standby',
  /** Said leave; finishing or abandoning its step. */
  draining: 'draining',
  /** Disconnected or evicted. */
  gone: 'gone',
} as const;
export type WorkerState = (typeof WorkerState)[keyof typeof WorkerState];

export interface WorkerRecord {
  /** Small integer, reused after the worker leaves, so metric labels stay bounded. */
  readonly id: number;
  readonly connection: Connection;
  state: WorkerState;
  capabilities: WorkerCapabilities | undefined;
  readonly connectedAt: number;
  /** Last time any message arrived from it, ms since epoch. */
  lastSeen: number;
  /** Data chunks already shipped on this connection. */
  readonly chunksSent: Set<number>;
  /** Steps this worker's gradients were applied in, and their samples. */
  stepsApplied: number;
  samplesApplied: number;
  /** Compute time the worker reported for its last push, seconds. */
  lastComputeSeconds: number | undefined;
  /** Of lastComputeSeconds, the time it spent getting the batch's samples (its data wait); undefined from older workers. */
  lastDataSeconds: number | undefined;
  /** Left out of the step quorum as a straggler (straggler-policy.ts); still connected and sent weights. */
  benched: boolean;
}

/** Every connected worker, by connection and by id. Ids are the smallest free integers. */
export class Membership {
  readonly #byConnection = new Map<Connection, WorkerRecord>();
  readonly #byId = new Map<number, WorkerRecord>();

  /** Registers an open connection; the worker id is assigned now and reused after it leaves. */
  add(connection: Connection, preferredId?: number): WorkerRecord {
    const id = preferredId !== undefined && preferredId >= 0 && !this.#byId.has(preferredId) ? preferredId : this.#freeId();
    const now = Date.now();
    const record: WorkerRecord = {
      id,
      connection,
      state: WorkerState.connecting,
      capabilities: undefined,
      connectedAt: now,
      lastSeen: now,
      chunksSent: new Set(),
      stepsApplied: 0,
      samplesApplied: 0,
      lastComputeSeconds: undefined,
      lastDataSeconds: undefined,
      benched: false,
    };
    this.#byConnection.set(connection, record);
    this.#byId.set(id, record);
    return record;
  }

  /** Re-keys a record under the id a reconnecting worker had before, when that id is free. */
  reclaimId(record: WorkerRecord, previousId: number): WorkerRecord {
    if (previousId === record.id || this.#byId.has(previousId) || previousId < 0) return record;
    this.#byId.delete(record.id);
    const moved: WorkerRecord = { ...record, id: previousId };
    this.#byId.set(previousId, moved);
    this.#byConnection.set(record.connection, moved);
    return moved;
  }

  byConnection(connection: Connection): WorkerRecord | undefined {
    return this.#byConnection.get(connection);
  }

  byId(id: number): WorkerRecord | undefined {
    return this.#byId.get(id);
  }

  /** Forgets the worker; its id becomes free. Returns the record it had, marked gone. */
  remove(connection: Connection): WorkerRecord | undefined {
    const record = this.#byConnection.get(connection);
    if (record === undefined) return undefined;
    this.#byConnection.delete(connection);
    this.#byId.delete(record.id);
    record.state = WorkerState.gone;
    return record;
  }

  all(): WorkerRecord[] {
    return [...this.#byId.values()].sort((a, b) => a.id - b.id);
  }

  /** Workers that can take an assignment (joined or already training). */
  active(): WorkerRecord[] {
    return this.all().filter((w) => w.state === WorkerState.joined || w.state === WorkerState.training);
  }

  countByState(): Record<WorkerState, number> {
    const counts: Record<WorkerState, number> = {
      connecting: 0,
      joined: 0,
      training: 0,
      standby: 0,
      draining: 0,
      gone: 0,
    };
    for (const w of this.#byId.values()) counts[w.state] += 1;
    return counts;
  }

  get size(): number {
    return this.#byId.size;
  }

  #freeId(): number {
    let id = 0;
    while (this.#byId.has(id)) id += 1;
    return id;
  }
}
