import { describe, expect, it } from 'vitest';
import { combineObservers } from './combine-observers.js';
import type { CoordinatorObserver } from './observer.js';

/** An observer implementing every hook, recording each call as [hook, ...args]. */
function recorder(calls: unknown[][]): Required<CoordinatorObserver> {
  return {
    jobState: (...a) => calls.push(['jobState', ...a]),
    stepCommitted: (...a) => calls.push(['stepCommitted', ...a]),
    epochFinished: (...a) => calls.push(['epochFinished', ...a]),
    gradientRejected: (...a) => calls.push(['gradientRejected', ...a]),
    dataErrors: (...a) => calls.push(['dataErrors', ...a]),
    workerStates: (...a) => calls.push(['workerStates', ...a]),
    bytes: (...a) => calls.push(['bytes', ...a]),
    checkpointWritten: (...a) => calls.push(['checkpointWritten', ...a]),
    shardStep: (...a) => calls.push(['shardStep', ...a]),
    stepNotFinite: (...a) => calls.push(['stepNotFinite', ...a]),
    workerEvent: (...a) => calls.push(['workerEvent', ...a]),
    rolledBack: (...a) => calls.push(['rolledBack', ...a]),
  };
}

describe('combineObservers', () => {
  it('forwards every hook with its arguments to each observer, in order', () => {
    const a: unknown[][] = [];
    const b: unknown[][] = [];
    const combined = combineObservers(recorder(a), {}, recorder(b));
    const step = { step: 1 } as never;
    const epoch = { epoch: 0 } as never;
    const counts = { joined: 1 } as never;
    combined.jobState?.('running');
    combined.stepCommitted?.(step);
    combined.epochFinished?.(epoch);
    combined.gradientRejected?.('stale', 2);
    combined.dataErrors?.('decode', 1);
    combined.workerStates?.(counts);
    combined.bytes?.('out', 10);
    combined.checkpointWritten?.(5, '/d');
    const shard = { shard: 0 } as never;
    combined.shardStep?.(shard);
    combined.stepNotFinite?.({ step: 6, epoch: 0 });
    combined.workerEvent?.('evicted', 3, 'straggler');
    combined.rolledBack?.(20, 'shard 1 lost');
    const expected = [
      ['jobState', 'running'],
      ['stepCommitted', step],
      ['epochFinished', epoch],
      ['gradientRejected', 'stale', 2],
      ['dataErrors', 'decode', 1],
      ['workerStates', counts],
      ['bytes', 'out', 10],
      ['checkpointWritten', 5, '/d'],
      ['shardStep', shard],
      ['stepNotFinite', { step: 6, epoch: 0 }],
      ['workerEvent', 'evicted', 3, 'straggler'],
      ['rolledBack', 20, 'shard 1 lost'],
    ];
    expect(a).toEqual(expected);
    expect(b).toEqual(expected);
  });

  it('covers every hook of CoordinatorObserver', () => {
    const hooks = Object.keys(recorder([])).sort();
    expect(Object.keys(combineObservers()).sort()).toEqual(hooks);
  });
});
