import { hostname } from 'node:os';
import WebSocket from 'ws';
import { initBackend, tf, type BackendInfo } from '@dtrain/engine';
import type { WorkerMetrics } from '@dtrain/metrics';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  decodeMessage,
  encodeMessage,
  toErrorMessage,
  type Message,
} from '@dtrain/protocol';
import { backoffDelay } from './backoff.js';
import { WorkerCompute } from './compute.js';
import { IdleClock } from './idle-clock.js';

export interface WorkerLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface WorkerOptions {
  /** ws:// or wss:// URL of the coordinator. */
  readonly coordinator: string;
  /** tfjs backend: 'auto' (default), 'tensorflow', 'wasm' or 'cpu'. */
  readonly backend?: string;
  /** Shared secret sent on the upgrade (Authorization: Bearer) and in hello. */
  readonly token?: string;
  /** Stop trying to reach the coordinator after this long without a connection, ms; default 120000. */
  readonly reconnectTimeoutMs?: number;
  /** Extra TLS trust for wss:// (PEM CA certificate). */
  readonly ca?: string | Buffer;
  readonly log: WorkerLogger;
  /**
   * When the job finishes successfully, stay idle until SIGTERM instead of
   * exiting (a Kubernetes Deployment would restart an exited worker, which
   * would only be told again that the job is over); default false.
   */
  readonly linger?: boolean;
  /** Install a SIGTERM handler that leaves cleanly; default true. */
  readonly handleSignals?: boolean;
  /** Where this worker records its compute, data and wait time and tfjs memory; default none (no metrics). */
  readonly metrics?: WorkerMetrics;
}

/** Fills the WebSocket masking key with zeros (see the connection options). */
function zeroMask(mask: Uint8Array): void {
  mask.fill(0);
}

/** How a worker process ended. */
export interface WorkerExit {
  readonly code: number;
  readonly reason: string;
}

/**
 * A generic worker: given only the coordinator's address it receives the
 * model, weights, job settings and data over the connection, computes
 * gradients for each assignment and pushes them. It reconnects with capped
 * exponential backoff and jitter when the coordinator goes away, and leaves
 * cleanly on SIGTERM.
 */
export class Worker {
  readonly #o: WorkerOptions;
  #backend: BackendInfo | undefined;
  #ws: WebSocket | undefined;
  #compute: WorkerCompute | undefined;
  #workerId: number | undefined;
  #chain: Promise<void> = Promise.resolve();
  #attempt = 0;
  #lastConnected = Date.now();
  #finish!: (exit: WorkerExit) => void;
  #finished = false;
  /** The job finished and `linger` is set: connected to nobody, waiting for SIGTERM. */
  #lingering = false;
  readonly #idle = new IdleClock();
  readonly exited: Promise<WorkerExit>;

  constructor(options: WorkerOptions) {
    this.#o = options;
    this.exited = new Promise((resolve) => {
      this.#finish = (exit) => {
        if (this.#finished) return;
        this.#finished = true;
        this.#compute?.dispose();
        this.#compute = undefined;
        resolve(exit);
      };
    });
  }

