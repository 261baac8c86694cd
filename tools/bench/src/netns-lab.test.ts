import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { LAB_SUBNET, NetnsLab, labUnavailable, removeStaleLabs, tbfArgs } from './netns-lab.js';
import { expectSuccess } from './watched-process.js';

describe('tbfArgs', () => {
  it('gives tbf 10 ms of traffic as its bucket, at least 64 KiB, and 50 ms of queue', () => {
    expect(tbfArgs(500e6)).toEqual(['tbf', 'rate', '500000000bit', 'burst', '625000', 'latency', '50ms']);
    expect(tbfArgs(10e6)).toEqual(['tbf', 'rate', '10000000bit', 'burst', '65536', 'latency', '50ms']);
  });
});

const unavailable = labUnavailable();
if (unavailable !== undefined) {
  console.warn(`\n*** SKIPPED: the netns lab test (namespaces, bridge, veth, tc tbf) did NOT run: ${unavailable}. .ci/run runs as root. ***\n`);
}

/** Seconds the sender writes in the shaping test. */
const SEND_SECONDS = 1;
const RATE = 50e6;

// One connection from a to b: b prints the bytes that arrived and the seconds from the first to the end.
const SINK = `
const s = require('node:net').createServer((c) => {
  let n = 0; let t0 = 0;
  c.on('data', (d) => { if (n === 0) t0 = performance.now(); n += d.length; });
  c.on('end', () => { console.log(n + ' ' + (performance.now() - t0) / 1000); s.close(); });
});
s.listen(5300, '0.0.0.0', () => console.log('listening'));
`;
const SENDER = `
const c = require('node:net').connect(5300, process.argv[1], () => {
  const block = Buffer.alloc(1 << 20, 1); const end = Date.now() + ${SEND_SECONDS * 1000};
  const pump = () => { while (Date.now() < end) { if (!c.write(block)) return void c.once('drain', pump); } c.end(); };
  pump();
});
`;

describe.skipIf(unavailable !== undefined)('NetnsLab', () => {
  const lab = new NetnsLab({ rateBitsPerSecond: RATE });
  afterAll(() => lab.destroy());

  it('joins hosts on a shaped bridge: they reach each other, no faster than the rate, and the shapers count the bytes', async () => {
    const a = lab.addHost('a', 1);
    const b = lab.addHost('b', 2);
    expect([a.address, b.address]).toEqual([`${LAB_SUBNET}.1`, `${LAB_SUBNET}.2`]);
    let listening!: () => void;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    const sink = lab.spawn(b, ['-e', SINK], { label: 'sink', timeoutMs: 30_000, onStdoutLine: (l) => l === 'listening' && listening() });
    await ready;
    const sender = lab.spawn(a, ['-e', SENDER, b.address], { label: 'sender', timeoutMs: 30_000 });
    const [sunk] = await Promise.all([sink.exited.then(expectSuccess), sender.exited.then(expectSuccess)]);
    const [bytes = 0, seconds = 0] = (sunk.stdout.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
    expect(bytes).toBeGreaterThan(1e6);
    // The shaper's rate, plus its 64 KiB bucket, less what TCP/IP headers take of it.
    expect((bytes * 8) / seconds).toBeLessThan(RATE * 1.01);
    expect(lab.shaperCounters(a).sentBytes).toBeGreaterThanOrEqual(bytes);
    expect(lab.shaperCounters(b).receivedBytes).toBeGreaterThanOrEqual(bytes);
  });

  it('adds nothing to the namespace it was made from, and leaves nothing behind', () => {
    const here = spawnSync('ip', ['-o', 'addr', 'show'], { encoding: 'utf8' }).stdout + spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
    expect(here).not.toContain(`${LAB_SUBNET}.`);
    expect(here).not.toMatch(/: p-[ab]@/);
    const made = lab.namespaces;
    expect(made.length).toBe(3);
    lab.destroy();
    lab.destroy();
    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]);
    expect(left.filter((ns) => made.includes(ns ?? ''))).toEqual([]);
    expect(removeStaleLabs().filter((ns) => ns.includes(`-${process.pid}-`))).toEqual([]);
  });
});
