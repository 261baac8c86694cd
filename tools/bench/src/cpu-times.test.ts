import { describe, expect, it } from 'vitest';
import { cpuShares, parseCpuTimes, parseProcessTicks } from './cpu-times.js';

const STAT = ['cpu  100 5 50 800 20 3 2 0 7 0', 'cpu0 50 2 25 400 10 1 1 0 0 0', 'intr 12345'].join('\n');

describe('parseCpuTimes', () => {
  it('reads the aggregate cpu line: idle and iowait are not busy, guest time is not counted twice', () => {
    expect(parseCpuTimes(STAT)).toEqual({ busy: 160, total: 980 });
  });

  it('is undefined without an aggregate line', () => {
    expect(parseCpuTimes('cpu0 1 2 3 4 5\n')).toBeUndefined();
    expect(parseCpuTimes('cpu  1 x 3 4 5\n')).toBeUndefined();
  });
});

describe('parseProcessTicks', () => {
  it('adds utime and stime, counting fields after the command name even when it holds spaces and parentheses', () => {
    const stat = '4242 (node (a) b) S 1 4242 4242 0 -1 4194560 100 0 0 0 731 69 0 0 20 0 11 0 5000 1000000 2000 18446744073709551615';
    expect(parseProcessTicks(stat)).toBe(800);
  });

  it('is undefined for text that is not a stat line', () => {
    expect(parseProcessTicks('')).toBeUndefined();
    expect(parseProcessTicks('12 (x) S 1')).toBeUndefined();
  });
});

describe('cpuShares', () => {
  it('is the busy share and the processes\' share of the ticks between two snapshots', () => {
    const shares = cpuShares({ machine: { busy: 100, total: 1000 }, processTicks: 40 }, { machine: { busy: 250, total: 1200 }, processTicks: 140 });
    expect(shares?.busy).toBeCloseTo(0.75, 12);
    expect(shares?.processes).toBeCloseTo(0.5, 12);
  });

  it('is undefined without both readings of the machine or without time between them', () => {
    expect(cpuShares(undefined, { machine: { busy: 1, total: 2 }, processTicks: 0 })).toBeUndefined();
    expect(cpuShares({ machine: undefined, processTicks: 0 }, { machine: { busy: 1, total: 2 }, processTicks: 0 })).toBeUndefined();
    expect(cpuShares({ machine: { busy: 1, total: 2 }, processTicks: 0 }, { machine: { busy: 1, total: 2 }, processTicks: 0 })).toBeUndefined();
  });
});