  /** Picks the backend, connects, and resolves when the worker is done (job over, left, or gave up). */
  async run(): Promise<WorkerExit> {
    this.#backend = await initBackend((this.#o.backend ?? 'auto') as Parameters<typeof initBackend>[0]);
    this.#o.log.info(`backend ${this.#backend.name} (${this.#backend.reason})`);
    this.#o.metrics?.setInfo({ backend: this.#backend.name });
    if (this.#o.handleSignals ?? true) {
      const onTerm = (): void => this.leave('SIGTERM');
      process.once('SIGTERM', onTerm);
      process.once('SIGINT', onTerm);
      void this.exited.then(() => {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onTerm);
      });
    }
    this.#connect();
    return this.exited;
  }

  /** Leaves on purpose: says so, closes, and exits 0. Safe at any time. */
  leave(reason: string): void {
    const ws = this.#ws;
    if (ws !== undefined && ws.readyState === WebSocket.OPEN) {
      ws.send(encodeMessage({ type: 'leave', reason }));
      ws.close(1000, 'leave');
    }
    this.#finish({ code: 0, reason: `left: ${reason}` });
  }

  #connect(): void {
    if (this.#finished) return;
    const headers: Record<string, string> = {};
    if (this.#o.token !== undefined && this.#o.token !== '') headers.authorization = `Bearer ${this.#o.token}`;
    const ws = new WebSocket(this.#o.coordinator, {
      headers,
      maxPayload: DEFAULT_MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
      // RFC 6455 masking protects HTTP intermediaries from frames crafted by untrusted browser
      // scripts; a worker is a trusted process, and XOR-ing every gradient byte cost ~1 ms per MB
      // on each side. ws skips masking and unmasking for an all-zero mask.
      generateMask: zeroMask,
      ...(this.#o.ca === undefined ? {} : { ca: this.#o.ca }),
    });
    ws.binaryType = 'nodebuffer';
    this.#ws = ws;
    ws.on('open', () => {
      this.#attempt = 0;
      this.#lastConnected = Date.now();
      const backend = this.#backend;
      ws.send(
        encodeMessage({
          type: 'hello',
          protocolVersion: PROTOCOL_VERSION,
          token: this.#o.token ?? '',
          capabilities: { backend: backend?.name ?? 'unknown', devices: backend?.devices ?? [], host: hostname() },
          ...(this.#workerId === undefined ? {} : { previousWorkerId: this.#workerId }),
        }),
      );
    });
    ws.on('unexpected-response', (_req, res) => {
      if (res.statusCode === 401) {
        this.#o.log.error('coordinator refused the token (HTTP 401)');
        this.#finish({ code: 3, reason: 'unauthorized' });
      }
      ws.terminate();
    });
    ws.on('message', (data: Buffer) => {
      this.#chain = this.#chain.then(() => this.#onFrame(ws, data));
    });
    ws.on('error', (error) => this.#o.log.warn(`connection: ${error.message}`));
    ws.on('close', (code, reason) => {
      if (this.#ws === ws) this.#ws = undefined;
      this.#idle.reset();
      this.#compute?.dispose();
      this.#compute = undefined;
      if (this.#finished || this.#lingering) return;
      this.#o.log.warn(`disconnected (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}); reconnecting`);
      this.#scheduleReconnect();
    });
  }

  #scheduleReconnect(): void {
    const limit = this.#o.reconnectTimeoutMs ?? 120_000;
    if (Date.now() - this.#lastConnected > limit) {
      this.#finish({ code: 1, reason: `no coordinator at ${this.#o.coordinator} for ${Math.round(limit / 1000)} s` });
      return;
    }
    const delay = backoffDelay(this.#attempt++);
    setTimeout(() => this.#connect(), delay);
  }

  async #onFrame(ws: WebSocket, frame: Buffer): Promise<void> {
    if (this.#finished || ws !== this.#ws) return;
    let message: Message;
    try {
      message = decodeMessage(frame);
      await this.#handle(ws, message);
    } catch (error) {
      const report = toErrorMessage(error);
      this.#o.log.error(`${report.code}: ${report.message}`);
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(encodeMessage(report));
        ws.close(4000, report.code);
      }
    }
  }

  async #handle(ws: WebSocket, message: Message): Promise<void> {
    switch (message.type) {
      case 'welcome': {
        this.#compute?.dispose();
        this.#workerId = message.workerId;
        this.#compute = await WorkerCompute.fromWelcome(message);
        this.#idle.reset();
        this.#o.metrics?.setInfo({ workerId: message.workerId, job: message.job.name });
        this.#o.log.info(`joined job ${message.job.name} as worker ${message.workerId} at version ${message.version}`);
        return;
      }
      case 'dataChunk':
        this.#busy(() => this.#requireCompute().addChunk(message));
        return;
      case 'weights':
        this.#busy(() => this.#requireCompute().setWeights(message.version, message.weights));
        return;
      case 'assignment': {
        const waited = this.#idle.stop();
        const result = this.#requireCompute().compute(message);
        this.#recordStep(waited, result, message.sampleIds.length);
        if (ws.readyState !== WebSocket.OPEN) return;
        ws.send(
          encodeMessage({
            type: 'gradients',
            workerId: this.#workerId ?? -1,
            step: message.step,
            version: message.version,
            batchId: message.batchId,
            sampleCount: message.sampleIds.length,
            loss: result.loss,
            computeSeconds: result.seconds,
            gradients: result.gradients,
          }),
        );
        this.#idle.start();
        return;
      }
      case 'heartbeat':
        if (message.kind === 'ping') ws.send(encodeMessage({ type: 'heartbeat', kind: 'pong', sentAt: Date.now() }));
        return;
      case 'standby':
        this.#o.log.info(`on standby: ${message.reason}`);
        return;
      case 'shutdown':
        this.#o.log.info(`coordinator says: ${message.reason}`);
        if (message.success && this.#o.linger === true) {
          this.#lingering = true;
          // Nothing else keeps the event loop alive once the socket is closed.
          const keepAlive = setInterval(() => undefined, 60_000);
          void this.exited.then(() => clearInterval(keepAlive));
          this.#o.log.info('job finished; idle until SIGTERM (--linger)');
          ws.close(1000, 'shutdown');
          return;
        }
        this.#finish({ code: message.success ? 0 : 1, reason: message.reason });
        ws.close(1000, 'shutdown');
        return;
      case 'error':
        this.#o.log.error(`coordinator reported ${message.code}: ${message.message}`);
        return;
      default:
        throw new Error(`unexpected ${message.type} from the coordinator`);
    }
  }

  /** Work done between sending gradients and the next assignment: not idle time. */
  #busy(work: () => void): void {
    const started = performance.now();
    work();
    this.#idle.busy(performance.now() - started);
  }

  #recordStep(waitedSeconds: number | undefined, result: { dataSeconds: number; stepSeconds: number }, samples: number): void {
    const metrics = this.#o.metrics;
    if (metrics === undefined) return;
    if (waitedSeconds !== undefined) metrics.waited(waitedSeconds);
    metrics.stepComputed({ computeSeconds: result.stepSeconds, dataSeconds: result.dataSeconds, samples });
    metrics.tfjsMemory(tf.memory());
  }

  #requireCompute(): WorkerCompute {
    if (this.#compute === undefined) throw new Error('message before welcome');
    return this.#compute;
  }
}
