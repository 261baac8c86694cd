import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.js';
import { SlotCollector, stateMessages } from './state-slots.js';

describe('shard state slots', () => {
  it('cuts arrays into chunk-sized messages and collects them back bit for bit', () => {
    const weights = Float32Array.from({ length: 10 }, (_, i) => i + 0.5);
    const m = Float32Array.from({ length: 10 }, (_, i) => -i);
    const messages = [...stateMessages(4, 'weights', weights, 3), ...stateMessages(4, 'm', m, 3)];
    expect(messages.map((x) => [x.slot, x.offset, x.values.length])).toStrictEqual([
      ['weights', 0, 3], ['weights', 3, 3], ['weights', 6, 3], ['weights', 9, 1],
      ['m', 0, 3], ['m', 3, 3], ['m', 6, 3], ['m', 9, 1],
    ]);
    const collector = new SlotCollector(4, ['weights', 'm'], 10);
    for (const message of messages.slice(0, -1)) collector.add(message);
    expect(collector.complete).toBe(false);
    expect(() => collector.take()).toThrow('state slot "m": 9 of 10 elements arrived');
    collector.add(messages.at(-1)!);
    expect(collector.complete).toBe(true);
    const arrays = collector.take();
    expect([...arrays.get('weights')!]).toStrictEqual([...weights]);
    expect([...arrays.get('m')!]).toStrictEqual([...m]);
  });

  it.each([
    [{ id: 5 }, 'shardState "weights" at 0: id 5, expected 1'],
    [{ slot: 'v' }, 'shardState "v" at 0: no such slot (expected one of weights)'],
    [{ offset: 2 }, 'shardState "weights" at 2: expected offset 0'],
    [{ values: new Float32Array(5) }, 'shardState "weights" at 0: 5 values run past the range\'s 4 elements'],
  ])('refuses a message that does not fit (%o)', (change, message) => {
    const collector = new SlotCollector(1, ['weights'], 4);
    const add = () => collector.add({ type: 'shardState', id: 1, slot: 'weights', offset: 0, values: new Float32Array(2), ...change });
    expect(add).toThrow(ProtocolError);
    expect(add).toThrow(message);
  });
});
