/**
 * Timeouts for dtrain's HTTP servers (the coordinator's WebSocket and
 * status port, a shard's data-link port), so that a client that sends half
 * a request head and goes quiet is closed within seconds instead of Node's
 * default minute (headersTimeout 60 s, checked every 30 s): a connection
 * storm of such clients then cannot hold file descriptors for long. A
 * WebSocket or data link, once upgraded, is not an HTTP request any more and
 * is not affected; an upgraded connection that never says hello is closed by
 * the heartbeat.
 */
export const HTTP_SERVER_LIMITS = {
  /** The whole request head must arrive within this, ms. */
  headersTimeout: 10_000,
  /** A whole (non-upgrade) request, body included, ms. */
  requestTimeout: 30_000,
  /** How often those two are checked, ms (Node's default: 30 s). */
  connectionsCheckingInterval: 1_000,
} as const;
