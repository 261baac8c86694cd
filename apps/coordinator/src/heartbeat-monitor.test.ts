import { describe, expect, it } from 'vitest';
import { HeartbeatMonitor } from './heartbeat-monitor.js';
import { Membership, WorkerState } from './membership.js';
import type { Connection } from './transport.js';

const connection = (id: number): Connection => ({ id, remoteAddress: 't', send: () => undefined, sendParts: () => undefined, close: () => undefined, bufferedBytes: () => 0 });

describe('HeartbeatMonitor', () => {
  const setUp = () => {
    const membership = new Membership();
    const pinged: number[] = [];
    const evicted: string[] = [];
    const monitor = new HeartbeatMonitor({
      intervalMs: 1000,
      timeoutMs: 3000,
      membership,
      ping: (w) => pinged.push(w.id),
      evict: (w, reason) => {
        evicted.push(`${w.id}: ${reason}`);
        membership.remove(w.connection);
      },
    });
    return { membership, pinged, evicted, monitor };
  };

  it('pings everyone and evicts an idle worker silent past the timeout, but not one that is computing', () => {
    const { membership, pinged, evicted, monitor } = setUp();
    const t0 = Date.now();
    const idle = membership.add(connection(1));
    const busy = membership.add(connection(2));
    const fresh = membership.add(connection(3));
    idle.state = WorkerState.joined;
    busy.state = WorkerState.training;
    fresh.state = WorkerState.joined;
    for (const w of [idle, busy, fresh]) w.lastSeen = t0;
    monitor.tick(t0 + 1000);
    monitor.tick(t0 + 2000);
    fresh.lastSeen = t0 + 2500;
    monitor.tick(t0 + 3000);
    expect(evicted).toEqual([]);
    monitor.tick(t0 + 4000);
    expect(evicted).toEqual(['0: silent for 4000 ms (cluster.heartbeatTimeoutMs=3000)']);
    expect(pinged.slice(-2)).toEqual([1, 2]);
  });

  it('does not blame workers for a pause of its own process', () => {
    const { membership, evicted, monitor } = setUp();
    const t0 = Date.now();
    const w = membership.add(connection(1));
    w.state = WorkerState.joined;
    w.lastSeen = t0;
    monitor.tick(t0 + 1000);
    monitor.tick(t0 + 9000); // the event loop was blocked for 8 s
    expect(evicted).toEqual([]);
    expect(w.lastSeen).toBe(t0 + 9000);
  });
});
