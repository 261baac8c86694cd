import { describe, expect, it } from 'vitest';
import { chunkFrameBytes } from './chunk-frame.js';
import { FrameSet, FrameSets } from './frame-sets.js';

/** Sends every frame of the set, each held until `complete` is called. */
function sendAll(set: FrameSet): { complete: () => void } {
  for (let i = 0; i < set.frames.length; i++) set.retain();
  return {
    complete: () => {
      for (let i = 0; i < set.frames.length; i++) set.release();
    },
  };
}

describe('FrameSet', () => {
  it('slices one allocation into frames of exactly the asked lengths, each 4-aligned, none overlapping', () => {
    const lengths = [33, 1, 40, 37, chunkFrameBytes(1024), 2, 0, 36];
    const set = new FrameSet(lengths);
    expect(set.frames.map((f) => f.byteLength)).toEqual(lengths);
    const buffer = set.frames[0]?.buffer;
    for (const frame of set.frames) {
      expect(frame.buffer).toBe(buffer);
      expect(frame.byteOffset % 4).toBe(0);
    }
    // Fill each frame with its own byte: no frame's bytes show up in another.
    set.frames.forEach((frame, i) => frame.fill(i + 1));
    set.frames.forEach((frame, i) => expect(frame.every((b) => b === i + 1)).toBe(true));
  });

  it('is in use while any send holds it, and an extra release does not pre-empt a later hold', () => {
    const set = new FrameSet([40]);
    expect(set.inUse).toBe(false);
    set.retain();
    set.retain();
    set.release();
    expect(set.inUse).toBe(true);
    set.release();
    expect(set.inUse).toBe(false);
    set.release();
    set.retain();
    expect(set.inUse).toBe(true);
  });
});

describe('FrameSets', () => {
  const lengths = [chunkFrameBytes(1024), chunkFrameBytes(1024), chunkFrameBytes(17)];

  it('hands out sets with the configured frame lengths', () => {
    const set = new FrameSets(lengths).acquire();
    expect(set.frames.map((f) => f.byteLength)).toEqual(lengths);
  });

  it('reuses two sets in steady state when every send completes before the next step', () => {
    const sets = new FrameSets(lengths);
    const handedOut: FrameSet[] = [];
    for (let step = 0; step < 100; step++) {
      const set = sets.acquire();
      handedOut.push(set);
      sendAll(set).complete();
    }
    expect(sets.allocated).toBe(2);
    // They alternate: the set just handed out is never handed out again at once.
    // (Identity compared directly: expect's matchers would walk the frames' bytes.)
    expect(handedOut.slice(1).every((set, i) => set !== handedOut[i])).toBe(true);
    expect(handedOut[2] === handedOut[0]).toBe(true);
  });

  it('reuses two sets when each step’s sends complete during the next step', () => {
    const sets = new FrameSets(lengths);
    let pending: { complete: () => void } | undefined;
    for (let step = 0; step < 100; step++) {
      const set = sets.acquire();
      pending?.complete();
      pending = sendAll(set);
    }
    expect(sets.allocated).toBe(2);
  });

  it('never hands out the last set again at once, even when nothing holds it (a shard may still send it to a joining worker)', () => {
    const sets = new FrameSets(lengths);
    const first = sets.acquire();
    expect(first.inUse).toBe(false);
    const second = sets.acquire();
    expect(second === first).toBe(false);
    expect(sets.acquire() === first).toBe(true);
    expect(sets.allocated).toBe(2);
  });

  it('makes a third set only while both others are held (the older by a send, the newer as the last handed out), then reuses all three', () => {
    const sets = new FrameSets(lengths);
    const a = sets.acquire();
    const slowA = sendAll(a);
    const b = sets.acquire();
    const sendB = sendAll(b);
    sendB.complete();
    // a is still being sent to a slow reader, b is the last handed out: a third.
    const c = sets.acquire();
    expect([c === a, c === b, sets.allocated]).toEqual([false, false, 3]);
    sendAll(c).complete();
    // b is free and not the last: reused, no fourth.
    expect(sets.acquire()).toBe(b);
    slowA.complete();
    expect(sets.acquire()).toBe(a);
    for (let step = 0; step < 50; step++) sendAll(sets.acquire()).complete();
    expect(sets.allocated).toBe(3);
  });

  it('does not make a third set when the older one was released in time', () => {
    const sets = new FrameSets(lengths);
    const a = sets.acquire();
    const sendA = sendAll(a);
    sets.acquire();
    sendA.complete();
    expect(sets.acquire()).toBe(a);
    expect(sets.allocated).toBe(2);
  });

  it('keeps each set’s bytes to itself: writing one set does not change another', () => {
    const sets = new FrameSets(lengths);
    const a = sets.acquire();
    const b = sets.acquire();
    expect(a.frames[0]?.buffer === b.frames[0]?.buffer).toBe(false);
    for (const frame of a.frames) frame.fill(0xaa);
    for (const frame of b.frames) frame.fill(0x55);
    expect(a.frames.every((f) => f.every((x) => x === 0xaa))).toBe(true);
  });
});
