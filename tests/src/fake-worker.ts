import WebSocket from 'ws';
import {
  PROTOCOL_VERSION,
  decodeMessage,
  encodeMessage,
  type AssignmentMessage,
  type Message,
  type WeightsMessage,
  type WelcomeMessage,
} from '@dtrain/protocol';

/**
 * A worker played by the test over a real socket: it speaks the protocol
 * with hand-made payloads, so tests can push known gradients or bad frames.
 */
export class FakeWorker {
  readonly ws: WebSocket;
  readonly messages: Message[] = [];
  closed: { code: number; reason: string } | undefined;
  readonly #waiters: (() => void)[] = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer) => {
      this.messages.push(decodeMessage(new Uint8Array(data)));
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
  async weights(version: number): Promise<WeightsMessage> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const w = this.messages.find((m): m is WeightsMessage => m.type === 'weights' && m.version === version);
      if (w !== undefined) return w;
      if (Date.now() > deadline || this.closed !== undefined) throw new Error(`no weights for version ${version}`);
      await new Promise((r) => setTimeout(r, 50));
    }
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
