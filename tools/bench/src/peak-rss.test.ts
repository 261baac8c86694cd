import { describe, expect, it } from 'vitest';
import { parseVmHwm, readPeakRss } from './peak-rss.js';

describe('parseVmHwm', () => {
  it('reads the VmHWM line in bytes', () => {
    const status = ['Name:\tnode', 'VmPeak:\t 1234 kB', 'VmHWM:\t   51200 kB', 'VmRSS:\t   40960 kB'].join('\n');
    expect(parseVmHwm(status)).toBe(51200 * 1024);
  });
  it('is undefined without the line', () => {
    expect(parseVmHwm('Name:\tnode\nState:\tZ (zombie)\n')).toBeUndefined();
  });
});

describe('readPeakRss', () => {
  it.runIf(process.platform === 'linux')('is at least this process’s current RSS', () => {
    const rss = process.memoryUsage().rss;
    expect(readPeakRss(process.pid)).toBeGreaterThanOrEqual(rss * 0.9);
  });
  it('is undefined for a process that does not exist', () => {
    expect(readPeakRss(2 ** 30)).toBeUndefined();
  });
});
