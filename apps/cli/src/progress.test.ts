import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { EpochRecord, JobSummary } from '@dtrain/coordinator';
import { createProgress } from './progress.js';

const sink = (): { stream: Writable; text: () => string } => {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
};
const record: EpochRecord = { epoch: 0, loss: 0.5, accuracy: 0.8125, valLoss: 0.4, valAccuracy: 0.9, samples: 100, samplesPerSecond: 1234.4, wallSeconds: 2, appliedMin: 1, appliedMax: 1 };
const summary = { name: 'job', state: 'done', epochs: 1, steps: 4, samples: 100, wallSeconds: 2, samplesPerSecond: 50, workers: 2, final: { loss: 0.5, accuracy: 0.8125, valLoss: 0.4, valAccuracy: 0.9 } } as unknown as JobSummary;

describe('progress output', () => {
  it('json: one JSON object per epoch and nothing else', () => {
    const out = sink();
    const p = createProgress('json', out.stream, 3, 10);
    p.epochFinished?.(record);
    p.finish(summary);
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ epoch: 0, loss: 0.5, accuracy: 0.8125, valLoss: 0.4, valAccuracy: 0.9, samplesPerSecond: 1234.4 });
  });

  it('plain: one line per epoch, then the final line', () => {
    const out = sink();
    const p = createProgress('plain', out.stream, 3, 10);
    p.epochFinished?.(record);
    p.finish(summary);
    expect(out.text()).toBe(
      'epoch 1/3  loss 0.5000  acc 0.8125  val_loss 0.4000  val_acc 0.9000  1234 samples/s  0 workers  2.0 s\n' +
        'job done: 1 epochs, 4 steps, 100 samples in 2.0 s (50 samples/s), val_acc 0.9000\n',
    );
  });

  it('plain: no acc column when the job reports no training accuracy (regression)', () => {
    const out = sink();
    createProgress('plain', out.stream, 3, 10).epochFinished?.({ ...record, accuracy: undefined });
    expect(out.text()).toBe('epoch 1/3  loss 0.5000  val_loss 0.4000  val_acc 0.9000  1234 samples/s  0 workers  2.0 s\n');
  });

  it('quiet: only the final line', () => {
    const out = sink();
    const p = createProgress('quiet', out.stream, 3, 10);
    p.epochFinished?.(record);
    p.finish(summary);
    expect(out.text().split('\n').filter(Boolean)).toHaveLength(1);
  });
});
