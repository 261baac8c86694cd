import WebSocket from 'ws';
import {
  ChunkPlan,
  PROTOCOL_VERSION,
  chunkKindOf,
  decodeChunk,
  decodeMessage,
  encodeChunk,
  encodeMessage,
  type AssignmentMessage,
  type Message,
  type WelcomeMessage,
} from '@dtrain/protocol';

/**
 * A worker played by the test over a real socket: it speaks the protocol
 * with hand-made payloads, so tests can push known gradients or bad frames.
 */
export class FakeWorker {
  readonly ws: WebSocket;
  readonly messages: Message[] = [];
  /** Weights assembled from weightsChunk frames, by version (complete or not). */
  readonly #versions = new Map<number, { weights: Float32Array; chunks: Set<number> }>();
  #plan: ChunkPlan | undefined;
  closed: { code: number; reason: string } | undefined;
  readonly #waiters: (() => void)[] = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer) => {
      const frame = new Uint8Array(data);
      if (chunkKindOf(frame) !== undefined) this.#weightsChunk(frame);
      else {
        const message = decodeMessage(frame);
        if (message.type === 'welcome') this.#plan = new ChunkPlan(message.shards.at(-1)?.end ?? 0, message.job.chunkBytes);
        this.messages.push(message);
      }
      this.#wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#wake();
    });
  }

  static async connect(url: string, token: string): Promise<FakeWorker> {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new FakeWorker(ws);
  }

  hello(token: string): void {
    this.send(
      encodeMessage({ type: 'hello', protocolVersion: PROTOCOL_VERSION, token, capabilities: { backend: 'fake', devices: [], host: 'test' } }),
    );
  }

  send(frame: Uint8Array | Buffer): void {
    this.ws.send(frame, { binary: true });
  }

  /** Resolves with the first message (from index `from`) that `match` accepts. */
  async next<T extends Message['type']>(type: T, from = 0, timeoutMs = 20_000): Promise<Extract<Message, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find((m) => m.type === type);
      if (found !== undefined) return found as Extract<Message, { type: T }>;
      if (this.closed !== undefined) throw new Error(`closed (${this.closed.code} ${this.closed.reason}) before a ${type} message`);
      if (Date.now() > deadline) throw new Error(`no ${type} message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  async welcome(): Promise<WelcomeMessage> {
    return this.next('welcome');
  }
  async assignment(): Promise<AssignmentMessage> {
    return this.next('assignment');
  }
  /** The weights of `version`, once every chunk of it has arrived. */
  async weights(version: number): Promise<{ weights: Float32Array }> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const v = this.#versions.get(version);
      if (v !== undefined && this.#plan !== undefined && v.chunks.size === this.#plan.chunkCount) return { weights: v.weights };
      if (Date.now() > deadline || this.closed !== undefined) throw new Error(`no weights for version ${version}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Pushes `gradients` for an assignment as the data plane does: chunk frames,
   * then the report. `finite: false` sends only the report.
   */
  push(workerId: number, asg: AssignmentMessage, gradients: Float32Array, o: { version?: number; loss?: number; finite?: boolean; accuracy?: number } = {}): void {
    const version = o.version ?? asg.version;
    const finite = o.finite ?? true;
    const plan = this.#plan;
    if (plan === undefined) throw new Error('push before welcome');
    if (finite) {
      for (let i = 0; i < plan.chunkCount; i += 1) {
        const { offset, count } = plan.chunk(i);
        this.send(encodeChunk({ kind: 'gradientChunk', workerId, step: asg.step, version, sampleCount: asg.sampleIds.length, offset }, gradients.subarray(offset, offset + count)));
      }
    }
    this.send(
      encodeMessage({
        type: 'pushReport',
        workerId,
        step: asg.step,
        version,
        batchId: asg.batchId,
        sampleCount: asg.sampleIds.length,
        loss: o.loss ?? 1,
        computeSeconds: 0.01,
        finite,
        ...(o.accuracy === undefined ? {} : { accuracy: o.accuracy }),
      }),
    );
  }

  #weightsChunk(frame: Uint8Array): void {
    const chunk = decodeChunk(frame);
    const plan = this.#plan;
    if (plan === undefined) throw new Error('weights chunk before welcome');
    let v = this.#versions.get(chunk.version);
    if (v === undefined) {
      v = { weights: new Float32Array(plan.totalSize), chunks: new Set() };
      this.#versions.set(chunk.version, v);
    }
    v.weights.set(chunk.values, chunk.offset);
    v.chunks.add(chunk.offset);
  }

  async waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (this.closed === undefined) {
      if (Date.now() > deadline) throw new Error('connection not closed');
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.closed;
  }

  close(): void {
    this.ws.close();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}
