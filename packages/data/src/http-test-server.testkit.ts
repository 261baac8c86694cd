import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { afterAll } from 'vitest';

/*
 * A real HTTP server on 127.0.0.1 (ephemeral port) serving the files of a
 * folder, for tests of HttpByteSource and the indexed sources over http.
 * Closed after the calling test file.
 */

export interface TestServerOptions {
  /** Honour `Range: bytes=a-b` with a 206 (true) or ignore it and answer 200 with the whole file (false). Default true. */
  readonly ranges?: boolean;
  /** Answer HEAD with a Content-Length. Default true; false forces the `bytes=0-0` probe. */
  readonly headLength?: boolean;
  /** Serve this many bytes fewer than a range asks for, while claiming the full range. Default 0. */
  readonly shortBy?: number;
}

export interface TestServer {
  /** `http://127.0.0.1:<port>/` */
  readonly baseUrl: string;
  /** Requests seen, e.g. `GET /a.idx bytes=0-1023`. */
  readonly log: string[];
}

export async function serveFolder(root: () => string, options: TestServerOptions = {}): Promise<TestServer> {
  const log: string[] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
      const range = request.headers.range;
      log.push(`${request.method ?? '?'} ${path}${range === undefined ? '' : ` ${range.slice('bytes='.length)}`}`);
      let body: Buffer;
      try {
        body = await readFile(join(root(), path));
      } catch {
        response.writeHead(404).end();
        return;
      }
      const match = /^bytes=(\d+)-(\d+)$/.exec(range ?? '');
      if (options.ranges === false || match === null) {
        const headers = request.method === 'HEAD' && options.headLength === false ? {} : { 'content-length': body.length };
        response.writeHead(200, headers);
        response.end(request.method === 'HEAD' ? undefined : body);
        return;
      }
      const first = Number(match[1]);
      const last = Math.min(Number(match[2]), body.length - 1);
      if (first >= body.length) {
        response.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      const slice = body.subarray(first, last + 1 - (options.shortBy ?? 0));
      // No Content-Length on a short answer: the body just ends early, as a broken proxy's would.
      response.writeHead(206, { 'content-range': `bytes ${first}-${last}/${body.length}` });
      response.end(slice);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}/`, log };
}
