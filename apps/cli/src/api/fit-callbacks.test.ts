import { describe, expect, it } from 'vitest';
import type { EpochRecord, StepEvent } from '@dtrain/coordinator';
import { CallbackQueue, FitEvents, epochLogs } from './fit-callbacks.js';

const step = (epoch: number, s: number, accuracy?: number): StepEvent =>
  ({ step: s, epoch, version: s + 1, sampleCount: 64, loss: 1 / (s + 1), accuracy, wallSeconds: 0.01, end: 'complete', reports: [], activeWorkers: 2 }) as unknown as StepEvent;
const epochEnd = (epoch: number, extra: Partial<EpochRecord> = {}): EpochRecord =>
  ({ epoch, loss: 0.5 - epoch / 10, accuracy: undefined, valLoss: undefined, valAccuracy: undefined, samples: 128, samplesPerSecond: 1, wallSeconds: 1, appliedMin: 1, appliedMax: 1, ...extra }) as EpochRecord;

describe('CallbackQueue', () => {
  it('runs calls in order, one at a time, async ones included, on every callback object; drained waits for all', async () => {
    const order: string[] = [];
    let running = 0;
    const slow = {
      onBatchEnd: async (batch: number) => {
        running += 1;
        expect(running).toBe(1);
        await new Promise((r) => setTimeout(r, batch === 0 ? 20 : 1));
        order.push(`slow ${batch}`);
        running -= 1;
      },
    };
    const fast = { onBatchEnd: (batch: number) => void order.push(`fast ${batch}`) };
    const queue = new CallbackQueue([slow, fast]);
    queue.call('onBatchEnd', 0, {});
    queue.call('onBatchEnd', 1, {});
    // Queuing returns at once: the caller (the step loop) never waits.
    expect(order).toEqual([]);
    await queue.drained();
    expect(order).toEqual(['slow 0', 'fast 0', 'slow 1', 'fast 1']);
  });

  it('keeps the first error, drops later calls, and reports it', async () => {
    const seen: unknown[] = [];
    const calls: number[] = [];
    const queue = new CallbackQueue(
      {
        onBatchEnd: (b: number) => {
          calls.push(b);
          if (b === 1) throw new RangeError('boom');
        },
      },
      { onError: (e) => seen.push(e) },
    );
    for (let b = 0; b < 4; b += 1) queue.call('onBatchEnd', b, {});
    await queue.drained();
    expect(calls).toEqual([0, 1]);
    expect((queue.error?.value as Error).message).toBe('boom');
    expect(seen).toHaveLength(1);
  });

  it('calls afterEach after every call (where fit reads model.stopTraining)', async () => {
    let after = 0;
    const queue = new CallbackQueue({ onEpochEnd: () => undefined, onTrainEnd: () => undefined }, { afterEach: () => (after += 1) });
    queue.call('onEpochEnd', 0, {});
    queue.call('onTrainEnd', {});
    await queue.drained();
    expect(after).toBe(2);
  });
});

describe('FitEvents', () => {
  it('turns steps and epochs into tfjs callbacks in order, batch counted per epoch, and builds the History', async () => {
    const calls: string[] = [];
    const queue = new CallbackQueue({
      onTrainBegin: () => void calls.push('trainBegin'),
      onEpochBegin: (e) => void calls.push(`epochBegin ${e}`),
      onBatchEnd: (b, logs) => void calls.push(`batch ${b} ${JSON.stringify(logs)}`),
      onEpochEnd: (e, logs) => void calls.push(`epochEnd ${e} ${JSON.stringify(logs)}`),
      onTrainEnd: (logs) => void calls.push(`trainEnd ${JSON.stringify(logs)}`),
    });
    const events = new FitEvents(queue, { epochs: 2 });
    events.begin();
    events.stepCommitted(step(0, 0));
    events.stepCommitted(step(0, 1, 0.5));
    events.epochFinished(epochEnd(0, { valLoss: 0.7, valAccuracy: 0.6 }));
    events.stepCommitted(step(1, 2));
    events.epochFinished(epochEnd(1, { valLoss: 0.6, valAccuracy: 0.7 }));
    events.end();
    await queue.drained();
    expect(calls).toEqual([
      'trainBegin',
      'epochBegin 0',
      'batch 0 {"batch":0,"size":64,"loss":1}',
      'batch 1 {"batch":1,"size":64,"loss":0.5,"acc":0.5}',
      'epochEnd 0 {"loss":0.5,"val_loss":0.7,"val_acc":0.6}',
      'epochBegin 1',
      'batch 0 {"batch":0,"size":64,"loss":0.3333333333333333}',
      'epochEnd 1 {"loss":0.4,"val_loss":0.6,"val_acc":0.7}',
      'trainEnd {"loss":0.4,"val_loss":0.6,"val_acc":0.7}',
    ]);
    expect(events.history).toEqual({ epoch: [0, 1], history: { loss: [0.5, 0.4], val_loss: [0.7, 0.6], val_acc: [0.6, 0.7] }, params: { epochs: 2 } });
  });

  it('names epoch logs as tfjs does and leaves out what the job does not report', () => {
    expect(epochLogs({ loss: 1, accuracy: 0.5, valLoss: 2, valAccuracy: 0.25 })).toEqual({ loss: 1, acc: 0.5, val_loss: 2, val_acc: 0.25 });
    expect(epochLogs({ loss: 1, accuracy: undefined, valLoss: undefined, valAccuracy: undefined })).toEqual({ loss: 1 });
  });
});
