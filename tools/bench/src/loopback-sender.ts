/**
 * Child process of the loopback-floor measurement (and of the cluster lab's
 * link measurement): connects to HOST:PORT (default 127.0.0.1) and writes
 * WRITE_BYTES-sized buffers as fast as the socket takes them (waiting for
 * 'drain', as a WebSocket sender does) for SECONDS, then ends the connection.
 *
 * Usage: node loopback-sender.js PORT SECONDS WRITE_BYTES [HOST]
 */
import { connect } from 'node:net';
import { once } from 'node:events';

const [port, seconds, writeBytes] = process.argv.slice(2, 5).map(Number);
const host = process.argv[5] ?? '127.0.0.1';
if (port === undefined || seconds === undefined || writeBytes === undefined || ![port, seconds, writeBytes].every(Number.isFinite)) {
  process.stderr.write('usage: loopback-sender PORT SECONDS WRITE_BYTES [HOST]\n');
  process.exit(2);
}
const socket = connect({ port, host, noDelay: true });
await once(socket, 'connect');
// One buffer written again and again: what is timed is the socket, not filling memory.
const block = Buffer.alloc(writeBytes, 0x5a);
const end = performance.now() + seconds * 1000;
while (performance.now() < end) {
  if (!socket.write(block)) await once(socket, 'drain');
}
socket.end();
await once(socket, 'close');
