import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, encodeMessage } from '@dtrain/protocol';
import { parseJobConfig } from './config/index.js';
import { Coordinator } from './coordinator.js';
import { loadJobData } from './job-data.js';
import { silentLogger } from './logger.js';
import type { Connection } from './transport.js';

/** A connection that records the size of every frame the coordinator queues on it. */
function fakeConnection(id: number, sent: number[]): Connection {
  return {
    id,
    remoteAddress: `test:${id}`,
    send: (frame) => sent.push(frame.byteLength),
    sendParts: (parts) => sent.push(parts.reduce((n, part) => n + part.byteLength, 0)),
    close: () => undefined,
    bufferedBytes: () => 0,
  };
}

describe('Coordinator traffic accounting', () => {
  it('reports every frame it sends or receives outside the step loop (welcome and its weights, heartbeats, standby, errors) to observer.bytes', async () => {
    const config = parseJobConfig(
      {
        name: 'traffic',
        model: { layers: [{ type: 'dense', units: 8, activation: 'relu', inputShape: [4] }, { type: 'dense', units: 2, activation: 'softmax' }] },
        dataset: { format: 'synthetic', numSamples: 100, featureShape: [4], numClasses: 2, seed: 1 },
        training: { epochs: 1, batchSize: 10, optimizer: { name: 'sgd', learningRate: 0.1 }, loss: 'sparseCategoricalCrossentropy' },
        cluster: { maxWorkers: 1 },
      },
      tmpdir(),
      'test',
    );
    const counted = { in: 0, out: 0 };
    const coordinator = await Coordinator.create({
      config,
      data: await loadJobData(config),
      outDir: join(tmpdir(), 'dtrain-traffic-unused'),
      backend: 'cpu',
      resume: false,
      log: silentLogger,
      observer: { bytes: (direction, n) => (counted[direction] += n) },
    });
    const sent: number[] = [];
    const received: number[] = [];
    const deliver = (connection: Connection, frame: Uint8Array): void => {
      received.push(frame.byteLength);
      coordinator.onMessage(connection, frame);
    };
    const hello = encodeMessage({ type: 'hello', protocolVersion: PROTOCOL_VERSION, token: '', capabilities: { backend: 'cpu', devices: [], host: 'h' } });
    const [a, b, c] = [1, 2, 3].map((id) => fakeConnection(id, sent)) as [Connection, Connection, Connection];
    for (const connection of [a, b, c]) coordinator.onOpen(connection);
    deliver(a, hello); // welcome, then the weights as one chunk frame
    deliver(a, encodeMessage({ type: 'heartbeat', kind: 'ping', sentAt: 1 })); // pong
    deliver(b, hello); // standby: cluster.maxWorkers=1
    deliver(c, new Uint8Array([1, 2, 3])); // garbage: error frame, connection closed

    const weightBytes = (4 * 8 + 8 + 8 * 2 + 2) * 4;
    expect(sent.length).toBe(5);
    expect(sent[1]).toBe(32 + weightBytes);
    expect(counted.out).toBe(sent.reduce((x, y) => x + y, 0));
    expect(counted.in).toBe(received.reduce((x, y) => x + y, 0));
  });
});
