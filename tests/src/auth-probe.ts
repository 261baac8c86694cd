/**
 * Raw HTTP probes of a coordinator's port for the auth tests: a WebSocket
 * upgrade request seen at the HTTP level (status code, and whether a socket
 * was handed over), and GETs with or without a bearer token, over http or https.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface ProbeOptions {
  /** Bearer token for the Authorization header; none when undefined. */
  readonly token?: string;
  /** Extra CA (PEM) for https. */
  readonly ca?: Buffer;
}

function send(url: string, options: RequestOptions, probe: ProbeOptions): ReturnType<typeof httpRequest> {
  const headers = { ...options.headers, ...(probe.token === undefined ? {} : { authorization: `Bearer ${probe.token}` }) };
  return url.startsWith('https:') || url.startsWith('wss:')
    ? httpsRequest(url.replace(/^wss:/, 'https:'), { ...options, headers, ...(probe.ca === undefined ? {} : { ca: probe.ca }) })
    : httpRequest(url.replace(/^ws:/, 'http:'), { ...options, headers });
}

/**
 * Sends a WebSocket upgrade request. Resolves with the HTTP status and
 * whether the server switched protocols (101, a socket handed over); an
 * upgraded socket is closed at once.
 */
export function upgrade(url: string, probe: ProbeOptions = {}): Promise<{ status: number; upgraded: boolean; socketClosedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const req = send(url, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64') },
    }, probe);
    req.once('upgrade', (res: IncomingMessage, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, upgraded: true, socketClosedByServer: false });
    });
    req.once('response', (res: IncomingMessage) => {
      res.resume();
      // The server must end the connection, not keep a half-open socket around.
      if (res.socket.destroyed) resolve({ status: res.statusCode ?? 0, upgraded: false, socketClosedByServer: true });
      res.socket.once('close', () => resolve({ status: res.statusCode ?? 0, upgraded: false, socketClosedByServer: true }));
      setTimeout(() => resolve({ status: res.statusCode ?? 0, upgraded: false, socketClosedByServer: false }), 3_000).unref();
    });
    req.once('error', reject);
    req.end();
  });
}

/** GET url; resolves with the status and body. */
export function get(url: string, probe: ProbeOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'GET' }, probe);
    req.once('response', (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end();
  });
}
