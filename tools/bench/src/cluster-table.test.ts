import { describe, expect, it } from 'vitest';
import { clusterRow } from './cluster-bound.js';
import { boundTable, localStepsTable, trafficTable } from './cluster-table.js';

const row = (shards: number, steadyStepSeconds: number) =>
  clusterRow({ shards, workers: 4, modelBytes: 64e6, steps: 6, steadySteps: 5, steadyStepSeconds, steadyWallSeconds: steadyStepSeconds, meanStepSeconds: 9, processSeconds: 70 }, 62.5e6, 60e6);

describe('boundTable', () => {
  it('prints each K with its step time, both bounds and ratios, ordered by K, and says why a K did not run', () => {
    const lines = boundTable([row(2, 4.5), row(0, 11)], [{ shards: 1, reason: 'no dtrain ps' }]).split('\n');
    expect(lines[0]).toMatch(/^K shards\s+workers\s+model MB\s+steady steps\s+step s\s+bound s\s+÷ bound\s+≤ 1\.3x\s+bound s \(measured B\)\s+÷ bound\s+≤ 1\.3x$/);
    expect(lines.slice(2, 5).map((l) => l.split(/\s{2,}/))).toEqual([
      ['0 (in coordinator)', '4', '64.0', '5', '11.00', '8.19', '1.34x', 'no', '8.53', '1.29x', 'yes'],
      ['1', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-'],
      ['2', '4', '64.0', '5', '4.50', '4.10', '1.10x', 'yes', '4.27', '1.05x', 'yes'],
    ]);
    expect(lines.at(-1)).toBe('K = 1: not run: no dtrain ps');
  });
});

describe('trafficTable', () => {
  it('prints MB per step through each host, drops, the CPU shares and peak RSS', () => {
    const [, , line] = trafficTable([
      {
        shards: 1,
        steps: 4,
        coordinator: { sent: 4e6, received: 8e6 },
        shardHosts: [{ sent: 1024e6, received: 1028e6 }],
        workerHosts: [{ sent: 256e6, received: 260e6 }, { sent: 256e6, received: 264e6 }],
        dropped: 3,
        cpu: { busy: 0.456, processes: 0.3 },
        peakRssBytes: { coordinator: 200e6, shards: [300e6], workers: [250e6, 251e6] },
      },
    ]).split('\n');
    expect(line?.split(/\s{2,}/)).toEqual(['1', '1 / 2', '256 / 257', '64 / 65, 64 / 66', '3', '46% / 30%', '200', '300', '250 / 251']);
  });
});

describe('localStepsTable', () => {
  it("sets each K's local-SGD runs against its synchronous run in samples/s and bytes per sample, and leaves out a K without one", () => {
    const run = (shards: number, localSteps: number, roundSeconds: number, sentMB: number) => ({
      shards,
      localSteps,
      roundSeconds,
      samplesPerRound: localSteps * 64,
      workerSentBytesPerRound: sentMB * 1e6,
      workerReceivedBytesPerRound: (sentMB + 1) * 1e6,
    });
    const lines = localStepsTable([run(1, 16, 5.5, 8.4), run(1, 1, 5, 8.4), run(1, 4, 5.1, 8.4), run(2, 4, 3, 8.4)]).split('\n');
    expect(lines[0]).toMatch(/^K shards\s+H local steps\s+round s\s+samples\/round\s+samples\/s\s+speed-up\s+worker out \/ in MB per round\s+worker out bytes\/sample$/);
    expect(lines.slice(2).map((l) => l.split(/\s{2,}/))).toEqual([
      ['1', '1 (synchronous)', '5.00', '64', '13', '1.00x', '8.4 / 9.4', '1.000x'],
      ['1', '4', '5.10', '256', '50', '3.92x', '8.4 / 9.4', '0.250x'],
      ['1', '16', '5.50', '1024', '186', '14.55x', '8.4 / 9.4', '0.063x'],
    ]);
  });
});
