import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { dtrain, freePort, syntheticJob, tempDir, waitFor, writeJob, getJson } from './harness.js';
import { FakeWorker } from './fake-worker.js';
import { PROTOCOL_VERSION, encodeMessage } from '@dtrain/protocol';

/**
 * Bad input over the socket (garbage bytes, a wrong protocol version, an
 * oversized frame, NaN gradients) closes or rejects that one connection or
 * push, and training goes on with the real worker to completion.
 */
describe('bad input over the socket', () => {
  const tmp = tempDir('bad-input');
  afterAll(() => tmp.cleanup());

  it('rejects each bad peer and the job still completes', async () => {
    const config = writeJob(
      tmp.dir,
      syntheticJob('bad-input', { training: { epochs: 3 }, dataset: { numSamples: 3000 }, cluster: { minWorkers: 1, maxWorkers: 8, stepTimeoutMs: 5_000 } }),
    );
    const port = await freePort();
    const token = 'bad-input-token';
    const out = join(tmp.dir, 'out');
    const coordinator = dtrain(['coordinator', '--config', config, '--port', String(port), '--host', '127.0.0.1', '--out', out, '--backend', 'wasm'], { DTRAIN_TOKEN: token });
    const url = `ws://127.0.0.1:${port}`;
    const worker = dtrain(['worker', '--coordinator', url, '--backend', 'wasm'], { DTRAIN_TOKEN: token });
    try {
      await waitFor('first committed step', async () => {
        const s = await getJson<{ step: number }>(`http://127.0.0.1:${port}/status`, token).catch(() => undefined);
        return s !== undefined && s.step > 2 ? s : undefined;
      });

      // 1. Garbage bytes: that connection is closed with a protocol error.
      const garbage = await FakeWorker.connect(url, token);
      garbage.send(Buffer.from('this is not a dtrain frame at all'));
      expect((await garbage.waitClosed()).code).toBe(4000);

      // 2. A hello from a future protocol version.
      const future = await FakeWorker.connect(url, token);
      future.send(encodeMessage({ type: 'hello', protocolVersion: PROTOCOL_VERSION + 1, token, capabilities: { backend: 'x', devices: [], host: 'h' } }));
      const closed = await future.waitClosed();
      expect(closed).toEqual({ code: 4000, reason: 'DTRAIN_PROTOCOL_VERSION' });

      // 3. A frame larger than any legitimate one (a gradient chunk of this model, or 1 MiB of control message): ws closes with 1009.
      const huge = await FakeWorker.connect(url, token);
      huge.send(Buffer.alloc(4 * 1024 * 1024));
      expect((await huge.waitClosed(30_000)).code).toBe(1009);

      // 4. NaN gradient chunks from a joined worker that reports them finite: rejected and
      //    counted, connection kept (the step they reached is run again without them).
      const nan = await FakeWorker.connect(url, token);
      nan.hello(token);
      const welcome = await nan.welcome();
      const asg = await nan.assignment();
      const gradients = new Float32Array((await nan.weights(welcome.version)).weights.length).fill(Number.NaN);
      nan.push(welcome.workerId, asg, gradients);
      await waitFor('non-finite rejection', async () => {
        const s = await getJson<{ rejected: Record<string, number> }>(`http://127.0.0.1:${port}/status`, token);
        return (s.rejected['non-finite'] ?? 0) >= 1 ? true : undefined;
      });
      nan.close();

      // 5. A wrong token on the upgrade gets HTTP 401 and no socket.
      await expect(FakeWorker.connect(url, 'wrong')).rejects.toThrow(/401/);

      expect(await coordinator.exited, coordinator.stderr).toEqual({ code: 0, signal: null });
      expect(await worker.exited).toEqual({ code: 0, signal: null });
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { state: string; epochs: number; history: { appliedMin: number; appliedMax: number }[] };
      expect(summary.state).toBe('done');
      expect(summary.epochs).toBe(3);
      for (const h of summary.history) expect([h.appliedMin, h.appliedMax]).toEqual([1, 1]);
    } finally {
      coordinator.child.kill('SIGKILL');
      worker.child.kill('SIGKILL');
      await Promise.all([coordinator.exited, worker.exited]);
    }
  });
});
