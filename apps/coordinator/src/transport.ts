/**
 * The seam between policy and sockets. The coordinator core sees only these
 * interfaces; `ws-server.ts` adapts the `ws` library to them. Nothing in the
 * step loop or membership code imports `ws`.
 */

/** One worker connection, as the core sees it. */
export interface Connection {
  /** Unique per process lifetime, for logs. */
  readonly id: number;
  readonly remoteAddress: string;
  /**
   * Queues one binary frame. The same buffer may be passed to many
   * connections. The transport may keep referring to `frame` until
   * `onWritten` is called (once the bytes are handed to the kernel, or the
   * connection is gone), so the caller must not change it before then.
   */
  send(frame: Uint8Array, onWritten?: () => void): void;
  /**
   * Queues one frame given in parts (e.g. a chunk's header and a view of the
   * weights it carries), without concatenating them: the peer receives one
   * message. The parts are referred to, not copied, until they are written.
   */
  sendParts(parts: readonly Uint8Array[]): void;
  /** Closes with a WebSocket close code and a short reason. */
  close(code: number, reason: string): void;
  /** Bytes queued but not yet written to the socket (back-pressure signal). */
  bufferedBytes(): number;
}

/** What the core implements; the adapter calls it. */
export interface ConnectionHandler {
  onOpen(connection: Connection): void;
  onMessage(connection: Connection, frame: Uint8Array): void;
  onClose(connection: Connection, code: number, reason: string): void;
}

/** WebSocket close codes used by dtrain (4000-4999 is the application range). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 4000,
  evicted: 4001,
  jobFinished: 4002,
  unauthorized: 4003,
  rejected: 4004,
} as const;
