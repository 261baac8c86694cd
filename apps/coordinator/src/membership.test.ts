import { describe, expect, it } from 'vitest';
import { Membership, WorkerState } from './membership.js';
import type { Connection } from './transport.js';

let next = 1;
const connection = (): Connection => ({ id: next++, remoteAddress: 'test', send: () => undefined, sendParts: () => undefined, close: () => undefined, bufferedBytes: () => 0 });

describe('Membership', () => {
  it('hands out the smallest free ids and reuses them after a leave (bounded metric labels)', () => {
    const m = new Membership();
    const [a, b, c] = [connection(), connection(), connection()];
    expect([m.add(a).id, m.add(b).id, m.add(c).id]).toEqual([0, 1, 2]);
    m.remove(b);
    expect(m.add(connection()).id).toBe(1);
    expect(m.size).toBe(3);
  });

  it('gives a reconnecting worker its previous id when free', () => {
    const m = new Membership();
    const a = m.add(connection());
    const moved = m.reclaimId(a, 5);
    expect(moved.id).toBe(5);
    expect(m.byId(0)).toBeUndefined();
    expect(m.byConnection(a.connection)?.id).toBe(5);
    const b = m.add(connection());
    expect(m.reclaimId(b, 5).id).toBe(b.id);
  });

  it('counts workers by state and lists the active ones', () => {
    const m = new Membership();
    const ws = [connection(), connection(), connection(), connection()].map((c) => m.add(c));
    ws[0]!.state = WorkerState.joined;
    ws[1]!.state = WorkerState.training;
    ws[2]!.state = WorkerState.standby;
    expect(m.active().map((w) => w.id)).toEqual([0, 1]);
    expect(m.countByState()).toEqual({ connecting: 1, joined: 1, training: 1, standby: 1, draining: 0, gone: 0 });
    const gone = m.remove(ws[1]!.connection);
    expect(gone?.state).toBe(WorkerState.gone);
    expect(m.remove(ws[1]!.connection)).toBeUndefined();
  });
});
