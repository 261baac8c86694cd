import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderMetrics, type Registry } from '@dtrain/metrics';

export interface MetricsServerOptions {
  /** TCP port; 0 picks a free one (read it back from `port`). */
  readonly port: number;
  /** Interface to bind; default '0.0.0.0', since Prometheus scrapes from another host. */
  readonly host?: string;
}

/** A running worker metrics endpoint. */
export interface MetricsServer {
  /** The bound port (the chosen one when asked for 0). */
  readonly port: number;
  /** http://HOST:PORT/metrics, with the bound interface as HOST. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A worker's own HTTP endpoint: `/metrics` (Prometheus text format, from
 * `registry`) and `/healthz`. Plain node:http: a worker serves nothing else,
 * so it needs no framework, and the metrics are read-only and hold no
 * secrets, so there is no authentication.
 */
export async function startMetricsServer(registry: Registry, options: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz') return send(res, 200, 'text/plain', 'ok\n');
    if (path !== '/metrics') return send(res, 404, 'text/plain', 'not found\n');
    renderMetrics(registry).then(
      ({ contentType, body }) => send(res, 200, contentType, body),
      (error: unknown) => send(res, 500, 'text/plain', `${error instanceof Error ? error.message : String(error)}\n`),
    );
  });
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A scrape in flight must not keep a finished worker alive.
  server.unref();
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
