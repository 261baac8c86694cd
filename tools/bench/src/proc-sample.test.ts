import { describe, expect, it } from 'vitest';
import { halfFrame } from './half-handshake.js';
import { median, parseVmRss, sampleProc } from './proc-sample.js';

describe('proc samples', () => {
  it('reads VmRSS in bytes, and nothing from a text without it', () => {
    expect(parseVmRss('Name:\tnode\nVmHWM:\t  300000 kB\nVmRSS:\t  183456 kB\nThreads:\t11\n')).toBe(183456 * 1024);
    expect(parseVmRss('Name:\tnode\n')).toBeUndefined();
  });

  it('samples this process: RSS and open fds', () => {
    const s = sampleProc(process.pid);
    expect(s?.rssBytes).toBeGreaterThan(1e6);
    expect(s?.fds).toBeGreaterThanOrEqual(3);
    expect(sampleProc(2 ** 22 + 1)).toBeUndefined();
  });

  it('takes the median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('half a WebSocket frame', () => {
  it('announces a masked binary frame of 4096 bytes and carries half of it', () => {
    const f = halfFrame(4096);
    expect(f[0]).toBe(0x82);
    expect(f[1]).toBe(0x80 | 126);
    expect(f.readUInt16BE(2)).toBe(4096);
    expect(f.length).toBe(8 + 2048);
  });
});
