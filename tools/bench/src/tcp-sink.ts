/**
 * Child process of the cluster lab's link measurement: listens on
 * HOST:PORT, prints `listening` on stdout, takes one connection and counts
 * what arrives, from the first byte to the end of the stream, then prints
 * `{"bytes":…,"seconds":…}` and exits 0. Exits 1 if nothing has ended after
 * TIMEOUT_SECONDS.
 *
 * Usage: node tcp-sink.js HOST PORT TIMEOUT_SECONDS
 */
import { createServer } from 'node:net';

const [host, portText, timeoutText] = process.argv.slice(2);
const port = Number(portText);
const timeoutSeconds = Number(timeoutText);
if (host === undefined || !Number.isInteger(port) || !Number.isFinite(timeoutSeconds)) {
  process.stderr.write('usage: tcp-sink HOST PORT TIMEOUT_SECONDS\n');
  process.exit(2);
}
const limit = setTimeout(() => {
  process.stderr.write(`tcp-sink: no complete transfer within ${timeoutSeconds} s\n`);
  process.exit(1);
}, timeoutSeconds * 1000);
const server = createServer((socket) => {
  server.close();
  let bytes = 0;
  let first = 0;
  socket.on('data', (data: Buffer) => {
    if (bytes === 0) first = performance.now();
    bytes += data.length;
  });
  socket.once('end', () => {
    const seconds = (performance.now() - first) / 1000;
    process.stdout.write(`${JSON.stringify({ bytes, seconds })}\n`);
    clearTimeout(limit);
    socket.end();
  });
  socket.once('error', (error) => {
    process.stderr.write(`tcp-sink: ${error.message}\n`);
    process.exit(1);
  });
});
server.listen(port, host, () => process.stdout.write('listening\n'));
